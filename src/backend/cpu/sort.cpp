// CPU kernels of argsort (stable) and topk. Each value maps to an unsigned key whose order
// is the value order (NaN above +inf, as in PyTorch; -0 equal to +0); descending order
// inverts the key. Keys of 32-bit and smaller dtypes pack with the element's index into one
// uint64, so a plain integer sort is also stable. 64-bit dtypes sort (key, index) pairs.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/index_loops.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class T>
constexpr bool kWideKey = sizeof(T) == 8;
template <class T>
using key_t = std::conditional_t<kWideKey<T>, uint64_t, uint32_t>;

template <class T>
key_t<T> sort_key(T v) {
  using K = key_t<T>;
  constexpr K sign = K(1) << (sizeof(K) * 8 - 1);
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, uint8_t>) {
    return K(v);
  } else if constexpr (std::is_integral_v<T>) {
    using S = std::conditional_t<kWideKey<T>, int64_t, int32_t>;
    return K(S(v)) ^ sign;
  } else {
    using F = std::conditional_t<kWideKey<T>, double, float>;
    F f = F(compute_t<T>(v));
    if (std::isnan(f)) return std::numeric_limits<K>::max();
    if (f == F(0)) f = F(0);
    K b = std::bit_cast<K>(f);
    return (b & sign) ? ~b : (b | sign);
  }
}

// Calls fn(keys, count, out_row, out_stride) for each row along `axis`, across threads,
// with the row's keys in a thread-local buffer.
template <class T, class F>
void for_each_axis_row(const Node& x, int64_t axis, int64_t out_len, Node& out, bool invert,
                       F&& fn) {
  Layout xl = layout_of(x);
  const auto ax = std::size_t(axis);
  const int64_t n = xl.shape[ax], xs = xl.strides[ax];
  Shape outer = xl.shape;
  outer[ax] = 1;
  Shape out_shape = outer;
  out_shape[ax] = out_len;
  Strides os = contiguous_strides(out_shape);
  const int64_t rows = numel_of(outer);
  if (rows == 0 || n == 0 || out_len == 0) return;
  const T* xp = x.ptr<T>();
  int64_t* op = out.ptr<int64_t>();
  parallel_for(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t rb, int64_t re) {
    auto keys = std::vector<key_t<T>>(std::size_t(n));
    for (int64_t r = rb; r < re; ++r) {
      int64_t rem = r, xoff = 0, ooff = 0;
      for (std::size_t d = outer.size(); d-- > 0;) {
        int64_t i = rem % outer[d];
        rem /= outer[d];
        xoff += i * xl.strides[d];
        ooff += i * os[d];
      }
      const T* row = xp + xoff;
      for (int64_t i = 0; i < n; ++i) {
        key_t<T> k = sort_key(row[i * xs]);
        keys[std::size_t(i)] = invert ? ~k : k;
      }
      fn(keys, n, op + ooff, os[ax]);
    }
  });
}

// Sorts (key, index) ascending, keeping the first `keep` in order; writes their indices.
template <class K>
void order_row(const std::vector<K>& keys, int64_t n, int64_t keep, int64_t* out, int64_t stride) {
  if constexpr (sizeof(K) == 4) {
    if (n <= int64_t(std::numeric_limits<uint32_t>::max())) {
      thread_local std::vector<uint64_t> packed;
      packed.resize(std::size_t(n));
      for (int64_t i = 0; i < n; ++i)
        packed[std::size_t(i)] = (uint64_t(keys[std::size_t(i)]) << 32) | uint64_t(i);
      if (keep < n) std::nth_element(packed.begin(), packed.begin() + keep, packed.end());
      std::sort(packed.begin(), packed.begin() + keep);
      for (int64_t i = 0; i < keep; ++i)
        out[i * stride] = int64_t(packed[std::size_t(i)] & 0xffffffffu);
      return;
    }
  }
  thread_local std::vector<std::pair<uint64_t, int64_t>> pairs;
  pairs.resize(std::size_t(n));
  for (int64_t i = 0; i < n; ++i) pairs[std::size_t(i)] = {uint64_t(keys[std::size_t(i)]), i};
  if (keep < n) std::nth_element(pairs.begin(), pairs.begin() + keep, pairs.end());
  std::sort(pairs.begin(), pairs.begin() + keep);
  for (int64_t i = 0; i < keep; ++i) out[i * stride] = pairs[std::size_t(i)].second;
}

template <class T>
void argsort_kernel(const KernelArgs& a) {
  const int64_t axis = a.attrs.get<int64_t>("axis");
  const int64_t n = layout_of(*a.inputs[0]).shape[std::size_t(axis)];
  for_each_axis_row<T>(*a.inputs[0], axis, n, a.out, a.attrs.get<bool>("descending"),
                       [](const auto& keys, int64_t len, int64_t* out, int64_t stride) {
                         order_row(keys, len, len, out, stride);
                       });
}

// Ties pick the lower index: the index breaks ties in the packed key.
template <class T>
void topk_kernel(const KernelArgs& a) {
  const int64_t axis = a.attrs.get<int64_t>("axis"), k = a.attrs.get<int64_t>("k");
  for_each_axis_row<T>(*a.inputs[0], axis, k, a.out, a.attrs.get<bool>("largest"),
                       [k](const auto& keys, int64_t len, int64_t* out, int64_t stride) {
                         order_row(keys, len, k, out, stride);
                       });
}

const bool registered = [] {
  for_each_dtype([]<class T>() {
    register_kernel("argsort", DeviceType::cpu, dtype_of_v<T>, argsort_kernel<T>);
    register_kernel("topk", DeviceType::cpu, dtype_of_v<T>, topk_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
