// Binary elementwise ops with NumPy broadcasting and type promotion (docs/dtypes.md).
// Shapes that do not broadcast throw ShapeError naming the op and both shapes.
#pragma once
#include "nabla/tensor.h"

namespace nabla {

// On bool tensors add is logical or and mul logical and (as in PyTorch); sub rejects bool.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
// True division: integer inputs give float32.
Tensor div(const Tensor& a, const Tensor& b);
// floor(a / b). Integer division by zero throws ValueError. Not differentiable.
Tensor floor_divide(const Tensor& a, const Tensor& b);
// a - floor_divide(a, b) * b: the result takes the sign of b (Python's %, torch.remainder).
Tensor remainder(const Tensor& a, const Tensor& b);
// a ** b. Integer tensors stay integer: a negative exponent gives 0 unless |a| == 1.
Tensor pow(const Tensor& a, const Tensor& b);
// Elementwise larger / smaller value; NaN propagates. Ties split the gradient in half.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// The angle of the point (b, a), in (-pi, pi]. Integer inputs give float32.
Tensor atan2(const Tensor& a, const Tensor& b);
// a * log(b), and 0 where a == 0 (unless b is NaN). Integer inputs give float32.
Tensor xlogy(const Tensor& a, const Tensor& b);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator%(const Tensor& a, const Tensor& b) { return remainder(a, b); }
template <Arithmetic S>
Tensor operator+(const Tensor& a, S s) {
  return add(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator+(S s, const Tensor& a) {
  return add(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator-(const Tensor& a, S s) {
  return sub(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator-(S s, const Tensor& a) {
  return sub(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator*(const Tensor& a, S s) {
  return mul(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator*(S s, const Tensor& a) {
  return mul(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator/(const Tensor& a, S s) {
  return div(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator/(S s, const Tensor& a) {
  return div(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor operator%(const Tensor& a, S s) {
  return remainder(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor operator%(S s, const Tensor& a) {
  return remainder(weak_scalar(s), a);
}

// Scalar operands are weak: `pow(x, 2)` keeps x's dtype, `pow(int_tensor, 0.5)` gives float32.
template <Arithmetic S>
Tensor pow(const Tensor& a, S s) {
  return pow(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor pow(S s, const Tensor& a) {
  return pow(weak_scalar(s), a);
}
template <Arithmetic S>
Tensor floor_divide(const Tensor& a, S s) {
  return floor_divide(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor remainder(const Tensor& a, S s) {
  return remainder(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor maximum(const Tensor& a, S s) {
  return maximum(a, weak_scalar(s));
}
template <Arithmetic S>
Tensor minimum(const Tensor& a, S s) {
  return minimum(a, weak_scalar(s));
}

}  // namespace nabla
