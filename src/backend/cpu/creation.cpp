// CPU kernels of the creation ops.
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class T>
void arange_kernel(const KernelArgs& a) {
  double start = a.attrs.get<double>("start"), step = a.attrs.get<double>("step");
  T* o = a.out.ptr<T>();
  parallel_for(a.out.numel(), kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = T(compute_t<T>(start + double(i) * step));
  });
}

const bool registered = [] {
  for_each_numeric_dtype([]<class T>() {
    register_kernel("arange", DeviceType::cpu, dtype_of_v<T>, arange_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
