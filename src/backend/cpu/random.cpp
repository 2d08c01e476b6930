// CPU kernels of the random ops. Each output element is a function of (seed, offset, index)
// only (see include/nabla/random.h for the counter layout), so threads split the counters
// freely and results do not depend on the thread count.
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
// draw reads element i from word i and a 64-bit draw from words 2i and 2i + 1.
template <class F>
void for_each_tile(Stream s, int64_t nq, F&& emit) {
  parallel_for(nq, kCounterGrain, [&](int64_t b, int64_t e) {
    uint32_t w[4][kTile];
    alignas(64) uint32_t words[4 * kTile];
    for (int64_t q = b; q < e; q += kTile) {
      philox::blocks<kTile>(s.seed, s.offset + uint64_t(q), w);
      for (int j = 0; j < kTile; ++j)
        for (int l = 0; l < 4; ++l) words[4 * j + l] = w[l][j];
      emit(4 * q, 4 * std::min<int64_t>(kTile, e - q), static_cast<const uint32_t*>(words));
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
template <class C>
inline std::pair<C, C> box_muller(C u1, C u2) {
  C r = std::sqrt(C(-2) * std::log(u1));
  C theta = C(2 * std::numbers::pi) * u2;
  return {r * std::cos(theta), r * std::sin(theta)};
}

// Elements 2k and 2k + 1 share the uniforms of elements 2k and 2k + 1.
template <class T>
void normal_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  Stream s = stream_of(a.attrs);
  auto emit_pairs = [&](int64_t i0, int64_t m, auto&& pair) {
    for (int64_t k = 0; k < m; k += 2) {
      auto [z0, z1] = pair(k);
      o[i0 + k] = T(z0);
      if (k + 1 < m) o[i0 + k + 1] = T(z1);
    }
  };
  if constexpr (std::is_same_v<T, double>) {
    double mean = a.attrs.get<double>("mean"), sd = a.attrs.get<double>("std");
    for_each_draw<2>(s, n, [&](int64_t i0, int64_t m, const uint32_t* w) {
      emit_pairs(i0, m, [&](int64_t k) {
        double u1 = double((join(w + 2 * k) >> 11) + 1) * 0x1p-53;
        double u2 = double(join(w + 2 * k + 2) >> 11) * 0x1p-53;
        auto [z0, z1] = box_muller(u1, u2);
        return std::pair{mean + sd * z0, mean + sd * z1};
      });
    });
  } else {
    float mean = float(a.attrs.get<double>("mean")), sd = float(a.attrs.get<double>("std"));
    for_each_draw<1>(s, n, [&](int64_t i0, int64_t m, const uint32_t* w) {
      emit_pairs(i0, m, [&](int64_t k) {
        float u1 = float(int32_t(w[k] >> 8) + 1) * 0x1p-24f;
        float u2 = float(int32_t(w[k + 1] >> 8)) * 0x1p-24f;
        auto [z0, z1] = box_muller(u1, u2);
        return std::pair{mean + sd * z0, mean + sd * z1};
      });
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
  const T one = T(compute_t<T>(1)), zero = T(compute_t<T>(0));
  if (a.inputs.empty()) {
    uint64_t threshold = uint64_t(std::ceil(a.attrs.get<double>("p") * 0x1p32));
    for_each_draw<1>(s, n, [&](int64_t i0, int64_t m, const uint32_t* w) {
      for (int64_t k = 0; k < m; ++k) o[i0 + k] = uint64_t(w[k]) < threshold ? one : zero;
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
      o[i0 + k] = double(w[k]) * 0x1p-32 < pk ? one : zero;
    }
    if (bad) invalid += bad;
  });
  if (invalid.load())
    throw ValueError("[bernoulli] p must be in [0, 1]; " + std::to_string(invalid.load()) + " of " +
                     std::to_string(n) + " values are not");
}

// Sorting random 64-bit keys (ties broken by index) gives every permutation with equal
// probability up to key collisions, which the index tie-break keeps valid.
template <class T>
void permutation_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  std::vector<std::pair<uint64_t, int64_t>> keys(static_cast<std::size_t>(n));
  for_each_draw<2>(stream_of(a.attrs), n, [&](int64_t i0, int64_t m, const uint32_t* w) {
    for (int64_t k = 0; k < m; ++k) keys[std::size_t(i0 + k)] = {join(w + 2 * k), i0 + k};
  });
  std::sort(keys.begin(), keys.end());
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = T(keys[std::size_t(i)].second);
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
