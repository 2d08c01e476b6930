// CPU kernels of the comparisons and logical ops: inputs of one dtype, bool output.
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class T, class F>
KernelFn predicate_kernel() {
  return [](const KernelArgs& a) {
    elementwise<bool, T, T>(a.out, {a.inputs[0], a.inputs[1]}, F{});
  };
}

struct EqF {
  template <class C>
  bool operator()(C x, C y) const {
    return x == y;
  }
};
struct NeF {
  template <class C>
  bool operator()(C x, C y) const {
    return x != y;
  }
};
struct LtF {
  template <class C>
  bool operator()(C x, C y) const {
    return x < y;
  }
};
struct LeF {
  template <class C>
  bool operator()(C x, C y) const {
    return x <= y;
  }
};
struct GtF {
  template <class C>
  bool operator()(C x, C y) const {
    return x > y;
  }
};
struct GeF {
  template <class C>
  bool operator()(C x, C y) const {
    return x >= y;
  }
};
struct AndF {
  template <class C>
  bool operator()(C x, C y) const {
    return (x != C(0)) & (y != C(0));
  }
};
struct OrF {
  template <class C>
  bool operator()(C x, C y) const {
    return (x != C(0)) | (y != C(0));
  }
};
struct XorF {
  template <class C>
  bool operator()(C x, C y) const {
    return (x != C(0)) != (y != C(0));
  }
};

const bool registered = [] {
  for_each_dtype([]<class T>() {
    constexpr DType t = dtype_of_v<T>;
    register_kernel("eq", DeviceType::cpu, t, predicate_kernel<T, EqF>());
    register_kernel("ne", DeviceType::cpu, t, predicate_kernel<T, NeF>());
    register_kernel("lt", DeviceType::cpu, t, predicate_kernel<T, LtF>());
    register_kernel("le", DeviceType::cpu, t, predicate_kernel<T, LeF>());
    register_kernel("gt", DeviceType::cpu, t, predicate_kernel<T, GtF>());
    register_kernel("ge", DeviceType::cpu, t, predicate_kernel<T, GeF>());
    register_kernel("logical_and", DeviceType::cpu, t, predicate_kernel<T, AndF>());
    register_kernel("logical_or", DeviceType::cpu, t, predicate_kernel<T, OrF>());
    register_kernel("logical_xor", DeviceType::cpu, t, predicate_kernel<T, XorF>());
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
