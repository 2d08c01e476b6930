// CPU kernels of the random ops. Each output element is a function of (seed, offset, index)
// only (see include/nabla/random.h for the counter layout), so threads split the counters
// freely and results do not depend on the thread count. Built with -fno-math-errno (see
// CMakeLists.txt): without errno, sqrt needs no branch and the float Box-Muller loop
// vectorises.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <numbers>
#include <utility>
#include <vector>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "core/philox.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

constexpr int kTile = 16;                // counters per philox::blocks call
constexpr int64_t kCounterGrain = 4096;  // counters per thread, at least

struct Stream {
  uint64_t seed, offset;
};

Stream stream_of(const Attrs& a) {
  return {std::bit_cast<uint64_t>(a.get<int64_t>("seed")),
          std::bit_cast<uint64_t>(a.get<int64_t>("offset"))};
}

// Calls emit(first, count, words) over the words of counters [0, nq) in parallel, tile by
// tile: words[k] is word (first + k) % 4 of counter offset + (first + k) / 4, so a 32-bit
// draw reads element i from word i and a 64-bit draw from words 2i and 2i + 1. Every tile
// holds 4 * kTile words, also past the end of the draw. Threads split whole tiles, so each
// element takes the same code path (SIMD body or not) for any thread count: the values stay
// bit-identical.
template <class F>
void for_each_tile(Stream s, int64_t nq, F&& emit) {
  int64_t tiles = (nq + kTile - 1) / kTile;
  parallel_for(tiles, kCounterGrain / kTile, [&](int64_t b, int64_t e) {
    uint32_t w[4][kTile];
    alignas(64) uint32_t words[4 * kTile];
    for (int64_t t = b; t < e; ++t) {
      int64_t q = t * kTile;
      philox::blocks<kTile>(s.seed, s.offset + uint64_t(q), w);
      for (int j = 0; j < kTile; ++j)
        for (int l = 0; l < 4; ++l) words[4 * j + l] = w[l][j];
      emit(4 * q, 4 * std::min<int64_t>(kTile, nq - q), static_cast<const uint32_t*>(words));
    }
  });
}

// Draws of n elements at 1 or 2 words each: calls emit(i0, count, words) where element
// i0 + k reads words[k] (32-bit) or words[2k], words[2k + 1] (64-bit).
template <int Words, class F>
void for_each_draw(Stream s, int64_t n, F&& emit) {
  constexpr int64_t per = 4 / Words;
  for_each_tile(s, (n + per - 1) / per, [&](int64_t w0, int64_t nw, const uint32_t* words) {
    int64_t i0 = w0 / Words;
    emit(i0, std::min(nw / Words, n - i0), words);
  });
}

inline uint64_t join(const uint32_t* w) { return (uint64_t(w[0]) << 32) | w[1]; }

// Unit-interval values with as many random bits as the type's significand, so that the
// largest value stays below 1 after rounding to the type.
template <class T>
constexpr int unit_bits() {
  if constexpr (std::is_same_v<T, half>)
    return 11;
  else if constexpr (std::is_same_v<T, bfloat16_t>)
    return 8;
  else
    return 24;
}

template <class T>
void uniform_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  Stream s = stream_of(a.attrs);
  if constexpr (std::is_same_v<T, double>) {
    double low = a.attrs.get<double>("low"), span = a.attrs.get<double>("high") - low;
    for_each_draw<2>(s, a.out.numel(), [&](int64_t i0, int64_t m, const uint32_t* w) {
      for (int64_t k = 0; k < m; ++k)
        o[i0 + k] = low + span * (double(join(w + 2 * k) >> 11) * 0x1p-53);
    });
  } else {
    float low = float(a.attrs.get<double>("low"));
    float span = float(a.attrs.get<double>("high") - a.attrs.get<double>("low"));
    constexpr int bits = unit_bits<T>();
    constexpr float scale = 1.0f / float(1u << bits);
    for_each_draw<1>(s, a.out.numel(), [&](int64_t i0, int64_t m, const uint32_t* w) {
      for (int64_t k = 0; k < m; ++k)
        o[i0 + k] = T(low + span * (float(int32_t(w[k] >> (32 - bits))) * scale));
    });
  }
}

