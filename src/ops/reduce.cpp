// Reductions: sum, mean, prod, max/min, argmax/argmin, any/all, var/std, norm; and one_hot.
#include "nabla/ops/reduce.h"

#include <cmath>
#include <limits>
#include <optional>

#include "nabla/ops/binary.h"
#include "nabla/ops/shape_like.h"
#include "nabla/ops/unary.h"
#include "ops/reduce_common.h"

namespace nabla {
namespace {

const Shape& axes_of(const Attrs& a) { return a.get<Shape>("axes"); }
bool keepdims_of(const Attrs& a) { return a.get<bool>("keepdims"); }

OutputMeta reduce_infer(std::span<const Tensor> in, const Attrs& a, DType out) {
  return {reduced_shape(in[0].shape(), axes_of(a), keepdims_of(a)), out};
}
DType float_or_int64(DType t) { return is_floating(t) ? t : int64; }

// The cotangent reshaped to broadcast against the input.
Tensor grad_in(const VjpContext& c) {
  return unreduce(c.cotangent, c.inputs[0].shape(), axes_of(c.attrs), keepdims_of(c.attrs));
}
Tensor out_in(const VjpContext& c) {
  return unreduce(c.output, c.inputs[0].shape(), axes_of(c.attrs), keepdims_of(c.attrs));
}

const OpDef& kSum = define_op({
    .name = "sum",
    .flags = kReduction,
    .infer = [](std::span<const Tensor> in,
                const Attrs& a) { return reduce_infer(in, a, float_or_int64(in[0].dtype())); },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      // Over a dynamic dim the size is known only when the graph runs: broadcast to x's.
      return {is_dynamic(x.shape()) ? broadcast_like(grad_in(c), x)
                                    : grad_in(c).broadcast_to(x.shape())};
    },
});

// d prod / dx_i = product of the others, exact with zeros: with z the zero mask and c the
// zero count, it is prod(x + z) / x_i where c == 0, prod(x + z) at the zero where c == 1,
// and 0 where c > 1.
const OpDef& kProd = define_op({
    .name = "prod",
    .flags = kReduction,
    .infer = [](std::span<const Tensor> in,
                const Attrs& a) { return reduce_infer(in, a, float_or_int64(in[0].dtype())); },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      const Shape& axes = axes_of(c.attrs);
      Tensor z = compare_mask(x, weak_scalar(0), "eq");
      Tensor xs = x + z;
      Tensor p = prod(xs, axes, true);
      Tensor count = sum(z, axes, true);
      Tensor none = compare_mask(count, weak_scalar(0), "eq");
      Tensor one = compare_mask(count, weak_scalar(1), "eq");
      return {grad_in(c) * (none * p / xs + one * z * p)};
    },
});

// Extrema share the gradient evenly among the positions that reach them.
std::vector<Tensor> extremum_vjp(const VjpContext& c) {
  const Tensor& x = c.inputs[0];
  Tensor mask = compare_mask(x, out_in(c), "eq");
  Tensor count = sum(mask, axes_of(c.attrs), true);
  return {grad_in(c) * mask / count};
}

const OpDef& kMax = define_op({
    .name = "max",
    .flags = kReduction,
    .infer = [](std::span<const Tensor> in,
                const Attrs& a) { return reduce_infer(in, a, in[0].dtype()); },
    .vjp = extremum_vjp,
});
const OpDef& kMin = define_op({
    .name = "min",
    .flags = kReduction,
    .infer = [](std::span<const Tensor> in,
                const Attrs& a) { return reduce_infer(in, a, in[0].dtype()); },
    .vjp = extremum_vjp,
});

OutputMeta index_infer(std::span<const Tensor> in, const Attrs& a) {
  return reduce_infer(in, a, int64);
}
const OpDef& kArgmax = define_op({.name = "argmax", .flags = kReduction, .infer = index_infer});
const OpDef& kArgmin = define_op({.name = "argmin", .flags = kReduction, .infer = index_infer});

OutputMeta bool_infer(std::span<const Tensor> in, const Attrs& a) {
  return reduce_infer(in, a, bool_);
}
const OpDef& kAny = define_op({.name = "any", .flags = kReduction, .infer = bool_infer});
const OpDef& kAll = define_op({.name = "all", .flags = kReduction, .infer = bool_infer});

