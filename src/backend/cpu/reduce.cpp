// CPU kernels of the reductions.
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/reduce_loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

std::vector<bool> mask_of(const KernelArgs& a) {
  std::vector<bool> m(a.inputs[0]->shape.size(), false);
  for (int64_t ax : a.attrs.get<Shape>("axes")) m[std::size_t(ax)] = true;
  return m;
}

template <class Acc, class Out>
struct SumR {
  Acc init() const { return Acc(0); }
  template <class C>
  Acc step(Acc a, C v, int64_t) const {
    return a + Acc(v);
  }
  Acc merge(Acc a, Acc b) const { return a + b; }
  Out finish(Acc a, int64_t) const { return Out(a); }
};

template <class T>
void sum_kernel(const KernelArgs& a) {
  if constexpr (is_floating(dtype_of_v<T>)) {
    using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
    reduce<T, T>(a.out, *a.inputs[0], mask_of(a), SumR<Acc, T>{});
  } else {
    reduce<T, int64_t>(a.out, *a.inputs[0], mask_of(a), SumR<int64_t, int64_t>{});
  }
}

const bool registered = [] {
  for_each_dtype(
      []<class T>() { register_kernel("sum", DeviceType::cpu, dtype_of_v<T>, sum_kernel<T>); });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
