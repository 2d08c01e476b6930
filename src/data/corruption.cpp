// Corruption noise: raw loops over a contiguous float copy of the input.
#include "nabla/data/corruption.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "nabla/error.h"

namespace nabla::data {
namespace {

void check_input(const Tensor& x, const char* op) {
  if (!x.defined()) throw ValueError(std::string("[") + op + "] the input is undefined");
  if (x.dtype() != float32 && x.dtype() != float64)
    throw DTypeError(std::string("[") + op + "] expects float32 or float64 data, got " +
                     std::string(dtype_name(x.dtype())) + " (convert with to_float)");
}

void check_fraction(double f, const char* op) {
  if (!(f >= 0 && f <= 1))
    throw ValueError(std::string("[") + op + "] fraction must be in [0, 1], got " +
                     std::to_string(f));
}

template <class F>
Tensor map_copy(const Tensor& x, F&& fn) {
  Tensor out = x.detach().clone();
  if (x.dtype() == float32)
    fn(static_cast<float*>(out.raw_data()), out.numel());
  else
    fn(static_cast<double*>(out.raw_data()), out.numel());
  return out;
}

// k distinct indices in [0, n), uniformly (partial Fisher-Yates on a permutation).
std::vector<int64_t> choose(int64_t n, int64_t k, Rng& rng) {
  std::vector<int64_t> idx(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[std::size_t(i)] = i;
  for (int64_t i = 0; i < k; ++i) {
    int64_t j = i + int64_t(uniform_below(rng, uint64_t(n - i)));
    std::swap(idx[std::size_t(i)], idx[std::size_t(j)]);
  }
  idx.resize(std::size_t(k));
  return idx;
}

}  // namespace

Tensor add_gaussian_noise(const Tensor& x, double std, Rng& rng, GaussianNoiseOptions o) {
  check_input(x, "gaussian_noise");
  if (!(std >= 0))
    throw ValueError("[gaussian_noise] std must be >= 0, got " + std::to_string(std));
  return map_copy(x, [&](auto* p, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t i = 0; i < n; i += 2) {  // Box-Muller: two normals per pair of uniforms
      double u1 = 1.0 - uniform_unit(rng), u2 = uniform_unit(rng);
      double r = std::sqrt(-2 * std::log(u1)), t = 2 * std::numbers::pi * u2;
      double z[2] = {r * std::cos(t), r * std::sin(t)};
      for (int64_t j = 0; j < 2 && i + j < n; ++j) {
        double v = double(p[i + j]) + std * z[j];
        if (o.clip) v = std::clamp(v, o.lo, o.hi);
        p[i + j] = T(v);
      }
    }
  });
}

Tensor mask_noise(const Tensor& x, double fraction, Rng& rng) {
  check_input(x, "masking_noise");
  check_fraction(fraction, "masking_noise");
  return map_copy(x, [&](auto* p, int64_t n) {
    for (int64_t i : choose(n, std::llround(fraction * double(n)), rng)) p[i] = 0;
  });
}

Tensor salt_and_pepper(const Tensor& x, double fraction, Rng& rng, double lo, double hi) {
  check_input(x, "salt_and_pepper");
  check_fraction(fraction, "salt_and_pepper");
  return map_copy(x, [&](auto* p, int64_t n) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t i : choose(n, std::llround(fraction * double(n)), rng))
      p[i] = T((rng() >> 63) ? hi : lo);
  });
}

Transform gaussian_noise(double std, GaussianNoiseOptions options) {
  if (!(std >= 0))
    throw ValueError("[gaussian_noise] std must be >= 0, got " + std::to_string(std));
  return Transform(
      [=](const Tensor& x, Rng& rng) { return add_gaussian_noise(x, std, rng, options); });
}

Transform masking_noise(double fraction) {
  check_fraction(fraction, "masking_noise");
  return Transform([=](const Tensor& x, Rng& rng) { return mask_noise(x, fraction, rng); });
}

Transform salt_and_pepper_noise(double fraction, double lo, double hi) {
  check_fraction(fraction, "salt_and_pepper");
  return Transform(
      [=](const Tensor& x, Rng& rng) { return salt_and_pepper(x, fraction, rng, lo, hi); });
}

}  // namespace nabla::data