// The count minus the correction (at least 0): a number when the reduced dims are fixed, else
// (over a dynamic dim) a tensor counted when the graph runs.
std::optional<double> fixed_dof(const VjpContext& c) {
  const Shape& shape = c.inputs[0].shape();
  if (reduces_dynamic_dim(shape, axes_of(c.attrs))) return std::nullopt;
  int64_t n = reduced_count(shape, axes_of(c.attrs));
  return double(std::max<int64_t>(0, n - c.attrs.get<int64_t>("correction")));
}
Tensor counted_dof(const VjpContext& c) {
  const Tensor& x = c.inputs[0];
  return relu(count_elements(x, axes_of(c.attrs), x.dtype()) -
              double(c.attrs.get<int64_t>("correction")));
}
OutputMeta same_infer(std::span<const Tensor> in, const Attrs& a) {
  return reduce_infer(in, a, in[0].dtype());
}

const OpDef& kVar = define_op({
    .name = "var",
    .flags = kReduction,
    .infer = same_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      std::optional<double> n = fixed_dof(c);
      Tensor scale = n ? weak_scalar(2.0 / *n) : 2.0 / counted_dof(c);
      return {grad_in(c) * (x - mean(x, axes_of(c.attrs), true)) * scale};
    },
});
const OpDef& kStd = define_op({
    .name = "std",
    .flags = kReduction,
    .infer = same_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      std::optional<double> n = fixed_dof(c);
      Tensor dof = n ? weak_scalar(*n) : counted_dof(c);
      return {grad_in(c) * (x - mean(x, axes_of(c.attrs), true)) / (out_in(c) * dof)};
    },
});

const OpDef& kNorm = define_op({
    .name = "norm",
    .flags = kReduction,
    .infer = same_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      double p = c.attrs.get<double>("p");
      Tensor g = grad_in(c), s = sign_of(x);
      if (p == 1) return {g * s};
      Tensor n = out_in(c);
      if (p == 2) return {g * x / (n + compare_mask(n, weak_scalar(0), "eq"))};
      Tensor mask = compare_mask(x * s, n, "eq");  // |x| == max |x|
      return {g * s * mask / sum(mask, axes_of(c.attrs), true)};
    },
});

const OpDef& kOneHot = define_op({
    .name = "one_hot",
    .infer =
        [](std::span<const Tensor> in, const Attrs& a) {
          Shape s = in[0].shape();
          s.push_back(a.get<int64_t>("num_classes"));
          return OutputMeta{s, int64};
        },
});

Attrs reduce_attrs(const Shape& axes, bool keepdims) {
  return {{"axes", axes}, {"keepdims", keepdims}};
}

Tensor extremum(const OpDef& op, const Tensor& x, const Shape& axes, bool keepdims) {
  Shape ax = normalize_axes(axes, x.ndim(), op.name.c_str());
  if (reduced_count(x.shape(), ax) == 0 && numel_of(reduced_shape(x.shape(), ax, keepdims)) > 0)
    throw ValueError("[" + op.name + "] cannot reduce over an empty set of " +
                     shape_str(x.shape()) + " (no identity)");
  return apply(op, {x}, reduce_attrs(ax, keepdims));
}

Tensor arg_extremum(const OpDef& op, const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  Shape ax = axis ? normalize_axes({*axis}, x.ndim(), op.name.c_str())
                  : normalize_axes({}, x.ndim(), op.name.c_str());
  if (reduced_count(x.shape(), ax) == 0 &&
      (!axis || numel_of(reduced_shape(x.shape(), ax, keepdims)) > 0))
    throw ValueError("[" + op.name +
                     "] cannot take the index of an extremum of an empty set, input " +
                     shape_str(x.shape()));
  if (x.dtype() == bool_) return apply(op, {x.astype(uint8)}, reduce_attrs(ax, keepdims));
  return apply(op, {x}, reduce_attrs(ax, keepdims));
}

Tensor floating(const Tensor& x) { return is_floating(x.dtype()) ? x : x.astype(float32); }

