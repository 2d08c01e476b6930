// Kernels for copies and dtype conversions, and the strided assign that in-place ops use.
#include <cstring>

#include "backend/cpu/assign.h"
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class From, class To>
To convert(compute_t<From> v) {
  if constexpr (std::is_same_v<To, bool>)
    return v != compute_t<From>(0);
  else
    return To(compute_t<To>(v));
}

template <class From>
void astype_kernel(const KernelArgs& a) {
  visit_dtype(a.out.dtype, [&]<class To>() {
    elementwise<To, From>(a.out, {a.inputs[0]},
                          [](compute_t<From> v) { return convert<From, To>(v); });
  });
}

template <class T>
void copy_kernel(const KernelArgs& a) {
  const Node& in = *a.inputs[0];
  if (in.is_contiguous() && in.shape == a.out.shape) {
    std::memcpy(a.out.data(), in.data(), std::size_t(in.numel()) * sizeof(T));
    return;
  }
  elementwise<T, T>(a.out, {&in}, [](compute_t<T> v) { return v; });
}

template <class T>
void fill_kernel(const KernelArgs& a) {
  T v = convert<double, T>(a.attrs.get<double>("value"));
  T* o = a.out.ptr<T>();
  parallel_for(a.out.numel(), kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = v;
  });
}

template <class T>
void assign_typed(Node& dst, const Node& src) {
  // Reuse the elementwise planner with dst as operand 0 and src as operand 1.
  LoopPlan<2> plan = make_plan<2>(dst.shape, {&dst, &src});
  T* d = dst.ptr<T>();
  const T* s = src.ptr<T>();
  int64_t n = dst.numel();
  if (n == 0) return;
  const int last = plan.ndim - 1;
  const int64_t inner = plan.shape[last], ds = plan.strides[0][last], ss = plan.strides[1][last];
  int64_t rows = n / inner;
  parallel_for(rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      int64_t rem = r, od = 0, os = 0;
      for (int dim = last - 1; dim >= 0; --dim) {
        int64_t i = rem % plan.shape[dim];
        rem /= plan.shape[dim];
        od += i * plan.strides[0][dim];
        os += i * plan.strides[1][dim];
      }
      for (int64_t j = 0; j < inner; ++j) d[od + j * ds] = s[os + j * ss];
    }
  });
}

const bool registered = [] {
  for_each_dtype([]<class T>() {
    register_kernel("astype", DeviceType::cpu, dtype_of_v<T>, astype_kernel<T>);
    register_kernel("copy", DeviceType::cpu, dtype_of_v<T>, copy_kernel<T>);
    register_kernel("fill", DeviceType::cpu, dtype_of_v<T>, fill_kernel<T>);
  });
  return true;
}();

}  // namespace

void assign(Node& dst, const Node& src) {
  visit_dtype(dst.dtype, [&]<class T>() { assign_typed<T>(dst, src); });
}

}  // namespace nabla::cpu
