// Pooling: max, average and adaptive average over NCHW images, each with a gradient op
// whose own VJP closes the loop (the gradient of a linear map is its adjoint), so pooling
// layers take gradients of any order.
#include "nabla/ops/conv.h"
#include "ops/common.h"

namespace nabla {
namespace {

// Attributes: kernel {h, w}, stride {h, w}, padding {h, w} (each side).
Attrs window_attrs(const Attrs& a) {
  return {{"kernel", a.get<Shape>("kernel")},
          {"stride", a.get<Shape>("stride")},
          {"padding", a.get<Shape>("padding")}};
}

Attrs with(Attrs a, const char* name, AttrValue value) {
  a.set(name, std::move(value));
  return a;
}

Shape pooled_shape(const Shape& x, const Attrs& a) {
  const Shape &k = a.get<Shape>("kernel"), &s = a.get<Shape>("stride"),
              &p = a.get<Shape>("padding");
  return {x[0], x[1], (x[2] + 2 * p[0] - k[0]) / s[0] + 1, (x[3] + 2 * p[1] - k[1]) / s[1] + 1};
}

OutputMeta pooled_infer(std::span<const Tensor> in, const Attrs& a) {
  return {pooled_shape(in[0].shape(), a), in[0].dtype()};
}

const OpDef& max_backward_op();
const OpDef& max_select_op();
const OpDef& avg_backward_op();
const OpDef& adaptive_backward_op();

const OpDef& kMaxPool = define_op({
    .name = "max_pool2d",
    .infer = pooled_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(max_backward_op(), {c.cotangent, c.inputs[0]}, window_attrs(c.attrs))};
    },
});

// (g, x) -> x's shape: each g added at the first maximum of its window in x.
const OpDef& kMaxPoolBackward = define_op({
    .name = "max_pool2d_backward",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      return {in[1].shape(), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(max_select_op(), {c.cotangent, c.inputs[1]}, c.attrs), Tensor()};
    },
});

// (t, x) -> pooled shape: t read at the first maximum of each window of x; the adjoint of
// max_pool2d_backward in its first input.
const OpDef& kMaxPoolSelect = define_op({
    .name = "max_pool2d_select",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {pooled_shape(in[1].shape(), a), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(kMaxPoolBackward, {c.cotangent, c.inputs[1]}, c.attrs), Tensor()};
    },
});

const OpDef& kAvgPool = define_op({
    .name = "avg_pool2d",
    .infer = pooled_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(avg_backward_op(), {c.cotangent},
                    with(c.attrs, "input_shape", c.inputs[0].shape()))};
    },
});

const OpDef& kAvgPoolBackward = define_op({
    .name = "avg_pool2d_backward",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {a.get<Shape>("input_shape"), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      Attrs a = window_attrs(c.attrs);
      a.set("count_include_pad", c.attrs.get<bool>("count_include_pad"));
      return {apply(kAvgPool, {c.cotangent}, std::move(a))};
    },
});

const OpDef& kAdaptiveAvgPool = define_op({
    .name = "adaptive_avg_pool2d",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      const Shape &x = in[0].shape(), &o = a.get<Shape>("output_size");
      return {{x[0], x[1], o[0], o[1]}, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(adaptive_backward_op(), {c.cotangent}, {{"input_shape", c.inputs[0].shape()}})};
    },
});

const OpDef& kAdaptiveAvgPoolBackward = define_op({
    .name = "adaptive_avg_pool2d_backward",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {a.get<Shape>("input_shape"), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Shape& g = c.inputs[0].shape();
      return {apply(kAdaptiveAvgPool, {c.cotangent}, {{"output_size", Shape{g[2], g[3]}}})};
    },
});

const OpDef& max_backward_op() { return kMaxPoolBackward; }
const OpDef& max_select_op() { return kMaxPoolSelect; }
const OpDef& avg_backward_op() { return kAvgPoolBackward; }
const OpDef& adaptive_backward_op() { return kAdaptiveAvgPoolBackward; }

[[noreturn]] void fail_shape(const char* op, const std::string& what) {
  throw ShapeError(std::string("[") + op + "] " + what);
}
[[noreturn]] void fail_value(const char* op, const std::string& what) {
  throw ValueError(std::string("[") + op + "] " + what);
}

void check_image(const char* op, const Tensor& x) {
  if (x.ndim() != 4) fail_shape(op, "expects an input (N, C, H, W), got " + shape_str(x.shape()));
  if (!is_floating(x.dtype()))
    throw DTypeError(std::string("[") + op + "] needs a floating input, got " +
                     dtype_str(x.dtype()));
}