Tensor moment(const OpDef& op, const Tensor& x, const Shape& axes, int64_t correction,
              bool keepdims) {
  Shape ax = normalize_axes(axes, x.ndim(), op.name.c_str());
  if (correction < 0)
    throw ValueError("[" + op.name + "] correction must be >= 0, got " +
                     std::to_string(correction));
  Attrs a = reduce_attrs(ax, keepdims);
  a.set("correction", correction);
  return apply(op, {floating(x)}, std::move(a));
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& axes, bool keepdims) {
  return apply(kSum, {x}, reduce_attrs(normalize_axes(axes, x.ndim(), "sum"), keepdims));
}

Tensor mean(const Tensor& x, const Shape& axes, bool keepdims) {
  Shape ax = normalize_axes(axes, x.ndim(), "mean");
  if (reduces_dynamic_dim(x.shape(), ax)) {  // the count is known only when the graph runs
    Tensor xf = floating(x);
    return sum(xf, ax, keepdims) / count_elements(xf, ax, xf.dtype());
  }
  int64_t n = reduced_count(x.shape(), ax);
  return sum(floating(x), ax, keepdims) / double(n);
}

Tensor prod(const Tensor& x, const Shape& axes, bool keepdims) {
  return apply(kProd, {x}, reduce_attrs(normalize_axes(axes, x.ndim(), "prod"), keepdims));
}

Tensor max(const Tensor& x, const Shape& axes, bool keepdims) {
  return extremum(kMax, x, axes, keepdims);
}
Tensor min(const Tensor& x, const Shape& axes, bool keepdims) {
  return extremum(kMin, x, axes, keepdims);
}
Tensor amax(const Tensor& x, const Shape& axes, bool keepdims) { return max(x, axes, keepdims); }
Tensor amin(const Tensor& x, const Shape& axes, bool keepdims) { return min(x, axes, keepdims); }

Tensor argmax(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  return arg_extremum(kArgmax, x, axis, keepdims);
}
Tensor argmin(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  return arg_extremum(kArgmin, x, axis, keepdims);
}

Tensor any(const Tensor& x, const Shape& axes, bool keepdims) {
  return apply(kAny, {x}, reduce_attrs(normalize_axes(axes, x.ndim(), "any"), keepdims));
}
Tensor all(const Tensor& x, const Shape& axes, bool keepdims) {
  return apply(kAll, {x}, reduce_attrs(normalize_axes(axes, x.ndim(), "all"), keepdims));
}

Tensor var(const Tensor& x, const Shape& axes, int64_t correction, bool keepdims) {
  return moment(kVar, x, axes, correction, keepdims);
}
Tensor std(const Tensor& x, const Shape& axes, int64_t correction, bool keepdims) {
  return moment(kStd, x, axes, correction, keepdims);
}

Tensor norm(const Tensor& x, double p, const Shape& axes, bool keepdims) {
  if (p != 1 && p != 2 && p != std::numeric_limits<double>::infinity())
    throw ValueError("[norm] p must be 1, 2 or infinity, got " + std::to_string(p));
  Shape ax = normalize_axes(axes, x.ndim(), "norm");
  if (std::isinf(p) && reduced_count(x.shape(), ax) == 0 &&
      numel_of(reduced_shape(x.shape(), ax, keepdims)) > 0)
    throw ValueError("[norm] the infinity norm of an empty set of " + shape_str(x.shape()) +
                     " is undefined");
  Attrs a = reduce_attrs(ax, keepdims);
  a.set("p", p);
  return apply(kNorm, {floating(x)}, std::move(a));
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  if (indices.dtype() != int64)
    throw DTypeError("[one_hot] indices must be int64, got " + dtype_str(indices.dtype()));
  if (num_classes < -1)
    throw ValueError("[one_hot] num_classes must be >= 0 or -1, got " +
                     std::to_string(num_classes));
  if (num_classes == -1) {
    if (!indices.is_concrete())
      throw ValueError(
          "[one_hot] num_classes = -1 needs concrete indices; give num_classes for symbolic ones");
    if (indices.numel() == 0)
      throw ValueError("[one_hot] cannot infer num_classes from empty indices");
    num_classes = max(indices).item<int64_t>() + 1;
  }
  return apply(kOneHot, {indices}, {{"num_classes", num_classes}});
}

Tensor Tensor::sum() const { return nabla::sum(*this); }
Tensor Tensor::mean() const { return nabla::mean(*this); }
Tensor Tensor::max() const { return nabla::max(*this); }
Tensor Tensor::min() const { return nabla::min(*this); }

}  // namespace nabla