// Box-Muller: u1 in (0, 1], u2 in [0, 1) give two independent standard normals.
inline std::pair<double, double> box_muller(double u1, double u2) {
  double r = std::sqrt(-2 * std::log(u1)), theta = 2 * std::numbers::pi * u2;
  return {r * std::cos(theta), r * std::sin(theta)};
}

// float Box-Muller written to vectorise: Cephes' logf and sinf/cosf polynomials, with the
// angle 2 pi u2 reduced exactly in turns (u2 has 24 bits) to a quarter turn and a remainder
// in [-pi/4, pi/4].
inline float log_unit(float x) {  // x in [2^-24, 1]
  uint32_t bits = std::bit_cast<uint32_t>(x);
  float e = float(int32_t(bits >> 23) - 126);
  float m = std::bit_cast<float>((bits & 0x7fffffu) | 0x3f000000u);  // [0.5, 1)
  bool low = m < 0.707106781186547524f;
  e = low ? e - 1 : e;
  float f = low ? m + m - 1 : m - 1;
  float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return f + y + 0.693359375f * e;
}

inline void normal_pair(float u1, float u2, float& z0, float& z1) {
  float r = std::sqrt(-2.0f * log_unit(u1));
  float t = u2 * 4.0f;                 // quarter turns, exact
  float k = float(int32_t(t + 0.5f));  // nearest quarter turn, 0..4
  float b = (t - k) * 1.57079632679489662f;
  float b2 = b * b;
  float s = b + b * b2 * (-1.6666654611e-1f + b2 * (8.3321608736e-3f + b2 * -1.9515295891e-4f));
  float c =
      1.0f - 0.5f * b2 +
      b2 * b2 *
          (4.166664568298827e-2f + b2 * (-1.388731625493765e-3f + b2 * 2.443315711809948e-5f));
  int q = int32_t(k) & 3;
  float sin_t = (q & 1) ? c : s, cos_t = (q & 1) ? s : c;
  sin_t = (q & 2) ? -sin_t : sin_t;
  cos_t = (q == 1 || q == 2) ? -cos_t : cos_t;
  z0 = r * cos_t;
  z1 = r * sin_t;
}

// Standard normals for the 4 * kTile words of a tile: words 2k, 2k + 1 give z[2k], z[2k + 1].
inline void normal_tile(const uint32_t* w, float* z) {
  for (int k = 0; k < 4 * kTile; k += 2)
    normal_pair(float(int32_t(w[k] >> 8) + 1) * 0x1p-24f, float(int32_t(w[k + 1] >> 8)) * 0x1p-24f,
                z[k], z[k + 1]);
}

// Elements 2k and 2k + 1 share the uniforms of elements 2k and 2k + 1.
template <class T>
void normal_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  Stream s = stream_of(a.attrs);
  if constexpr (std::is_same_v<T, double>) {
    double mean = a.attrs.get<double>("mean"), sd = a.attrs.get<double>("std");
    for_each_draw<2>(s, n, [&](int64_t i0, int64_t m, const uint32_t* w) {
      for (int64_t k = 0; k < m; k += 2) {
        auto [z0, z1] = box_muller(double((join(w + 2 * k) >> 11) + 1) * 0x1p-53,
                                   double(join(w + 2 * k + 2) >> 11) * 0x1p-53);
        o[i0 + k] = mean + sd * z0;
        if (k + 1 < m) o[i0 + k + 1] = mean + sd * z1;
      }
    });
  } else {
    float mean = float(a.attrs.get<double>("mean")), sd = float(a.attrs.get<double>("std"));
    for_each_draw<1>(s, n, [&](int64_t i0, int64_t m, const uint32_t* w) {
      float z[4 * kTile];
      normal_tile(w, z);
      for (int64_t k = 0; k < m; ++k) o[i0 + k] = T(mean + sd * z[k]);
    });
  }
}

template <class T>
void randint_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  Stream s = stream_of(a.attrs);
  int64_t low = a.attrs.get<int64_t>("low");
  uint64_t range = uint64_t(a.attrs.get<int64_t>("high")) - uint64_t(low);
  auto value = [&](uint64_t draw) { return T(compute_t<T>(int64_t(uint64_t(low) + draw))); };
  if (range > (uint64_t(1) << 32)) {
    for_each_draw<2>(s, a.out.numel(), [&](int64_t i0, int64_t m, const uint32_t* w) {
      for (int64_t k = 0; k < m; ++k)
        o[i0 + k] = value(uint64_t((unsigned __int128)join(w + 2 * k) * range >> 64));
    });
  } else {
    for_each_draw<1>(s, a.out.numel(), [&](int64_t i0, int64_t m, const uint32_t* w) {
      for (int64_t k = 0; k < m; ++k) o[i0 + k] = value((uint64_t(w[k]) * range) >> 32);
    });
  }
}

