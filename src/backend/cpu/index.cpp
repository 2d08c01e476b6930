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
template <class T>
void gather_into(Node& out, const Node& x, const int64_t* ip, const Layout& il, int64_t axis) {
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
                     T* orow = o + off[0];
                     const T* xrow = xp + off[1];
                     const int64_t* irow = ip + off[2];
                     for (int64_t j = 0; j < inner; ++j)
                       orow[j] = xrow[j * xs + wrap(irow[j * is], n) * ax_stride];
                   });
}

template <class T>
void gather_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  const Node& index = *a.inputs[1];
  int64_t axis = a.attrs.get<int64_t>("axis");
  check_indices(index, layout_of(x).shape[std::size_t(axis)], "gather", axis);
  if (a.out.numel() == 0) return;
  gather_into<T>(a.out, x, index.ptr<int64_t>(), layout_of(index), axis);
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
    parallel_for(outer * m, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     int64_t i = r % m, k = wrap(ip[i * istride], n);
                     std::memcpy(o + r * inner, xp + ((r / m) * n + k) * inner,
                                 std::size_t(inner) * sizeof(T));
                   }
                 });
    return;
  }
  // Strided input: gather with the index broadcast along the other dims.
  Layout il{xl.shape, Strides(xl.shape.size(), 0)};
  il.shape[ax] = m;
  il.strides[ax] = istride;
  gather_into<T>(a.out, x, ip, il, axis);
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
  auto rows = [&](int64_t rb, int64_t re) {
    for_rows<3>(il.shape, {ol.strides.data(), il.strides.data(), sl.strides.data()}, rb, re,
                [&](const auto& off) {
                  T* orow = o + off[0];
                  const int64_t* irow = ip + off[1];
                  const T* srow = sp + off[2];
                  for (int64_t j = 0; j < inner; ++j) {
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
  // Writes collide only within one slice of dim 0 when axis is not 0: split over those slices.
  const int64_t rows_total = numel_of(il.shape) / inner;
  if (axis != 0 && il.shape.size() > 1 && il.shape[0] > 1 && numel_of(il.shape) > kGrain) {
    const int64_t per = rows_total / il.shape[0];
    parallel_for(il.shape[0], std::max<int64_t>(1, kGrain / (per * inner)),
                 [&](int64_t b, int64_t e) { rows(b * per, e * per); });
  } else {
    rows(0, rows_total);
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
