// Binary arithmetic: add, sub, mul, div, floor_divide, remainder, pow, maximum, minimum,
// atan2, xlogy.
#include "nabla/ops/binary.h"

#include "nabla/ops/compare.h"
#include "nabla/ops/ternary.h"
#include "ops/elementwise.h"

namespace nabla {
namespace {

#define NABLA_BINARY_INFER(NAME) \
  [](std::span<const Tensor> in, const Attrs&) { return broadcast_infer(in, NAME, in[0].dtype()); }

// Whether input i may need its gradient: costly rules skip the others (a scalar exponent).
// Symbolic inputs always get one; graph passes drop what is unused.
bool wants(const VjpContext& c, int i) {
  const Tensor& t = c.inputs[std::size_t(i)];
  return t.requires_grad() || !t.is_concrete();
}

const OpDef& kAdd = define_op({
    .name = "add",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("add"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {sum_to_shape(c.cotangent, c.inputs[0].shape()),
              sum_to_shape(c.cotangent, c.inputs[1].shape())};
    },
});

const OpDef& kSub = define_op({
    .name = "sub",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("sub"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {sum_to_shape(c.cotangent, c.inputs[0].shape()),
              sum_to_shape(c.cotangent * -1, c.inputs[1].shape())};
    },
});

const OpDef& kMul = define_op({
    .name = "mul",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("mul"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {sum_to_shape(c.cotangent * c.inputs[1], c.inputs[0].shape()),
              sum_to_shape(c.cotangent * c.inputs[0], c.inputs[1].shape())};
    },
});

const OpDef& kDiv = define_op({
    .name = "div",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("div"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &a = c.inputs[0], &b = c.inputs[1];
      return {sum_to_shape(c.cotangent / b, a.shape()),
              sum_to_shape(c.cotangent * a / (b * b) * -1, b.shape())};
    },
});

// Piecewise constant: PyTorch, too, gives it no gradient.
const OpDef& kFloorDivide = define_op({
    .name = "floor_divide",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("floor_divide"),
});

const OpDef& kRemainder = define_op({
    .name = "remainder",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("remainder"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &a = c.inputs[0], &b = c.inputs[1];
      Tensor gb;
      if (wants(c, 1)) gb = sum_to_shape(c.cotangent * floor_divide(a, b) * -1, b.shape());
      return {sum_to_shape(c.cotangent, a.shape()), gb};
    },
});

const OpDef& kPow = define_op({
    .name = "pow",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("pow"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &a = c.inputs[0], &b = c.inputs[1];
      Tensor ga, gb;
      // b == 0 gives 0, not 0 * inf at a == 0 (as PyTorch).
      if (wants(c, 0))
        ga = sum_to_shape(where(b == 0, 0, c.cotangent * b * pow(a, b - 1)), a.shape());
      if (wants(c, 1)) {
        // d/db a^b = a^b log(a); 0 at a == 0 for b >= 0, where a^b is flat or 0 (as PyTorch).
        Tensor d = where(logical_and(a == 0, b >= 0), 0, xlogy(c.output, a));
        gb = sum_to_shape(c.cotangent * d, b.shape());
      }
      return {ga, gb};
    },
});

// Ties split the gradient in half between the operands, as in PyTorch.
std::vector<Tensor> extremum_vjp(const VjpContext& c, bool larger) {
  const Tensor &a = c.inputs[0], &b = c.inputs[1];
  Tensor tie = where(a == b, c.cotangent * 0.5, 0);
  Tensor a_wins = larger ? a > b : a < b, b_wins = larger ? b > a : b < a;
  Tensor ga, gb;
  if (wants(c, 0)) ga = sum_to_shape(where(a_wins, c.cotangent, tie), a.shape());
  if (wants(c, 1)) gb = sum_to_shape(where(b_wins, c.cotangent, tie), b.shape());
  return {ga, gb};
}

const OpDef& kMaximum = define_op({
    .name = "maximum",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("maximum"),
    .vjp = [](const VjpContext& c) { return extremum_vjp(c, true); },
});

const OpDef& kMinimum = define_op({
    .name = "minimum",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("minimum"),
    .vjp = [](const VjpContext& c) { return extremum_vjp(c, false); },
});

const OpDef& kAtan2 = define_op({
    .name = "atan2",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("atan2"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &a = c.inputs[0], &b = c.inputs[1];
      Tensor scale = c.cotangent / (a * a + b * b);
      return {sum_to_shape(scale * b, a.shape()), sum_to_shape(scale * a * -1, b.shape())};
    },
});

const OpDef& kXlogy = define_op({
    .name = "xlogy",
    .flags = kElementwise,
    .arity = 2,
    .infer = NABLA_BINARY_INFER("xlogy"),
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &a = c.inputs[0], &b = c.inputs[1];
      Tensor ga, gb;
      // d/da = log(b), but 0 where a == 0, matching the forward's convention.
      if (wants(c, 0))
        ga = sum_to_shape(c.cotangent * xlogy((a != 0).astype(a.dtype()), b), a.shape());
      if (wants(c, 1)) gb = sum_to_shape(c.cotangent * a / b, b.shape());
      return {ga, gb};
    },
});

// Promotes like apply_binary, then to float32 where the result would be integral or bool.
Tensor apply_floating(const OpDef& op, const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) throw ValueError("[" + op.name + "] an operand is undefined");
  Tensor ops[2] = {a, b};
  DType t = result_dtype(ops);
  if (!is_floating(t)) t = float32;
  return apply(op, {a.astype(t), b.astype(t)});
}

DType checked_result(const char* op, const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined())
    throw ValueError("[" + std::string(op) + "] an operand is undefined");
  Tensor ops[2] = {a, b};
  return result_dtype(ops);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return apply_binary(kAdd, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) {
  if (checked_result("sub", a, b) == bool_)
    throw DTypeError("[sub] subtracting bool tensors is not supported: use logical_xor");
  return apply_binary(kSub, a, b);
}
Tensor mul(const Tensor& a, const Tensor& b) { return apply_binary(kMul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return apply_floating(kDiv, a, b); }
Tensor floor_divide(const Tensor& a, const Tensor& b) {
  if (checked_result("floor_divide", a, b) == bool_)
    throw DTypeError("[floor_divide] is not supported for bool tensors");
  return apply_binary(kFloorDivide, a, b);
}
Tensor remainder(const Tensor& a, const Tensor& b) {
  if (checked_result("remainder", a, b) == bool_)
    throw DTypeError("[remainder] is not supported for bool tensors");
  return apply_binary(kRemainder, a, b);
}
Tensor pow(const Tensor& a, const Tensor& b) {
  if (checked_result("pow", a, b) == bool_)
    throw DTypeError("[pow] is not supported for bool tensors");
  return apply_binary(kPow, a, b);
}
Tensor maximum(const Tensor& a, const Tensor& b) { return apply_binary(kMaximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return apply_binary(kMinimum, a, b); }
Tensor atan2(const Tensor& a, const Tensor& b) { return apply_floating(kAtan2, a, b); }
Tensor xlogy(const Tensor& a, const Tensor& b) { return apply_floating(kXlogy, a, b); }

}  // namespace nabla
