// Comparisons (eq, ne, lt, le, gt, ge) and logical and/or/xor: bool results after
// promoting both operands to a common dtype. None is differentiable.
#include "nabla/ops/compare.h"

#include "ops/elementwise.h"

namespace nabla {
namespace {

#define NABLA_BOOL_OP(VAR, NAME)                                              \
  const OpDef& VAR = define_op({                                              \
      .name = NAME,                                                           \
      .flags = kElementwise,                                                  \
      .arity = 2,                                                             \
      .infer = [](std::span<const Tensor> in,                                 \
                  const Attrs&) { return broadcast_infer(in, NAME, bool_); }, \
  })

NABLA_BOOL_OP(kEq, "eq");
NABLA_BOOL_OP(kNe, "ne");
NABLA_BOOL_OP(kLt, "lt");
NABLA_BOOL_OP(kLe, "le");
NABLA_BOOL_OP(kGt, "gt");
NABLA_BOOL_OP(kGe, "ge");
NABLA_BOOL_OP(kLogicalAnd, "logical_and");
NABLA_BOOL_OP(kLogicalOr, "logical_or");
NABLA_BOOL_OP(kLogicalXor, "logical_xor");

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return apply_binary(kEq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return apply_binary(kNe, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return apply_binary(kLt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return apply_binary(kLe, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return apply_binary(kGt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return apply_binary(kGe, a, b); }
Tensor logical_and(const Tensor& a, const Tensor& b) { return apply_binary(kLogicalAnd, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return apply_binary(kLogicalOr, a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return apply_binary(kLogicalXor, a, b); }

}  // namespace nabla
