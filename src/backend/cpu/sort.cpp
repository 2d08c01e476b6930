// CPU kernels of argsort (stable) and topk. Each row along the axis is copied into a
// buffer of (value, index) keys, sorted there, and the indices written out. NaN orders as
// the largest value, as in PyTorch.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/index_loops.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>)
    return std::isnan(v);
  else
    return false;
}

// Strict "a before b" for ascending order with NaN last.
template <class C>
bool ascending_before(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(b)) return !std::isnan(a);
    return a < b;
  } else {
    return a < b;
  }
}

// Calls fn(read, write) for each row along `axis`, across threads: read(i) is element i of
// the row, write(i, v) sets element i of the (contiguous, int64) output row.
template <class T, class F>
void for_each_axis_row(const Node& x, Node& out, int64_t axis, int64_t out_len, F&& fn) {
  Layout xl = layout_of(x);
  const auto ax = std::size_t(axis);
  const int64_t n = xl.shape[ax], xs = xl.strides[ax];
  Shape outer_shape = xl.shape;
  outer_shape[ax] = 1;
  Shape os_shape = outer_shape;
  os_shape[ax] = out_len;
  Strides os = contiguous_strides(os_shape);
  const int64_t ostride = os[ax];
  const int64_t rows = numel_of(outer_shape);
  if (rows == 0 || n == 0 || out_len == 0) return;
  const T* xp = x.ptr<T>();
  int64_t* op = out.ptr<int64_t>();
  // Rows are the elements of outer_shape; offsets come from x's strides and out's.
  parallel_for(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t rb, int64_t re) {
    auto buf = std::vector<std::pair<compute_t<T>, int64_t>>(std::size_t(n));
    for (int64_t r = rb; r < re; ++r) {
      int64_t rem = r, xoff = 0, ooff = 0;
      for (std::size_t d = outer_shape.size(); d-- > 0;) {
        int64_t i = rem % outer_shape[d];
        rem /= outer_shape[d];
        xoff += i * xl.strides[d];
        ooff += i * os[d];
      }
      for (int64_t i = 0; i < n; ++i) buf[std::size_t(i)] = {compute_t<T>(xp[xoff + i * xs]), i};
      fn(buf);
      for (int64_t i = 0; i < out_len; ++i) op[ooff + i * ostride] = buf[std::size_t(i)].second;
    }
  });
}

template <class T>
void argsort_kernel(const KernelArgs& a) {
  const bool desc = a.attrs.get<bool>("descending");
  const int64_t axis = a.attrs.get<int64_t>("axis");
  const int64_t n = layout_of(*a.inputs[0]).shape[std::size_t(axis)];
  using Key = std::pair<compute_t<T>, int64_t>;
  for_each_axis_row<T>(*a.inputs[0], a.out, axis, n, [desc](std::vector<Key>& buf) {
    if (desc)
      std::stable_sort(buf.begin(), buf.end(), [](const Key& p, const Key& q) {
        return ascending_before(q.first, p.first);
      });
    else
      std::stable_sort(buf.begin(), buf.end(), [](const Key& p, const Key& q) {
        return ascending_before(p.first, q.first);
      });
  });
}

template <class T>
void topk_kernel(const KernelArgs& a) {
  const bool largest = a.attrs.get<bool>("largest");
  const int64_t axis = a.attrs.get<int64_t>("axis"), k = a.attrs.get<int64_t>("k");
  using Key = std::pair<compute_t<T>, int64_t>;
  for_each_axis_row<T>(*a.inputs[0], a.out, axis, k, [largest, k](std::vector<Key>& buf) {
    auto mid = buf.begin() + k;
    // Ties go to the lower index, so the result does not depend on the algorithm.
    if (largest)
      std::partial_sort(buf.begin(), mid, buf.end(), [](const Key& p, const Key& q) {
        return ascending_before(q.first, p.first) ||
               (!ascending_before(p.first, q.first) && p.second < q.second);
      });
    else
      std::partial_sort(buf.begin(), mid, buf.end(), [](const Key& p, const Key& q) {
        return ascending_before(p.first, q.first) ||
               (!ascending_before(q.first, p.first) && p.second < q.second);
      });
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