// One value stands for both dims.
Shape pair(const char* op, const char* name, Shape v, int64_t min) {
  if (v.size() == 1) v = {v[0], v[0]};
  if (v.size() != 2)
    fail_value(op, std::string(name) + " needs 1 or 2 values, got " + shape_str(v));
  for (int64_t e : v)
    if (e < min)
      fail_value(op, std::string(name) + " must be " + (min > 0 ? "positive" : "non-negative") +
                         ", got " + shape_str(v));
  return v;
}

Attrs pool_attrs(const char* op, const Shape& x, Shape kernel, Shape stride, Shape padding) {
  kernel = pair(op, "kernel", std::move(kernel), 1);
  stride = stride.empty() ? kernel : pair(op, "stride", std::move(stride), 1);
  padding = pair(op, "padding", std::move(padding), 0);
  for (int i = 0; i < 2; ++i) {
    if (2 * padding[i] > kernel[i])
      fail_value(op, "padding " + shape_str(padding) + " should be at most half the kernel " +
                         shape_str(kernel));
    if (x[2 + i] + 2 * padding[i] < kernel[i])
      fail_shape(op, "kernel " + shape_str(kernel) + " is larger than the padded input " +
                         shape_str(x) + " (padding " + shape_str(padding) + ")");
  }
  return {{"kernel", kernel}, {"stride", stride}, {"padding", padding}};
}

void check_grad_shape(const char* op, const Tensor& g, const Shape& want) {
  if (g.shape() != want)
    fail_shape(op, "gradient " + shape_str(g.shape()) + " should be " + shape_str(want));
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Shape kernel, Shape stride, Shape padding) {
  check_image("max_pool2d", x);
  return apply(kMaxPool, {x},
               pool_attrs("max_pool2d", x.shape(), std::move(kernel), std::move(stride),
                          std::move(padding)));
}

Tensor avg_pool2d(const Tensor& x, Shape kernel, Shape stride, Shape padding,
                  bool count_include_pad) {
  check_image("avg_pool2d", x);
  Attrs a =
      pool_attrs("avg_pool2d", x.shape(), std::move(kernel), std::move(stride), std::move(padding));
  a.set("count_include_pad", count_include_pad);
  return apply(kAvgPool, {x}, std::move(a));
}

Tensor adaptive_avg_pool2d(const Tensor& x, Shape output_size) {
  check_image("adaptive_avg_pool2d", x);
  Shape o = pair("adaptive_avg_pool2d", "output_size", std::move(output_size), 1);
  const Shape& s = x.shape();
  if (s[2] == 0 || s[3] == 0)
    fail_shape("adaptive_avg_pool2d", "cannot pool the empty image " + shape_str(s));
  // Equal windows are a plain average pool (oneDNN's for float32).
  if (s[2] % o[0] == 0 && s[3] % o[1] == 0) return avg_pool2d(x, {s[2] / o[0], s[3] / o[1]});
  return apply(kAdaptiveAvgPool, {x}, {{"output_size", o}});
}

Tensor max_pool2d_backward(const Tensor& g, const Tensor& x, Shape kernel, Shape stride,
                           Shape padding) {
  check_image("max_pool2d_backward", x);
  Attrs a = pool_attrs("max_pool2d_backward", x.shape(), std::move(kernel), std::move(stride),
                       std::move(padding));
  check_grad_shape("max_pool2d_backward", g, pooled_shape(x.shape(), a));
  if (g.dtype() != x.dtype())
    throw DTypeError("[max_pool2d_backward] gradient is " + dtype_str(g.dtype()) +
                     " but input is " + dtype_str(x.dtype()));
  return apply(kMaxPoolBackward, {g, x}, std::move(a));
}

Tensor avg_pool2d_backward(const Tensor& g, const Shape& input_shape, Shape kernel, Shape stride,
                           Shape padding, bool count_include_pad) {
  const char* op = "avg_pool2d_backward";
  if (input_shape.size() != 4)
    fail_shape(op, "expects an input shape (N, C, H, W), got " + shape_str(input_shape));
  check_image(op, g);
  Attrs a = pool_attrs(op, input_shape, std::move(kernel), std::move(stride), std::move(padding));
  check_grad_shape(op, g, pooled_shape(input_shape, a));
  a.set("count_include_pad", count_include_pad);
  a.set("input_shape", input_shape);
  return apply(kAvgPoolBackward, {g}, std::move(a));
}

}  // namespace nabla
