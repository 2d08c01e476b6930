// Binary arithmetic: add, sub, mul, div.
#include "nabla/ops/binary.h"

#include "ops/elementwise.h"

namespace nabla {
namespace {


#define NABLA_BINARY_INFER(NAME) \
  [](std::span<const Tensor> in, const Attrs&) { return broadcast_infer(in, NAME, in[0].dtype()); }

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

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return apply_binary(kAdd, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return apply_binary(kSub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return apply_binary(kMul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor ops[2] = {a, b};
  DType t = result_dtype(ops);
  if (!is_floating(t)) return apply_binary(kDiv, a.astype(float32), b.astype(float32));
  return apply_binary(kDiv, a, b);
}

}  // namespace nabla
