// Convolution: conv2d and conv3d, each with its two gradients; every op's VJP is written with
// the other two of its rank, so gradients of any order work. The forward ops take an optional
// bias as a third input (oneDNN adds it while writing the output, saving a pass over it).
// Transposed convolutions are the input-gradient ops applied to their input.
#include "nabla/ops/conv.h"

#include "nabla/ops/binary.h"
#include "nabla/ops/join.h"
#include "nabla/ops/reduce.h"
#include "ops/common.h"

namespace nabla {
namespace {

// The three ops of one spatial rank, picked by the rank of the ops' first input (4 or 5).
struct ConvFamily {
  const OpDef *forward, *input_grad, *weight_grad;
};
const ConvFamily& family(int64_t ndim);

// Attributes shared by the three ops, each with one value per spatial dim: stride,
// padding (all the leading pads, then all the trailing ones), dilation; and groups.
Attrs conv_attrs(const Attrs& a) {
  return {{"stride", a.get<Shape>("stride")},
          {"padding", a.get<Shape>("padding")},
          {"dilation", a.get<Shape>("dilation")},
          {"groups", a.get<int64_t>("groups")}};
}

// Gradients for inputs that autograd would drop are not computed: a network's first
// convolution never needs its (large) input gradient.
bool wants_grad(const Tensor& t) { return t.requires_grad() || !t.is_concrete(); }

Attrs with(Attrs a, const char* name, Shape value) {
  a.set(name, std::move(value));
  return a;
}

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
  return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

Shape conv_out_shape(const Shape& x, const Shape& w, const Attrs& a) {
  const Shape &s = a.get<Shape>("stride"), &p = a.get<Shape>("padding"),
              &d = a.get<Shape>("dilation");
  std::size_t r = x.size() - 2;
  Shape y{x[0], w[0]};
  for (std::size_t i = 0; i < r; ++i)
    y.push_back(out_size(x[2 + i], w[2 + i], s[i], d[i], p[i], p[r + i]));
  return y;
}

OutputMeta conv_infer(std::span<const Tensor> in, const Attrs& a) {
  return {conv_out_shape(in[0].shape(), in[1].shape(), a), in[0].dtype()};
}

std::vector<Tensor> conv_vjp(const VjpContext& c) {
  const Tensor &x = c.inputs[0], &w = c.inputs[1];
  const ConvFamily& f = family(x.ndim());
  Attrs a = conv_attrs(c.attrs);
  Tensor gx, gw;
  if (wants_grad(x)) gx = apply(*f.input_grad, {c.cotangent, w}, with(a, "input_shape", x.shape()));
  if (wants_grad(w))
    gw = apply(*f.weight_grad, {x, c.cotangent}, with(a, "weight_shape", w.shape()));
  if (c.inputs.size() < 3) return {gx, gw};
  Tensor gb;
  if (wants_grad(c.inputs[2])) {
    Shape axes{0};
    for (int64_t i = 2; i < x.ndim(); ++i) axes.push_back(i);
    gb = sum(c.cotangent, axes);
  }
  return {gx, gw, gb};
}

// input gradient gx = backward_input(g, w): linear in g (its adjoint is the convolution) and
// in w (the weight gradient of the conv whose input is the cotangent).
OutputMeta input_grad_infer(std::span<const Tensor> in, const Attrs& a) {
  Shape s = a.get<Shape>("input_shape");
  if (s[0] == -1) s[0] = in[0].shape()[0];  // a dynamic batch: the cotangent's, when run
  return {s, in[0].dtype()};
}

std::vector<Tensor> input_grad_vjp(const VjpContext& c) {
  const Tensor &g = c.inputs[0], &w = c.inputs[1];
  const ConvFamily& f = family(g.ndim());
  Attrs a = conv_attrs(c.attrs);
  Tensor gg, gw;
  if (wants_grad(g)) gg = apply(*f.forward, {c.cotangent, w}, a);
  if (wants_grad(w))
    gw = apply(*f.weight_grad, {c.cotangent, g}, with(a, "weight_shape", w.shape()));
  return {gg, gw};
}

// weight gradient gw = backward_weight(x, g).
OutputMeta weight_grad_infer(std::span<const Tensor> in, const Attrs& a) {
  return {a.get<Shape>("weight_shape"), in[0].dtype()};
}

std::vector<Tensor> weight_grad_vjp(const VjpContext& c) {
  const Tensor &x = c.inputs[0], &g = c.inputs[1];
  const ConvFamily& f = family(x.ndim());
  Attrs a = conv_attrs(c.attrs);
  Tensor gx, gg;
  if (wants_grad(x)) gx = apply(*f.input_grad, {g, c.cotangent}, with(a, "input_shape", x.shape()));
  if (wants_grad(g)) gg = apply(*f.forward, {x, c.cotangent}, a);
  return {gx, gg};
}

const OpDef& kConv2d =
    define_op({.name = "conv2d", .arity = -1, .infer = conv_infer, .vjp = conv_vjp});  // x, w[, b]
const OpDef& kConvInputGrad = define_op({.name = "conv2d_backward_input",
                                         .arity = 2,
                                         .infer = input_grad_infer,
                                         .vjp = input_grad_vjp});
const OpDef& kConvWeightGrad = define_op({.name = "conv2d_backward_weight",
                                          .arity = 2,
                                          .infer = weight_grad_infer,
                                          .vjp = weight_grad_vjp});
const OpDef& kConv3d =
    define_op({.name = "conv3d", .arity = -1, .infer = conv_infer, .vjp = conv_vjp});
const OpDef& kConv3dInputGrad = define_op({.name = "conv3d_backward_input",
                                           .arity = 2,
                                           .infer = input_grad_infer,
                                           .vjp = input_grad_vjp});
const OpDef& kConv3dWeightGrad = define_op({.name = "conv3d_backward_weight",
                                            .arity = 2,
                                            .infer = weight_grad_infer,
                                            .vjp = weight_grad_vjp});

const ConvFamily& family(int64_t ndim) {
  static const ConvFamily f2{&kConv2d, &kConvInputGrad, &kConvWeightGrad};
  static const ConvFamily f3{&kConv3d, &kConv3dInputGrad, &kConv3dWeightGrad};
  return ndim == 5 ? f3 : f2;
}

[[noreturn]] void shape_error(const char* op, const std::string& what) {
  throw ShapeError(std::string("[") + op + "] " + what);
}
[[noreturn]] void value_error(const char* op, const std::string& what) {
  throw ValueError(std::string("[") + op + "] " + what);
}

// v must hold n values, each at least min.
void check_values(const char* op, const char* name, const Shape& v, std::size_t n, int64_t min) {
  if (v.size() != n)
    value_error(op,
                std::string(name) + " needs " + std::to_string(n) + " values, got " + shape_str(v));
  for (int64_t e : v)
    if (e < min)
      value_error(op, std::string(name) + " must be " + (min > 0 ? "positive" : "non-negative") +
                          ", got " + shape_str(v));
}

void check_dtypes(const char* op, const Tensor& a, const Tensor& b) {
  if (!is_floating(a.dtype()) || a.dtype() != b.dtype())
    throw DTypeError(std::string("[") + op + "] needs floating tensors of one dtype, got " +
                     dtype_str(a.dtype()) + " and " + dtype_str(b.dtype()));
}

// The options of any rank r: stride, dilation r values; padding r (each side) or 2r.
struct ConvSpec {
  Shape stride, padding, dilation;
  int64_t groups;
  bool same;
};

ConvSpec spec(const Conv2dOptions& o) {
  return {o.stride, o.padding, o.dilation, o.groups, o.same};
}
ConvSpec spec(const Conv3dOptions& o) {
  return {o.stride, o.padding, o.dilation, o.groups, o.same};
}

// Validates everything but the tensors and returns the ops' attributes.
// r: the number of spatial dims.
Attrs make_attrs(const char* op, std::size_t r, const Shape& x, const Shape& w, const ConvSpec& o) {
  const char* xs = r == 3 ? "(N, C, D, H, W)" : "(N, C, H, W)";
  const char* ws = r == 3 ? "(O, C / groups, KD, KH, KW)" : "(O, C / groups, KH, KW)";
  if (x.size() != r + 2)
    shape_error(op, std::string("expects an input ") + xs + ", got " + shape_str(x));
  if (w.size() != r + 2)
    shape_error(op, std::string("expects a weight ") + ws + ", got " + shape_str(w));
  check_values(op, "stride", o.stride, r, 1);
  check_values(op, "dilation", o.dilation, r, 1);
  if (o.groups < 1) value_error(op, "groups must be positive, got " + std::to_string(o.groups));
  if (x[1] != w[1] * o.groups)
    shape_error(op, "input has " + std::to_string(x[1]) + " channels but weight expects " +
                        std::to_string(w[1] * o.groups) + " (groups=" + std::to_string(o.groups) +
                        "): input " + shape_str(x) + ", weight " + shape_str(w));
  if (w[0] % o.groups != 0)
    shape_error(op, "weight " + shape_str(w) + " has " + std::to_string(w[0]) +
                        " output channels, not divisible by groups=" + std::to_string(o.groups));
  Shape pad(2 * r);
  if (o.same) {
    for (int64_t s : o.stride)
      if (s != 1) value_error(op, "padding 'same' needs stride 1, got " + shape_str(o.stride));
    for (std::size_t i = 0; i < r; ++i) {
      int64_t total = o.dilation[i] * (w[2 + i] - 1);
      pad[i] = total / 2;
      pad[r + i] = total - total / 2;
    }
  } else if (o.padding.size() == r) {
    for (std::size_t i = 0; i < r; ++i) pad[i] = pad[r + i] = o.padding[i];
  } else if (o.padding.size() == 2 * r) {
    pad = o.padding;
  } else {
    value_error(op, "padding needs " + std::to_string(r) + " or " + std::to_string(2 * r) +
                        " values, got " + shape_str(o.padding));
  }
  for (int64_t p : pad)
    if (p < 0) value_error(op, "padding must be non-negative, got " + shape_str(o.padding));
  for (std::size_t i = 0; i < r; ++i) {
    int64_t padded = x[2 + i] + pad[i] + pad[r + i], span = o.dilation[i] * (w[2 + i] - 1) + 1;
    if (span > padded)
      shape_error(op, "kernel " + shape_str(w) + " (dilation " + shape_str(o.dilation) +
                          ") is larger than the padded input " + shape_str(x) + " (padding " +
                          shape_str(pad) + ")");
  }
  return {{"stride", o.stride}, {"padding", pad}, {"dilation", o.dilation}, {"groups", o.groups}};
}

Conv2dOptions to_2d(const Conv1dOptions& o) {
  return {.stride = {1, o.stride},
          .padding = {0, o.padding},
          .dilation = {1, o.dilation},
          .groups = o.groups,
          .same = o.same};
}

void check_bias(const char* op, const Tensor& bias, int64_t channels, const Tensor& w) {
  if (bias.ndim() != 1 || bias.size(0) != channels)
    shape_error(op, "bias " + shape_str(bias.shape()) + " does not match " +
                        std::to_string(channels) + " output channels of weight " +
                        shape_str(w.shape()));
  check_dtypes(op, w, bias);
}

// Adds bias (C) to y (N, C, ...) after checking it against the output channels.
Tensor add_bias(const char* op, const Tensor& y, const Tensor& bias, const Tensor& w) {
  if (!bias.defined()) return y;
  check_bias(op, bias, y.size(1), w);
  Shape s(std::size_t(y.ndim()), 1);
  s[1] = bias.size(0);
  return y + bias.reshape(s);
}

Tensor conv_nd(const char* op, std::size_t r, const Tensor& x, const Tensor& w, const Tensor& bias,
               const ConvSpec& o) {
  Attrs a = make_attrs(op, r, x.shape(), w.shape(), o);
  check_dtypes(op, x, w);
  const OpDef& conv = *family(int64_t(r) + 2).forward;
  if (!bias.defined()) return apply(conv, {x, w}, std::move(a));
  check_bias(op, bias, w.size(0), w);
  return apply(conv, {x, w, bias}, std::move(a));
}

Tensor backward_input_nd(const char* op, std::size_t r, const Tensor& g, const Tensor& w,
                         const Shape& input_shape, const ConvSpec& o) {
  Attrs a = make_attrs(op, r, input_shape, w.shape(), o);
  check_dtypes(op, g, w);
  Shape want = conv_out_shape(input_shape, w.shape(), a);
  if (g.shape() != want)
    shape_error(op, "gradient " + shape_str(g.shape()) + " should be " + shape_str(want) +
                        " for input " + shape_str(input_shape) + " and weight " +
                        shape_str(w.shape()));
  return apply(*family(int64_t(r) + 2).input_grad, {g, w},
               with(std::move(a), "input_shape", input_shape));
}

Tensor backward_weight_nd(const char* op, std::size_t r, const Tensor& x, const Tensor& g,
                          const Shape& weight_shape, const ConvSpec& o) {
  Attrs a = make_attrs(op, r, x.shape(), weight_shape, o);
  check_dtypes(op, x, g);
  Shape want = conv_out_shape(x.shape(), weight_shape, a);
  if (g.shape() != want)
    shape_error(op, "gradient " + shape_str(g.shape()) + " should be " + shape_str(want) +
                        " for input " + shape_str(x.shape()) + " and weight " +
                        shape_str(weight_shape));
  return apply(*family(int64_t(r) + 2).weight_grad, {x, g},
               with(std::move(a), "weight_shape", weight_shape));
}

// The transposed convolution of x (N, C, spatial...) by w (C, O / groups, kernel...) is the
// input gradient of the convolution by w whose input has the transposed output's size.
// An output_padding of at least the stride (allowed below the dilation, as in PyTorch) makes
// that convolution's output longer than x: x gets zeros at the end to match.
Tensor conv_transpose_2d(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
                         const ConvTranspose2dOptions& o) {
  if (x.ndim() != 4) shape_error(op, "expects an input (N, C, H, W), got " + shape_str(x.shape()));
  if (w.ndim() != 4)
    shape_error(op, "expects a weight (C, O / groups, KH, KW), got " + shape_str(w.shape()));
  check_values(op, "stride", o.stride, 2, 1);
  check_values(op, "dilation", o.dilation, 2, 1);
  check_values(op, "padding", o.padding, 2, 0);
  check_values(op, "output_padding", o.output_padding, 2, 0);
  if (o.groups < 1) value_error(op, "groups must be positive, got " + std::to_string(o.groups));
  if (x.size(1) != w.size(0))
    shape_error(op, "input has " + std::to_string(x.size(1)) + " channels but weight expects " +
                        std::to_string(w.size(0)) + ": input " + shape_str(x.shape()) +
                        ", weight " + shape_str(w.shape()));
  if (w.size(0) % o.groups != 0)
    shape_error(op, "weight " + shape_str(w.shape()) + " has " + std::to_string(w.size(0)) +
                        " input channels, not divisible by groups=" + std::to_string(o.groups));
  check_dtypes(op, x, w);
  Shape out{x.size(0), w.size(1) * o.groups};
  std::vector<int64_t> extra;  // pad pairs, last dim first
  for (int i = 1; i >= 0; --i) {
    int64_t s = o.stride[i], d = o.dilation[i], op_ = o.output_padding[i];
    if (op_ >= s && op_ >= d)
      value_error(op, "output_padding " + shape_str(o.output_padding) +
                          " must be smaller than the stride " + shape_str(o.stride) +
                          " or the dilation " + shape_str(o.dilation));
    extra.insert(extra.end(), {0, op_ / s});
  }
  for (int i = 0; i < 2; ++i) {
    int64_t n = (x.size(2 + i) - 1) * o.stride[i] - 2 * o.padding[i] +
                o.dilation[i] * (w.size(2 + i) - 1) + o.output_padding[i] + 1;
    if (n < 1)
      shape_error(op, "input " + shape_str(x.shape()) + " and weight " + shape_str(w.shape()) +
                          " give an empty output (padding " + shape_str(o.padding) + ")");
    out.push_back(n);
  }
  Tensor g = extra[1] || extra[3] ? pad(x, extra) : x;
  Tensor y =
      backward_input_nd(op, 2, g, w, out, {o.stride, o.padding, o.dilation, o.groups, false});
  return add_bias(op, y, bias, w);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Conv2dOptions o) {
  return conv_nd("conv2d", 2, x, w, bias, spec(o));
}

Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& bias, Conv3dOptions o) {
  return conv_nd("conv3d", 3, x, w, bias, spec(o));
}

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& bias, Conv1dOptions o) {
  if (x.ndim() != 3)
    shape_error("conv1d", "expects an input (N, C, L), got " + shape_str(x.shape()));
  if (w.ndim() != 3)
    shape_error("conv1d", "expects a weight (O, C / groups, K), got " + shape_str(w.shape()));
  return conv2d(x.unsqueeze(2), w.unsqueeze(2), bias, to_2d(o)).squeeze(2);
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias,
                        ConvTranspose2dOptions o) {
  return conv_transpose_2d("conv_transpose2d", x, w, bias, o);
}

