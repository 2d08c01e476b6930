// Linear algebra: matrix products and Einstein summation.
#pragma once
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// Matrix product with NumPy/PyTorch rules:
//   1-d x 1-d: dot product (0-d result);
//   2-d x 2-d: matrix product;
//   1-d x N-d: the vector becomes a (1, n) row, and that dim is removed from the result;
//   N-d x 1-d: the vector becomes an (n, 1) column, and that dim is removed from the result;
//   N-d x M-d: batched over the leading dims, which broadcast.
// Operands are promoted to a common dtype; bool is not supported.
// Throws ShapeError: "[matmul] cannot multiply (12, 18) by (19, 56): 18 != 19".
Tensor matmul(const Tensor& a, const Tensor& b);
// Inner product of two 1-d tensors of equal length (0-d result).
Tensor dot(const Tensor& a, const Tensor& b);
// Outer product of two 1-d tensors: out[i, j] = a[i] * b[j].
Tensor outer(const Tensor& a, const Tensor& b);
// Einstein summation, e.g. einsum("bij,bjk->bik", {a, b}). Subscripts are letters; "..."
// stands for broadcast leading dims; a repeated letter in one operand takes its diagonal;
// letters missing from the output are summed. Without "->" the output holds the letters that
// appear once, sorted (after the "..." dims). Lowered to views, sum, mul and matmul, so it is
// differentiable wherever those are.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

}  // namespace nabla