// u = word / 2^32 is exact in double, so u < p is an exact test for every dtype of p; for
// one p it is the integer test word < ceil(p 2^32).
template <class T>
void bernoulli_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  Stream s = stream_of(a.attrs);
  if (a.inputs.empty()) {
    uint64_t threshold = uint64_t(std::ceil(a.attrs.get<double>("p") * 0x1p32));
    for_each_draw<1>(s, n, [&](int64_t i0, int64_t m, const uint32_t* w) {
      for (int64_t k = 0; k < m; ++k) o[i0 + k] = T(compute_t<T>(uint64_t(w[k]) < threshold));
    });
    return;
  }
  const T* p = a.inputs[0]->ptr<T>();
  std::atomic<int64_t> invalid{0};
  for_each_draw<1>(s, n, [&](int64_t i0, int64_t m, const uint32_t* w) {
    int64_t bad = 0;
    for (int64_t k = 0; k < m; ++k) {
      double pk = double(compute_t<T>(p[i0 + k]));
      bad += !(pk >= 0 && pk <= 1);
      o[i0 + k] = T(compute_t<T>(double(w[k]) * 0x1p-32 < pk));
    }
    if (bad) invalid += bad;
  });
  if (invalid.load())
    throw ValueError("[bernoulli] p must be in [0, 1]; " + std::to_string(invalid.load()) + " of " +
                     std::to_string(n) + " values are not");
}

// Sorting random 64-bit keys (ties broken by index) gives every permutation with equal
// probability up to key collisions, which the index tie-break keeps valid. The sort is a
// bucket sort on the keys' top bits: bucket order is key order and the keys are uniform, so
// buckets hold about one element and the whole sort is O(n).
template <class T>
void permutation_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  std::vector<uint64_t> keys(static_cast<std::size_t>(n));
  for_each_draw<2>(stream_of(a.attrs), n, [&](int64_t i0, int64_t m, const uint32_t* w) {
    for (int64_t k = 0; k < m; ++k) keys[std::size_t(i0 + k)] = join(w + 2 * k);
  });
  auto bucket = [&](uint64_t key) {
    return std::size_t((unsigned __int128)key * uint64_t(n) >> 64);
  };
  std::vector<int64_t> start(std::size_t(n) + 1, 0);
  for (uint64_t key : keys) ++start[bucket(key) + 1];
  for (std::size_t b = 0; b < std::size_t(n); ++b) start[b + 1] += start[b];
  std::vector<int64_t> order(static_cast<std::size_t>(n)), fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i) order[std::size_t(fill[bucket(keys[std::size_t(i)])]++)] = i;
  auto before = [&](int64_t x, int64_t y) {
    uint64_t kx = keys[std::size_t(x)], ky = keys[std::size_t(y)];
    return kx < ky || (kx == ky && x < y);
  };
  for (std::size_t b = 0; b < std::size_t(n); ++b)
    for (int64_t i = start[b] + 1; i < start[b + 1]; ++i)  // insertion sort: ~1 element
      for (int64_t j = i; j > start[b] && before(order[std::size_t(j)], order[std::size_t(j - 1)]);
           --j)
        std::swap(order[std::size_t(j)], order[std::size_t(j - 1)]);
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = T(order[std::size_t(i)]);
  });
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    register_kernel("uniform", DeviceType::cpu, dtype_of_v<T>, uniform_kernel<T>);
    register_kernel("normal", DeviceType::cpu, dtype_of_v<T>, normal_kernel<T>);
  });
  for_each_numeric_dtype([]<class T>() {
    register_kernel("randint", DeviceType::cpu, dtype_of_v<T>, randint_kernel<T>);
  });
  for_each_dtype([]<class T>() {
    register_kernel("bernoulli", DeviceType::cpu, dtype_of_v<T>, bernoulli_kernel<T>);
  });
  register_kernel("permutation", DeviceType::cpu, int64, permutation_kernel<int64_t>);
  register_kernel("permutation", DeviceType::cpu, int32, permutation_kernel<int32_t>);
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