Tensor conv_transpose1d(const Tensor& x, const Tensor& w, const Tensor& bias,
                        ConvTranspose1dOptions o) {
  const char* op = "conv_transpose1d";
  if (x.ndim() != 3) shape_error(op, "expects an input (N, C, L), got " + shape_str(x.shape()));
  if (w.ndim() != 3)
    shape_error(op, "expects a weight (C, O / groups, K), got " + shape_str(w.shape()));
  ConvTranspose2dOptions o2{.stride = {1, o.stride},
                            .padding = {0, o.padding},
                            .output_padding = {0, o.output_padding},
                            .groups = o.groups,
                            .dilation = {1, o.dilation}};
  return conv_transpose_2d(op, x.unsqueeze(2), w.unsqueeze(2), bias, o2).squeeze(2);
}

Tensor conv2d_backward_input(const Tensor& g, const Tensor& w, const Shape& input_shape,
                             Conv2dOptions o) {
  return backward_input_nd("conv2d_backward_input", 2, g, w, input_shape, spec(o));
}

Tensor conv2d_backward_weight(const Tensor& x, const Tensor& g, const Shape& weight_shape,
                              Conv2dOptions o) {
  return backward_weight_nd("conv2d_backward_weight", 2, x, g, weight_shape, spec(o));
}

Tensor conv3d_backward_input(const Tensor& g, const Tensor& w, const Shape& input_shape,
                             Conv3dOptions o) {
  return backward_input_nd("conv3d_backward_input", 3, g, w, input_shape, spec(o));
}

Tensor conv3d_backward_weight(const Tensor& x, const Tensor& g, const Shape& weight_shape,
                              Conv3dOptions o) {
  return backward_weight_nd("conv3d_backward_weight", 3, x, g, weight_shape, spec(o));
}

}  // namespace nabla
