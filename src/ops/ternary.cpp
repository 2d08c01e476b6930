// where, clamp and lerp: elementwise ops over a tensor and two more operands.
#include "nabla/ops/ternary.h"

#include <cmath>

#include "nabla/ops/binary.h"
#include "nabla/ops/compare.h"
#include "ops/elementwise.h"

namespace nabla {
namespace {

// A bound as a weak scalar for promotion: whole numbers keep integer tensors integral.
Tensor bound_scalar(double v) {
  bool whole = std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 0x1p53;
  return scalar(v, whole ? int64 : float64, /*weak=*/true);
}

OutputMeta where_infer(std::span<const Tensor> in, const Attrs&) {
  if (in[0].dtype() != bool_)
    throw DTypeError("[where] the condition must be bool, got " + dtype_str(in[0].dtype()));
  if (in[1].dtype() != in[2].dtype())
    throw DTypeError("[where] operands must share a dtype, got " + dtype_str(in[1].dtype()) +
                     " and " + dtype_str(in[2].dtype()));
  Shape s = broadcast_shapes(in[0].shape(), in[1].shape(), "where");
  return {broadcast_shapes(s, in[2].shape(), "where"), in[1].dtype()};
}

const OpDef& kWhere = define_op({
    .name = "where",
    .flags = kElementwise,
    .arity = 3,
    .infer = where_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& cond = c.inputs[0];
      return {Tensor(), sum_to_shape(where(cond, c.cotangent, 0), c.inputs[1].shape()),
              sum_to_shape(where(cond, 0, c.cotangent), c.inputs[2].shape())};
    },
    .dispatch_input = 1,
});

// Scalar bounds are attributes "min" and "max" (each optional); tensor bounds are where ops.
const OpDef& kClamp = define_op({
    .name = "clamp",
    .flags = kElementwise,
    .arity = 1,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      Tensor inside;
      if (c.attrs.has("min")) inside = x >= bound_scalar(c.attrs.get<double>("min"));
      if (c.attrs.has("max")) {
        Tensor below = x <= bound_scalar(c.attrs.get<double>("max"));
        inside = inside.defined() ? logical_and(inside, below) : below;
      }
      return {where(inside, c.cotangent, 0)};
    },
});

const OpDef& kLerp = define_op({
    .name = "lerp",
    .flags = kElementwise,
    .arity = 3,
    .infer = [](std::span<const Tensor> in,
                const Attrs&) { return broadcast_infer(in, "lerp", in[0].dtype()); },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &a = c.inputs[0], &b = c.inputs[1], &w = c.inputs[2];
      const Tensor& g = c.cotangent;
      Tensor gw;
      if (w.requires_grad() || !w.is_concrete()) gw = sum_to_shape(g * (b - a), w.shape());
      return {sum_to_shape(g * (1 - w), a.shape()), sum_to_shape(g * w, b.shape()), gw};
    },
});

void check_defined(const char* op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    if (!t->defined()) throw ValueError("[" + std::string(op) + "] an operand is undefined");
}

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", {&cond, &a, &b});
  if (cond.dtype() != bool_)
    throw DTypeError("[where] the condition must be bool, got " + dtype_str(cond.dtype()) +
                     "; compare it first, e.g. where(x != 0, a, b)");
  Tensor ops[2] = {a, b};
  DType t = result_dtype(ops);
  return apply(kWhere, {cond, a.astype(t), b.astype(t)});
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  check_defined("clamp", {&x});
  if (!min && !max) throw ValueError("[clamp] at least one of min and max is needed");
  if (x.dtype() == bool_) throw DTypeError("[clamp] is not supported for bool tensors");
  std::vector<Tensor> ops = {x};
  Attrs attrs;
  if (min) {
    if (std::isnan(*min)) throw ValueError("[clamp] min is NaN");
    ops.push_back(bound_scalar(*min));
    attrs.set("min", *min);
  }
  if (max) {
    if (std::isnan(*max)) throw ValueError("[clamp] max is NaN");
    ops.push_back(bound_scalar(*max));
    attrs.set("max", *max);
  }
  return apply(kClamp, {x.astype(result_dtype(ops))}, std::move(attrs));
}

Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max) {
  check_defined("clamp", {&x});
  if (!min.defined() && !max.defined())
    throw ValueError("[clamp] at least one of min and max is needed");
  Tensor r = x;
  if (min.defined()) r = where(r < min, min, r);
  if (max.defined()) r = where(r > max, max, r);
  return r;
}

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight) {
  check_defined("lerp", {&a, &b, &weight});
  Tensor ops[3] = {a, b, weight};
  DType t = result_dtype(ops);
  if (!is_floating(t))
    throw DTypeError("[lerp] needs floating operands, got " + dtype_str(a.dtype()) + ", " +
                     dtype_str(b.dtype()) + " and " + dtype_str(weight.dtype()));
  return apply(kLerp, {a.astype(t), b.astype(t), weight.astype(t)});
}

Tensor lerp(const Tensor& a, const Tensor& b, double weight) {
  return lerp(a, b, scalar(weight, float64, /*weak=*/true));
}

}  // namespace nabla
