// CPU kernels of gather, scatter, scatter_add, index_select and masked_fill. Indices are
// bounds-checked in one pass before any element is read or written.
#include <cstring>

#include "backend/cpu/assign.h"
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/index_loops.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

inline int64_t wrap(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

// out (contiguous, index's shape) = x[... index ...] along axis; index described by `il`.
// Checks bounds as it goes (one pass over the index): an out-of-range index reads nothing
// and is reported through `bad` for the caller to throw once the threads are done.
template <class T>
void gather_into(Node& out, const Node& x, const int64_t* ip, const Layout& il, int64_t axis,
                 BadIndex* bad) {
  Layout xl = layout_of(x);
  const auto ax = std::size_t(axis);
  const int64_t n = xl.shape[ax], ax_stride = xl.strides[ax];
  xl.strides[ax] = 0;  // the axis coordinate comes from the index
  Strides os = contiguous_strides(il.shape);
  const std::size_t last = il.shape.size() - 1;
  const int64_t inner = il.shape[last], xs = xl.strides[last], is = il.strides[last];
  T* o = out.ptr<T>();
  const T* xp = x.ptr<T>();
  parallel_rows<3>(il.shape, {os.data(), xl.strides.data(), il.strides.data()},
                   [&](const auto& off) {
                     // Locals, so that the stores through orow cannot make the compiler reload
                     // them.
                     const int64_t len = inner, n_ = n, is_ = is, xs_ = xs, as_ = ax_stride;
                     T* orow = o + off[0];
                     const T* xrow = xp + off[1];
                     const int64_t* irow = ip + off[2];
                     bool row_bad = false;
                     int64_t bad_value = 0;
                     for (int64_t j = 0; j < len; ++j) {
                       int64_t raw = irow[j * is_], k = raw < 0 ? raw + n_ : raw;
                       if (uint64_t(k) >= uint64_t(n_)) [[unlikely]] {
                         row_bad = true;
                         bad_value = raw;
                         continue;
                       }
                       orow[j] = xrow[j * xs_ + k * as_];
                     }
                     if (row_bad) bad->note(bad_value);
                   });
}

template <class T>
void gather_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  const Node& index = *a.inputs[1];
  int64_t axis = a.attrs.get<int64_t>("axis");
  if (a.out.numel() == 0) return;
  BadIndex bad;
  gather_into<T>(a.out, x, index.ptr<int64_t>(), layout_of(index), axis, &bad);
  bad.throw_if_seen("gather", axis, layout_of(x).shape[std::size_t(axis)]);
}

template <class T>
void index_select_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  const Node& index = *a.inputs[1];
  int64_t axis = a.attrs.get<int64_t>("axis");
  Layout xl = layout_of(x);
  const auto ax = std::size_t(axis);
  const int64_t n = xl.shape[ax];
  check_indices(index, n, "index_select", axis);
  if (a.out.numel() == 0) return;
  const int64_t* ip = index.ptr<int64_t>();
  const int64_t m = index.numel(), istride = index.shape.empty() ? 0 : index.strides[0];
  if (x.is_contiguous()) {  // copy whole blocks of the dims after axis
    int64_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < ax; ++d) outer *= xl.shape[d];
    for (std::size_t d = ax + 1; d < xl.shape.size(); ++d) inner *= xl.shape[d];
    T* o = a.out.ptr<T>();
    const T* xp = x.ptr<T>();
    if (inner == 1) {  // one element per index: a plain indexed load
      parallel_for(outer, std::max<int64_t>(1, kGrain / m), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const T* xrow = xp + r * n;
          T* orow = o + r * m;
          for (int64_t i = 0; i < m; ++i) orow[i] = xrow[wrap(ip[i * istride], n)];
        }
      });
      return;
    }
    parallel_for(outer * m, std::max<int64_t>(1, kGrain / inner), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        int64_t i = r % m, k = wrap(ip[i * istride], n);
        std::memcpy(o + r * inner, xp + ((r / m) * n + k) * inner, std::size_t(inner) * sizeof(T));
      }
    });
    return;
  }
  // Strided input: gather with the index broadcast along the other dims.
  Layout il{xl.shape, Strides(xl.shape.size(), 0)};
  il.shape[ax] = m;
  il.strides[ax] = istride;
  BadIndex unused;  // checked above
  gather_into<T>(a.out, x, ip, il, axis, &unused);
}

