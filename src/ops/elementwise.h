// Shared definitions for elementwise ops: promotion of operands and broadcasting inference.
#pragma once
#include "ops/common.h"

namespace nabla {

// The dtype operands combine to, treating weak (C++ literal) scalars like Python numbers.
DType result_dtype(std::span<const Tensor> operands);
// Casts every operand to `dtype` (no-op where it already is).
std::vector<Tensor> cast_all(std::span<const Tensor> operands, DType dtype);
// Inference for ops whose inputs share a dtype: broadcast shape, that dtype (or `out`).
OutputMeta broadcast_infer(std::span<const Tensor> in, const char* op, DType out);
// Promotes, casts and applies a binary op.
Tensor apply_binary(const OpDef& op, const Tensor& a, const Tensor& b);

}  // namespace nabla
