// Upsampling: nearest and (bi/tri)linear resizing over 1 to 3 spatial dims. Both are linear
// maps of the input, so each has a gradient op (the adjoint) whose own VJP is the forward op
// again, and gradients of any order need no further ops.
#include "nabla/ops/upsample.h"

#include <cmath>

#include "ops/common.h"

namespace nabla {
namespace {

// Attributes: size (the output's spatial dims), scale0..scale2 (the user's scale factor per
// spatial dim, when one was given: PyTorch samples with it rather than with the size ratio),
// align_corners (linear); the gradient ops add input_shape.
constexpr const char* kScaleNames[] = {"scale0", "scale1", "scale2"};

Attrs with(Attrs a, const char* name, AttrValue value) {
  a.set(name, std::move(value));
  return a;
}

Attrs without(const Attrs& a, const char* name) {
  Attrs out;
  for (const Attr& e : a.items())
    if (std::strcmp(e.name, name) != 0) out.set(e.name, e.value);
  return out;
}

OutputMeta resized_infer(std::span<const Tensor> in, const Attrs& a) {
  const Shape& x = in[0].shape();
  Shape y{x[0], x[1]};
  for (int64_t e : a.get<Shape>("size")) y.push_back(e);
  return {y, in[0].dtype()};
}

OutputMeta gradient_infer(std::span<const Tensor> in, const Attrs& a) {
  return {a.get<Shape>("input_shape"), in[0].dtype()};
}

const OpDef& nearest_backward_op();
const OpDef& linear_backward_op();

const OpDef& kNearest = define_op({
    .name = "upsample_nearest",
    .infer = resized_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(nearest_backward_op(), {c.cotangent},
                    with(c.attrs, "input_shape", c.inputs[0].shape()))};
    },
});

// g (the resized shape) -> the input's shape: each g added to the element it was copied from.
const OpDef& kNearestBackward = define_op({
    .name = "upsample_nearest_backward",
    .infer = gradient_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(kNearest, {c.cotangent}, without(c.attrs, "input_shape"))};
    },
});

const OpDef& kLinear = define_op({
    .name = "upsample_linear",
    .infer = resized_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(linear_backward_op(), {c.cotangent},
                    with(c.attrs, "input_shape", c.inputs[0].shape()))};
    },
});

// g -> the input's shape: each g spread over its source elements with the forward's weights.
const OpDef& kLinearBackward = define_op({
    .name = "upsample_linear_backward",
    .infer = gradient_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {apply(kLinear, {c.cotangent}, without(c.attrs, "input_shape"))};
    },
});

const OpDef& nearest_backward_op() { return kNearestBackward; }
const OpDef& linear_backward_op() { return kLinearBackward; }

[[noreturn]] void fail_value(const char* op, const std::string& what) {
  throw ValueError(std::string("[") + op + "] " + what);
}

const char* layout(std::size_t spatial) {
  return spatial == 1 ? "(N, C, L)" : spatial == 2 ? "(N, C, H, W)" : "(N, C, D, H, W)";
}

std::string scales_str(const std::vector<double>& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    std::string e = std::to_string(v[i]);
    e.erase(e.find_last_not_of('0') + 1);
    if (e.back() == '.') e.pop_back();
    s += e;
  }
  return s + ")";
}

// spatial: the number of spatial dims the op needs (0: any of 1 to 3).
Attrs resize_attrs(const char* op, const Tensor& x, const UpsampleOptions& o, bool linear,
                   std::size_t spatial) {
  const Shape& xs = x.shape();
  if (spatial ? xs.size() != spatial + 2 : (xs.size() < 3 || xs.size() > 5)) {
    std::string want =
        spatial ? layout(spatial) : std::string(layout(1)) + ", " + layout(2) + " or " + layout(3);
    throw ShapeError(std::string("[") + op + "] expects an input " + want + ", got " +
                     shape_str(xs));
  }
  if (!is_floating(x.dtype()))
    throw DTypeError(std::string("[") + op + "] needs a floating input, got " +
                     dtype_str(x.dtype()));
  std::size_t n = xs.size() - 2;
  for (std::size_t i = 2; i < xs.size(); ++i)
    if (xs[i] == 0)
      throw ShapeError(std::string("[") + op + "] cannot resize the empty input " + shape_str(xs));
  if (o.align_corners && !linear) fail_value(op, "align_corners applies to the linear modes only");
  if (o.size.empty() == o.scale_factor.empty())
    fail_value(op, o.size.empty() ? "needs a size or a scale_factor"
                                  : "takes a size or a scale_factor, not both");
  Attrs a;
  Shape size;
  if (!o.size.empty()) {
    size = o.size.size() == 1 ? Shape(n, o.size[0]) : o.size;
    if (size.size() != n)
      fail_value(op, "size " + shape_str(o.size) + " needs 1 or " + std::to_string(n) +
                         " values for the input " + shape_str(xs));
    for (int64_t e : size)
      if (e <= 0) fail_value(op, "size must be positive, got " + shape_str(o.size));
  } else {
    std::vector<double> scale = o.scale_factor;
    if (scale.size() == 1) scale.assign(n, scale[0]);
    if (scale.size() != n)
      fail_value(op, "scale_factor " + scales_str(o.scale_factor) + " needs 1 or " +
                         std::to_string(n) + " values for the input " + shape_str(xs));
    for (std::size_t i = 0; i < n; ++i) {
      if (!(scale[i] > 0) || !std::isfinite(scale[i]))
        fail_value(op, "scale_factor must be positive, got " + scales_str(o.scale_factor));
      size.push_back(int64_t(std::floor(double(xs[2 + i]) * scale[i])));
      if (size.back() <= 0)
        fail_value(op, "scale_factor " + scales_str(o.scale_factor) +
                           " gives an empty output for the input " + shape_str(xs));
      a.set(kScaleNames[i], scale[i]);
    }
  }
  a.set("size", size);
  if (linear) a.set("align_corners", o.align_corners);
  return a;
}

Tensor linear(const char* op, const Tensor& x, const UpsampleOptions& o, std::size_t spatial) {
  return apply(kLinear, {x}, resize_attrs(op, x, o, true, spatial));
}

}  // namespace

Tensor upsample_nearest(const Tensor& x, const UpsampleOptions& o) {
  return apply(kNearest, {x}, resize_attrs("upsample_nearest", x, o, false, 0));
}
Tensor upsample_linear(const Tensor& x, const UpsampleOptions& o) {
  return linear("upsample_linear", x, o, 1);
}
Tensor upsample_bilinear(const Tensor& x, const UpsampleOptions& o) {
  return linear("upsample_bilinear", x, o, 2);
}
Tensor upsample_trilinear(const Tensor& x, const UpsampleOptions& o) {
  return linear("upsample_trilinear", x, o, 3);
}

}  // namespace nabla