// out = x, then out[... index ...] = src (or += src) along axis, in index order.
template <class T, bool Add>
void scatter_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  const Node& index = *a.inputs[1];
  const Node& src = *a.inputs[2];
  int64_t axis = a.attrs.get<int64_t>("axis");
  Layout ol = layout_of(a.out), il = layout_of(index), sl = layout_of(src);
  const auto ax = std::size_t(axis);
  const int64_t n = ol.shape[ax];
  check_indices(index, n, Add ? "scatter_add" : "scatter", axis);
  if (a.out.numel() > 0) assign(a.out, x);
  if (numel_of(il.shape) == 0) return;
  const int64_t ax_stride = ol.strides[ax];
  ol.strides[ax] = 0;
  const std::size_t last = il.shape.size() - 1;
  const int64_t inner = il.shape[last], os = ol.strides[last], is = il.strides[last],
                ss = sl.strides[last];
  T* o = a.out.ptr<T>();
  const int64_t* ip = index.ptr<int64_t>();
  const T* sp = src.ptr<T>();
  // Rows [rb, re), columns [jb, je) of the index, in index order.
  auto run = [&](int64_t rb, int64_t re, int64_t jb, int64_t je) {
    for_rows<3>(il.shape, {ol.strides.data(), il.strides.data(), sl.strides.data()}, rb, re,
                [&](const auto& off) {
                  T* orow = o + off[0];
                  const int64_t* irow = ip + off[1];
                  const T* srow = sp + off[2];
                  for (int64_t j = jb; j < je; ++j) {
                    T& dst = orow[j * os + wrap(irow[j * is], n) * ax_stride];
                    if constexpr (!Add)
                      dst = srow[j * ss];
                    else if constexpr (std::is_same_v<T, bool>)
                      dst = dst || srow[j * ss];
                    else
                      dst = T(compute_t<T>(dst) + compute_t<T>(srow[j * ss]));
                  }
                });
  };
  // Two writes can only collide when they share every coordinate but the axis, so threads
  // split a dim other than the axis: the columns, or else dim 0. Each output element is
  // still written by one thread, in index order.
  const int64_t total = numel_of(il.shape), rows_total = total / inner;
  const bool big = total > kGrain;
  if (big && axis != int64_t(last) && inner >= 64) {
    parallel_for(inner, std::max<int64_t>(16, kGrain / rows_total),
                 [&](int64_t jb, int64_t je) { run(0, rows_total, jb, je); });
  } else if (big && axis != 0 && il.shape.size() > 1 && il.shape[0] > 1) {
    const int64_t per = rows_total / il.shape[0];
    parallel_for(il.shape[0], std::max<int64_t>(1, kGrain / (per * inner)),
                 [&](int64_t b, int64_t e) { run(b * per, e * per, 0, inner); });
  } else {
    run(0, rows_total, 0, inner);
  }
}

template <class T>
void masked_fill_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  C v;
  if constexpr (std::is_same_v<T, bool>)
    v = a.attrs.get<double>("value") != 0;
  else
    v = C(a.attrs.get<double>("value"));
  elementwise<T, T, bool>(a.out, {a.inputs[0], a.inputs[1]},
                          [v](C x, bool m) { return m ? v : x; });
}

const bool registered = [] {
  for_each_dtype([]<class T>() {
    register_kernel("gather", DeviceType::cpu, dtype_of_v<T>, gather_kernel<T>);
    register_kernel("index_select", DeviceType::cpu, dtype_of_v<T>, index_select_kernel<T>);
    register_kernel("scatter", DeviceType::cpu, dtype_of_v<T>, scatter_kernel<T, false>);
    register_kernel("scatter_add", DeviceType::cpu, dtype_of_v<T>, scatter_kernel<T, true>);
    register_kernel("masked_fill", DeviceType::cpu, dtype_of_v<T>, masked_fill_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
