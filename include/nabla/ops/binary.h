// Binary elementwise ops with NumPy broadcasting and type promotion (docs/dtypes.md).
#pragma once
#include "nabla/tensor.h"

namespace nabla {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
// True division: integer inputs give float32.
Tensor div(const Tensor& a, const Tensor& b);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
template <Arithmetic S> Tensor operator+(const Tensor& a, S s) { return add(a, weak_scalar(s)); }
template <Arithmetic S> Tensor operator+(S s, const Tensor& a) { return add(weak_scalar(s), a); }
template <Arithmetic S> Tensor operator-(const Tensor& a, S s) { return sub(a, weak_scalar(s)); }
template <Arithmetic S> Tensor operator-(S s, const Tensor& a) { return sub(weak_scalar(s), a); }
template <Arithmetic S> Tensor operator*(const Tensor& a, S s) { return mul(a, weak_scalar(s)); }
template <Arithmetic S> Tensor operator*(S s, const Tensor& a) { return mul(weak_scalar(s), a); }
template <Arithmetic S> Tensor operator/(const Tensor& a, S s) { return div(a, weak_scalar(s)); }
template <Arithmetic S> Tensor operator/(S s, const Tensor& a) { return div(weak_scalar(s), a); }

}  // namespace nabla
