// Functors of the exp-based unary ops. In float (float32 and the 16-bit floats) they use a
// branch-free exp that the compiler vectorises inside cpu::elementwise (libm's expf does not
// vectorise without -ffast-math); float64 uses std:: math.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace nabla::cpu {

// exp(x) = 2^n * exp(r) for x already in range: n = x / ln2 rounded (the 1.5 * 2^23 trick keeps
// it vectorisable), r = x - n ln2 in two parts, exp(r) by Cephes' polynomial on [-ln2/2, ln2/2].
// Returns exp(r) and sets n.
[[gnu::always_inline]] inline float exp_float_reduced(float x, float& n) {
  n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * r * r + r + 1.0f;
}

// exp(x) in float, within 2 ulp; overflows to inf, underflows through the subnormals to 0,
// keeps NaN.
[[gnu::always_inline]] inline float exp_float(float x) {
  const float in = x;
  x = x != x ? 0.0f : x;
  x = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
  float n;
  float y = exp_float_reduced(x, n);
  // Scale by 2^n in two halves so that n in [-150, 129] needs no special case.
  int32_t ni = static_cast<int32_t>(n);
  int32_t n1 = ni / 2, n2 = ni - n1;
  float s1 = std::bit_cast<float>(static_cast<uint32_t>(n1 + 127) << 23);
  float s2 = std::bit_cast<float>(static_cast<uint32_t>(n2 + 127) << 23);
  y = y * s1 * s2;
  return in != in ? in : y;
}

// exp(y) for y in [0, 20] (tanh's 2|x| once clamped): exp_float without the clamps and the
// split scaling that this range never needs; the same bits.
[[gnu::always_inline]] inline float exp_float_0_20(float y) {
  float n;
  float e = exp_float_reduced(y, n);
  return e * std::bit_cast<float>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
}

// tanh in float: an odd polynomial near 0 (Cephes' tanhf), 1 - 2 / (exp(2|x|) + 1) beyond.
// Past |x| = 10 tanh rounds to 1 in float, so the exp's argument is clamped there.
[[gnu::always_inline]] inline float tanh_float(float x) {
  float ax = std::fabs(x);
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = p * z * x + x;
  float big = 1.0f - 2.0f / (exp_float_0_20(2.0f * (ax < 10.0f ? ax : 10.0f)) + 1.0f);
  big = std::copysign(big, x);
  float t = ax < 0.625f ? small : big;
  return x != x ? x : t;
}

// erf in float within 1.5e-7 absolute (Abramowitz and Stegun 7.1.26, as PyTorch's vectorised
// erf): good for gelu, whose result it is multiplied into; the erf op itself uses libm.
[[gnu::always_inline]] inline float erf_float(float x) {
  float ax = std::fabs(x);
  float t = 1.0f / (1.0f + 0.3275911f * ax);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  float y = 1.0f - p * t * exp_float(-ax * ax);
  return std::copysign(y, x);
}

// log(x) in float within 2 ulp (Cephes' logf); log of 0 is -inf, of a negative NaN.
[[gnu::always_inline]] inline float log_float(float x) {
  const float in = x;
  // Scale subnormals into the normal range first (selects, not branches: they vectorise).
  const bool tiny = x < 1.17549435e-38f;
  const float tiny_exponent = tiny ? 23.0f : 0.0f;
  x = x * (tiny ? 8388608.0f : 1.0f);
  int32_t bits = std::bit_cast<int32_t>(x);
  float e = float(((bits >> 23) & 0xff) - 126) - tiny_exponent;
  float m = std::bit_cast<float>((bits & int32_t(0x807fffff)) | 0x3f000000);  // in [0.5, 1)
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1.0f : e;
  m = low ? m + m - 1.0f : m - 1.0f;
  float z = m * m;
  float p = 7.0376836292e-2f;
  p = p * m - 1.1514610310e-1f;
  p = p * m + 1.1676998740e-1f;
  p = p * m - 1.2420140846e-1f;
  p = p * m + 1.4249322787e-1f;
  p = p * m - 1.6668057665e-1f;
  p = p * m + 2.0000714765e-1f;
  p = p * m - 2.4999993993e-1f;
  p = p * m + 3.3333331174e-1f;
  float y = p * m * z + e * -2.12194440e-4f - 0.5f * z;
  y = m + y + e * 0.693359375f;
  y = in == 0.0f ? -INFINITY : y;
  y = in < 0.0f ? NAN : y;
  const bool keep = (in == INFINITY) | (in != in);  // no branch: keeps it vectorisable
  return keep ? in : y;
}

// log1p(x) in float: log(1 + x) corrected for the rounding of 1 + x.
[[gnu::always_inline]] inline float log1p_float(float x) {
  float w = 1.0f + x;
  float d = w - 1.0f;
  float r = log_float(w) * (x / d);
  return d == 0.0f ? x : (w == INFINITY ? w : r);
}

template <class C>
constexpr bool kFastFloat = std::is_same_v<C, float>;

struct ExpF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    if constexpr (kFastFloat<C>)
      return exp_float(x);
    else
      return std::exp(x);
  }
};

struct TanhF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    if constexpr (kFastFloat<C>)
      return tanh_float(x);
    else
      return std::tanh(x);
  }
};

struct LogF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    if constexpr (kFastFloat<C>)
      return log_float(x);
    else
      return std::log(x);
  }
};

struct Log1pF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    if constexpr (kFastFloat<C>)
      return log1p_float(x);
    else
      return std::log1p(x);
  }
};

struct SigmoidF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    if constexpr (kFastFloat<C>)
      return 1.0f / (1.0f + exp_float(-x));
    else
      return C(1) / (C(1) + std::exp(-x));
  }
};

}  // namespace nabla::cpu
