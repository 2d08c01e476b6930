// CPU kernels of where, clamp (scalar bounds) and lerp.
#include <cmath>
#include <limits>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class T>
void where_kernel(const KernelArgs& a) {
  elementwise<T, bool, T, T>(a.out, {a.inputs[0], a.inputs[1], a.inputs[2]},
                             [](bool c, auto x, auto y) { return c ? x : y; });
}

// A bound as the compute type; out-of-range bounds of integer types saturate (they cannot
// bind), absent bounds become the widest value so one loop serves every case.
template <class C>
C bound(const Attrs& attrs, const char* name, bool upper) {
  using L = std::numeric_limits<C>;
  C widest = upper ? (L::has_infinity ? L::infinity() : L::max())
                   : (L::has_infinity ? -L::infinity() : L::lowest());
  if (!attrs.has(name)) return widest;
  double v = attrs.get<double>(name);
  if (v <= double(L::lowest())) return L::lowest();
  if (v >= double(L::max())) return L::max();
  return C(v);
}

template <class T>
void clamp_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const C lo = bound<C>(a.attrs, "min", false), hi = bound<C>(a.attrs, "max", true);
  // Comparisons with NaN are false, so NaN passes through; min > max gives max.
  elementwise<T, T>(a.out, {a.inputs[0]}, [lo, hi](C x) {
    C y = x < lo ? lo : x;
    return y > hi ? hi : y;
  });
}

// Two formulas so that both ends are exact (as PyTorch): w == 0 gives a, w == 1 gives b.
template <class T>
void lerp_kernel(const KernelArgs& a) {
  elementwise<T, T, T, T>(a.out, {a.inputs[0], a.inputs[1], a.inputs[2]},
                          [](auto x, auto y, auto w) {
                            auto d = y - x;
                            return std::abs(w) < 0.5f ? x + w * d : y - d * (1 - w);
                          });
}

const bool registered = [] {
  for_each_dtype(
      []<class T>() { register_kernel("where", DeviceType::cpu, dtype_of_v<T>, where_kernel<T>); });
  for_each_numeric_dtype(
      []<class T>() { register_kernel("clamp", DeviceType::cpu, dtype_of_v<T>, clamp_kernel<T>); });
  for_each_float_dtype(
      []<class T>() { register_kernel("lerp", DeviceType::cpu, dtype_of_v<T>, lerp_kernel<T>); });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
