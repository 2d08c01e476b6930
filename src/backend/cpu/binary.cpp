// CPU kernels of the binary arithmetic ops.
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class T, class F>
KernelFn binary_kernel() {
  return [](const KernelArgs& a) { elementwise<T, T, T>(a.out, {a.inputs[0], a.inputs[1]}, F{}); };
}

struct AddF {
  template <class C>
  C operator()(C x, C y) const {
    return C(x + y);
  }
};
struct SubF {
  template <class C>
  C operator()(C x, C y) const {
    return C(x - y);
  }
};
struct MulF {
  template <class C>
  C operator()(C x, C y) const {
    return C(x * y);
  }
};
struct DivF {
  template <class C>
  C operator()(C x, C y) const {
    return C(x / y);
  }
};

const bool registered = [] {
  for_each_numeric_dtype([]<class T>() {
    register_kernel("add", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, AddF>());
    register_kernel("sub", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, SubF>());
    register_kernel("mul", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, MulF>());
  });
  for_each_float_dtype([]<class T>() {
    register_kernel("div", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, DivF>());
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
