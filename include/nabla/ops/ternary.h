// Selection and interpolation over three broadcast operands: where, clamp, lerp.
#pragma once
#include <optional>

#include "nabla/tensor.h"

namespace nabla {

// cond ? a : b elementwise. cond must be bool; a and b are promoted to a common dtype; all
// three broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
template <Arithmetic S>
Tensor where(const Tensor& cond, const Tensor& a, S s) {
  return where(cond, a, weak_scalar(s));
}
template <Arithmetic S>
Tensor where(const Tensor& cond, S s, const Tensor& b) {
  return where(cond, weak_scalar(s), b);
}

// Limits x to [min, max] (either bound may be absent; where min > max the result is max).
// NaN stays NaN. A bound with a fractional part on an integer tensor gives float32. The gradient
// flows to x where min <= x <= max.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
inline Tensor clamp_min(const Tensor& x, double min) { return clamp(x, min, std::nullopt); }
inline Tensor clamp_max(const Tensor& x, double max) { return clamp(x, std::nullopt, max); }
// Tensor bounds broadcast with x; an undefined Tensor() means no bound. Gradients flow to x
// where it lies within its bounds and to the bound that replaced it elsewhere.
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max);

// a + weight * (b - a), computed so that weight == 1 gives b exactly. Floating dtypes only.
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight);
Tensor lerp(const Tensor& a, const Tensor& b, double weight);

}  // namespace nabla
