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

// Calls emit(q, m, words) for tiles of counters [q, q + m) of [0, nq), in parallel;
// words[lane][j] is the block of counter offset + q + j.
template <class F>
void for_each_tile(Stream s, int64_t nq, F&& emit) {
  parallel_for(nq, kCounterGrain, [&](int64_t b, int64_t e) {
    uint32_t w[4][kTile];
    for (int64_t q = b; q < e; q += kTile) {
      philox::blocks<kTile>(s.seed, s.offset + uint64_t(q), w);
      emit(q, std::min<int64_t>(kTile, e - q), w);
    }
  });
}

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

inline double unit53(uint32_t hi, uint32_t lo) {
  return double(((uint64_t(hi) << 32) | lo) >> 11) * 0x1p-53;
}

template <class T>
void uniform_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  Stream s = stream_of(a.attrs);
  if constexpr (std::is_same_v<T, double>) {
    double low = a.attrs.get<double>("low"), span = a.attrs.get<double>("high") - low;
    for_each_tile(s, (n + 1) / 2, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
      for (int64_t j = 0; j < m; ++j) {
        int64_t i = 2 * (q + j);
        o[i] = low + span * unit53(w[0][j], w[1][j]);
        if (i + 1 < n) o[i + 1] = low + span * unit53(w[2][j], w[3][j]);
      }
    });
  } else {
    float low = float(a.attrs.get<double>("low"));
    float span = float(a.attrs.get<double>("high") - a.attrs.get<double>("low"));
    constexpr int bits = unit_bits<T>();
    constexpr float scale = 1.0f / float(1u << bits);
    for_each_tile(s, (n + 3) / 4, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
      if (4 * (q + m) <= n) {
        for (int64_t j = 0; j < m; ++j)
          for (int l = 0; l < 4; ++l)
            o[4 * (q + j) + l] = T(low + span * (float(w[l][j] >> (32 - bits)) * scale));
      } else {
        for (int64_t j = 0; j < m; ++j)
          for (int l = 0; l < 4 && 4 * (q + j) + l < n; ++l)
            o[4 * (q + j) + l] = T(low + span * (float(w[l][j] >> (32 - bits)) * scale));
      }
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

template <class T>
void normal_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  Stream s = stream_of(a.attrs);
  if constexpr (std::is_same_v<T, double>) {
    double mean = a.attrs.get<double>("mean"), sd = a.attrs.get<double>("std");
    for_each_tile(s, (n + 1) / 2, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
      for (int64_t j = 0; j < m; ++j) {
        int64_t i = 2 * (q + j);
        double u1 = double((((uint64_t(w[0][j]) << 32) | w[1][j]) >> 11) + 1) * 0x1p-53;
        auto [z0, z1] = box_muller(u1, unit53(w[2][j], w[3][j]));
        o[i] = mean + sd * z0;
        if (i + 1 < n) o[i + 1] = mean + sd * z1;
      }
    });
  } else {
    float mean = float(a.attrs.get<double>("mean")), sd = float(a.attrs.get<double>("std"));
    for_each_tile(s, (n + 3) / 4, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
      for (int64_t j = 0; j < m; ++j) {
        int64_t i = 4 * (q + j);
        for (int p = 0; p < 2; ++p) {
          float u1 = float((w[2 * p][j] >> 8) + 1) * 0x1p-24f;
          float u2 = float(w[2 * p + 1][j] >> 8) * 0x1p-24f;
          auto [z0, z1] = box_muller(u1, u2);
          if (i + 2 * p < n) o[i + 2 * p] = T(mean + sd * z0);
          if (i + 2 * p + 1 < n) o[i + 2 * p + 1] = T(mean + sd * z1);
        }
      }
    });
  }
}

template <class T>
void randint_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  Stream s = stream_of(a.attrs);
  int64_t low = a.attrs.get<int64_t>("low");
  uint64_t range = uint64_t(a.attrs.get<int64_t>("high")) - uint64_t(low);
  auto put = [&](int64_t i, uint64_t draw) {
    o[i] = T(compute_t<T>(int64_t(uint64_t(low) + draw)));
  };
  if (range > (uint64_t(1) << 32)) {
    for_each_tile(s, (n + 1) / 2, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
      for (int64_t j = 0; j < m; ++j)
        for (int h = 0; h < 2 && 2 * (q + j) + h < n; ++h) {
          uint64_t x = (uint64_t(w[2 * h][j]) << 32) | w[2 * h + 1][j];
          put(2 * (q + j) + h, uint64_t((unsigned __int128)x * range >> 64));
        }
    });
  } else {
    for_each_tile(s, (n + 3) / 4, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
      for (int64_t j = 0; j < m; ++j)
        for (int l = 0; l < 4 && 4 * (q + j) + l < n; ++l)
          put(4 * (q + j) + l, (uint64_t(w[l][j]) * range) >> 32);
    });
  }
}

// u = word / 2^32 is exact in double, so the test u < p is exact for every dtype of p.
template <class T>
void bernoulli_kernel(const KernelArgs& a) {
  T* o = a.out.ptr<T>();
  int64_t n = a.out.numel();
  Stream s = stream_of(a.attrs);
  const T* p = a.inputs.empty() ? nullptr : a.inputs[0]->ptr<T>();
  double p_all = a.inputs.empty() ? a.attrs.get<double>("p") : 0.0;
  std::atomic<int64_t> invalid{0};
  for_each_tile(s, (n + 3) / 4, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
    int64_t bad = 0;
    for (int64_t j = 0; j < m; ++j)
      for (int l = 0; l < 4 && 4 * (q + j) + l < n; ++l) {
        int64_t i = 4 * (q + j) + l;
        double pi = p ? double(compute_t<T>(p[i])) : p_all;
        bad += !(pi >= 0 && pi <= 1);
        o[i] = T(compute_t<T>(double(w[l][j]) * 0x1p-32 < pi ? 1 : 0));
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
  for_each_tile(stream_of(a.attrs), (n + 1) / 2, [&](int64_t q, int64_t m, uint32_t(&w)[4][kTile]) {
    for (int64_t j = 0; j < m; ++j)
      for (int h = 0; h < 2 && 2 * (q + j) + h < n; ++h) {
        int64_t i = 2 * (q + j) + h;
        keys[std::size_t(i)] = {(uint64_t(w[2 * h][j]) << 32) | w[2 * h + 1][j], i};
      }
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
