// Helpers shared by the op error-path tests: the message an op's error carries, and
// deterministic, non-repeating sample tensors (no RNG, so failures reproduce exactly).
#pragma once
#include <nabla/nabla.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace nabla::testing {

// The error message f throws, or "" when it throws none.
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// sin-spaced values in [-1.5, 1.5]; `seed` shifts the phase.
inline Tensor rnd(const Shape& s, DType t = float32, double seed = 0) {
  std::vector<double> v(std::size_t(numel_of(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(double(i) * 1.37 + seed) * 1.5;
  return tensor(v, s).astype(t);
}

}  // namespace nabla::testing
