// count_elements: the product of the input's sizes on the given axes (its data is not read).
// broadcast_like is a view and has no kernel.
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class T>
void count_elements_kernel(const KernelArgs& a) {
  int64_t n = 1;
  for (int64_t axis : a.attrs.get<Shape>("axes")) n *= a.inputs[0]->shape[std::size_t(axis)];
  *a.out.ptr<T>() = T(compute_t<T>(n));
}

const bool registered = [] {
  for_each_numeric_dtype([]<class T>() {
    register_kernel("count_elements", DeviceType::cpu, dtype_of_v<T>, count_elements_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
