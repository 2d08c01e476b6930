// CPU kernels of cumsum and cumprod. A line along the axis is scanned in order; when the
// dims after the axis are contiguous, whole rows of them are combined at once so the loop
// vectorises, split in column blocks over threads.
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/reduce_loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class T>
using acc_t = std::conditional_t<is_floating(dtype_of_v<T>), compute_t<T>, int64_t>;
template <class T>
using out_t = std::conditional_t<is_floating(dtype_of_v<T>), T, int64_t>;

template <class T, bool Prod>
void scan_kernel(const KernelArgs& a) {
  using Acc = acc_t<T>;
  using Out = out_t<T>;
  const Node& in = *a.inputs[0];
  const int64_t axis = a.attrs.get<int64_t>("axis");
  const bool reverse = a.attrs.get_or<bool>("reverse", false);
  const int64_t nd = int64_t(in.shape.size());
  if (in.numel() == 0) return;
  const int64_t n = nd == 0 ? 1 : in.shape[std::size_t(axis)];
  const int64_t step_in = nd == 0 ? 0 : in.strides[std::size_t(axis)];
  DimList outer, inner;
  int64_t ninner = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (d < axis) outer.add(in.shape[std::size_t(d)], in.strides[std::size_t(d)]);
    if (d > axis) {
      inner.add(in.shape[std::size_t(d)], in.strides[std::size_t(d)]);
      ninner *= in.shape[std::size_t(d)];
    }
  }
  const int64_t nouter = outer.numel();
  const T* p = in.ptr<T>();
  Out* o = a.out.ptr<Out>();
  auto combine = [](Acc x, Acc y) { return Prod ? x * y : x + y; };
  const Acc identity = Prod ? Acc(1) : Acc(0);

  if (ninner == 1 || !(inner.n == 1 && inner.stride[0] == 1)) {  // one line at a time
    parallel_for(nouter * ninner, std::max<int64_t>(1, kGrain / n), [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l) {
        int64_t ob = l / ninner, ib = l % ninner;
        const T* src = p + outer.offset(ob) + inner.offset(ib);
        Out* dst = o + ob * n * ninner + ib;
        Acc acc = identity;
        for (int64_t k = 0; k < n; ++k) {
          int64_t kk = reverse ? n - 1 - k : k;
          acc = combine(acc, Acc(compute_t<T>(src[kk * step_in])));
          dst[kk * ninner] = Out(acc);
        }
      }
    });
    return;
  }
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t splits = std::max<int64_t>(1, (threads + nouter - 1) / nouter);
  int64_t block = std::min<int64_t>(
      4096, std::max<int64_t>(16, ((ninner + splits - 1) / splits + 15) / 16 * 16));
  const int64_t nblocks = (ninner + block - 1) / block;
  parallel_for(
      nouter * nblocks, std::max<int64_t>(1, kGrain / (block * n)), [&](int64_t tb, int64_t te) {
        std::vector<Acc> acc(static_cast<std::size_t>(block));
        for (int64_t t = tb; t < te; ++t) {
          int64_t ob = t / nblocks, cb = (t % nblocks) * block, ce = std::min(ninner, cb + block);
          const T* src = p + outer.offset(ob);
          Out* dst = o + ob * n * ninner;
          Acc* ac = acc.data();
          std::fill(ac, ac + (ce - cb), identity);
          for (int64_t k = 0; k < n; ++k) {
            int64_t kk = reverse ? n - 1 - k : k;
            const T* row = src + kk * step_in;
            Out* orow = dst + kk * ninner;
            for (int64_t c = cb; c < ce; ++c) {
              ac[c - cb] = combine(ac[c - cb], Acc(compute_t<T>(row[c])));
              orow[c] = Out(ac[c - cb]);
            }
          }
        }
      });
}

const bool registered = [] {
  for_each_dtype([]<class T>() {
    register_kernel("cumsum", DeviceType::cpu, dtype_of_v<T>, scan_kernel<T, false>);
    register_kernel("cumprod", DeviceType::cpu, dtype_of_v<T>, scan_kernel<T, true>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
