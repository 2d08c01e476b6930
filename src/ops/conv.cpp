// Convolution: conv2d and its two gradients, each an op whose VJP is written with the
// other two, so gradients of any order work. Bias is a broadcast add outside the op.
#include "nabla/ops/conv.h"

#include "nabla/ops/binary.h"
#include "ops/common.h"

namespace nabla {
namespace {

// Defined below: the VJPs refer to one another.
const OpDef& conv_input_grad_op();
const OpDef& conv_weight_grad_op();

// Attributes shared by the three ops: stride {h, w}, padding {top, left, bottom, right},
// dilation {h, w}, groups.
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
  return {x[0], w[0], out_size(x[2], w[2], s[0], d[0], p[0], p[2]),
          out_size(x[3], w[3], s[1], d[1], p[1], p[3])};
}

const OpDef& kConv2d = define_op({
    .name = "conv2d",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {conv_out_shape(in[0].shape(), in[1].shape(), a), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &x = c.inputs[0], &w = c.inputs[1];
      Attrs a = conv_attrs(c.attrs);
      Tensor gx, gw;
      if (wants_grad(x))
        gx = apply(conv_input_grad_op(), {c.cotangent, w}, with(a, "input_shape", x.shape()));
      if (wants_grad(w))
        gw = apply(conv_weight_grad_op(), {x, c.cotangent}, with(a, "weight_shape", w.shape()));
      return {gx, gw};
    },
});

// input gradient gx = conv2d_backward_input(g, w): linear in g (its adjoint is conv2d) and
// in w (the weight gradient of the conv whose input is the cotangent).
const OpDef& kConvInputGrad = define_op({
    .name = "conv2d_backward_input",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {a.get<Shape>("input_shape"), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &g = c.inputs[0], &w = c.inputs[1];
      Attrs a = conv_attrs(c.attrs);
      Tensor gg, gw;
      if (wants_grad(g)) gg = apply(kConv2d, {c.cotangent, w}, a);
      if (wants_grad(w))
        gw = apply(conv_weight_grad_op(), {c.cotangent, g}, with(a, "weight_shape", w.shape()));
      return {gg, gw};
    },
});

// weight gradient gw = conv2d_backward_weight(x, g).
const OpDef& kConvWeightGrad = define_op({
    .name = "conv2d_backward_weight",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {a.get<Shape>("weight_shape"), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &x = c.inputs[0], &g = c.inputs[1];
      Attrs a = conv_attrs(c.attrs);
      Tensor gx, gg;
      if (wants_grad(x))
        gx = apply(kConvInputGrad, {g, c.cotangent}, with(a, "input_shape", x.shape()));
      if (wants_grad(g)) gg = apply(kConv2d, {x, c.cotangent}, a);
      return {gx, gg};
    },
});

[[noreturn]] void shape_error(const char* op, const std::string& what) {
  throw ShapeError(std::string("[") + op + "] " + what);
}
[[noreturn]] void value_error(const char* op, const std::string& what) {
  throw ValueError(std::string("[") + op + "] " + what);
}

void check_pair(const char* op, const char* name, const Shape& v, int64_t min) {
  if (v.size() != 2) value_error(op, std::string(name) + " needs 2 values, got " + shape_str(v));
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

// Validates everything but the tensors and returns the ops' attributes.
Attrs make_attrs(const char* op, const Shape& x, const Shape& w, const Conv2dOptions& o) {
  if (x.size() != 4) shape_error(op, "expects an input (N, C, H, W), got " + shape_str(x));
  if (w.size() != 4)
    shape_error(op, "expects a weight (O, C / groups, KH, KW), got " + shape_str(w));
  check_pair(op, "stride", o.stride, 1);
  check_pair(op, "dilation", o.dilation, 1);
  if (o.groups < 1) value_error(op, "groups must be positive, got " + std::to_string(o.groups));
  if (x[1] != w[1] * o.groups)
    shape_error(op, "input has " + std::to_string(x[1]) + " channels but weight expects " +
                        std::to_string(w[1] * o.groups) + " (groups=" + std::to_string(o.groups) +
                        "): input " + shape_str(x) + ", weight " + shape_str(w));
  if (w[0] % o.groups != 0)
    shape_error(op, "weight " + shape_str(w) + " has " + std::to_string(w[0]) +
                        " output channels, not divisible by groups=" + std::to_string(o.groups));
  Shape pad;
  if (o.same) {
    if (o.stride[0] != 1 || o.stride[1] != 1)
      value_error(op, "padding 'same' needs stride 1, got " + shape_str(o.stride));
    int64_t th = o.dilation[0] * (w[2] - 1), tw = o.dilation[1] * (w[3] - 1);
    pad = {th / 2, tw / 2, th - th / 2, tw - tw / 2};
  } else if (o.padding.size() == 2) {
    pad = {o.padding[0], o.padding[1], o.padding[0], o.padding[1]};
  } else if (o.padding.size() == 4) {
    pad = o.padding;
  } else {
    value_error(op, "padding needs 2 or 4 values, got " + shape_str(o.padding));
  }
  for (int64_t p : pad)
    if (p < 0) value_error(op, "padding must be non-negative, got " + shape_str(o.padding));
  for (int i = 0; i < 2; ++i) {
    int64_t padded = x[2 + i] + pad[i] + pad[2 + i], span = o.dilation[i] * (w[2 + i] - 1) + 1;
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

const OpDef& conv_input_grad_op() { return kConvInputGrad; }
const OpDef& conv_weight_grad_op() { return kConvWeightGrad; }

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Conv2dOptions o) {
  Attrs a = make_attrs("conv2d", x.shape(), w.shape(), o);
  check_dtypes("conv2d", x, w);
  Tensor y = apply(kConv2d, {x, w}, std::move(a));
  if (!bias.defined()) return y;
  if (bias.ndim() != 1 || bias.size(0) != w.size(0))
    shape_error("conv2d", "bias " + shape_str(bias.shape()) + " does not match " +
                              std::to_string(w.size(0)) + " output channels of weight " +
                              shape_str(w.shape()));
  check_dtypes("conv2d", x, bias);
  return y + bias.reshape({1, bias.size(0), 1, 1});
}

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& bias, Conv1dOptions o) {
  if (x.ndim() != 3)
    shape_error("conv1d", "expects an input (N, C, L), got " + shape_str(x.shape()));
  if (w.ndim() != 3)
    shape_error("conv1d", "expects a weight (O, C / groups, K), got " + shape_str(w.shape()));
  return conv2d(x.unsqueeze(2), w.unsqueeze(2), bias, to_2d(o)).squeeze(2);
}

Tensor conv2d_backward_input(const Tensor& g, const Tensor& w, const Shape& input_shape,
                             Conv2dOptions o) {
  Attrs a = make_attrs("conv2d_backward_input", input_shape, w.shape(), o);
  check_dtypes("conv2d_backward_input", g, w);
  Shape want = conv_out_shape(input_shape, w.shape(), a);
  if (g.shape() != want)
    shape_error("conv2d_backward_input",
                "gradient " + shape_str(g.shape()) + " should be " + shape_str(want) +
                    " for input " + shape_str(input_shape) + " and weight " + shape_str(w.shape()));
  return apply(kConvInputGrad, {g, w}, with(std::move(a), "input_shape", input_shape));
}

Tensor conv2d_backward_weight(const Tensor& x, const Tensor& g, const Shape& weight_shape,
                              Conv2dOptions o) {
  Attrs a = make_attrs("conv2d_backward_weight", x.shape(), weight_shape, o);
  check_dtypes("conv2d_backward_weight", x, g);
  Shape want = conv_out_shape(x.shape(), weight_shape, a);
  if (g.shape() != want)
    shape_error("conv2d_backward_weight", "gradient " + shape_str(g.shape()) + " should be " +
                                              shape_str(want) + " for input " +
                                              shape_str(x.shape()) + " and weight " +
                                              shape_str(weight_shape));
  return apply(kConvWeightGrad, {x, g}, with(std::move(a), "weight_shape", weight_shape));
}

}  // namespace nabla
