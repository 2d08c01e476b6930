// Comparisons and logical ops: bool results, NumPy broadcasting. Operands are promoted to a
// common dtype first (`int_tensor < 0.5` compares in float32).
#pragma once
#include "nabla/tensor.h"

namespace nabla {

Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

// Any dtypes; nonzero (and NaN) counts as true.
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);

// Operators return bool tensors, as in PyTorch and NumPy (not a bool).
inline Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
inline Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
inline Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
inline Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
inline Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
inline Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
template <Arithmetic S>
Tensor operator==(const Tensor& a, S s) {
  return eq(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator==(S s, const Tensor& a) {
  return eq(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator!=(const Tensor& a, S s) {
  return ne(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator!=(S s, const Tensor& a) {
  return ne(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator<(const Tensor& a, S s) {
  return lt(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator<(S s, const Tensor& a) {
  return lt(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator<=(const Tensor& a, S s) {
  return le(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator<=(S s, const Tensor& a) {
  return le(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator>(const Tensor& a, S s) {
  return gt(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator>(S s, const Tensor& a) {
  return gt(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator>=(const Tensor& a, S s) {
  return ge(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator>=(S s, const Tensor& a) {
  return ge(weak_scalar(s), a);
}

}  // namespace nabla
