// CPU kernels of the reductions and of one_hot and compare_mask.
#include <cmath>
#include <cstring>
#include <limits>

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

// Accumulation type: float for 16-bit floats, the type itself for float/double, int64 else.
template <class T>
using acc_t = std::conditional_t<is_floating(dtype_of_v<T>), compute_t<T>, int64_t>;
template <class T>
using wide_out_t = std::conditional_t<is_floating(dtype_of_v<T>), T, int64_t>;

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

template <class Acc, class Out>
struct ProdR {
  Acc init() const { return Acc(1); }
  template <class C>
  Acc step(Acc a, C v, int64_t) const {
    return a * Acc(v);
  }
  Acc merge(Acc a, Acc b) const { return a * b; }
  Out finish(Acc a, int64_t) const { return Out(a); }
};

template <class T>
void sum_kernel(const KernelArgs& a) {
  reduce<T, wide_out_t<T>>(a.out, *a.inputs[0], mask_of(a), SumR<acc_t<T>, wide_out_t<T>>{});
}
template <class T>
void prod_kernel(const KernelArgs& a) {
  reduce<T, wide_out_t<T>>(a.out, *a.inputs[0], mask_of(a), ProdR<acc_t<T>, wide_out_t<T>>{});
}

// NaN propagates: once the accumulator holds NaN no comparison replaces it.
template <class C, bool Max>
struct ExtremumR {
  C init() const {
    if constexpr (std::numeric_limits<C>::has_infinity)
      return Max ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::infinity();
    else
      return Max ? std::numeric_limits<C>::lowest() : std::numeric_limits<C>::max();
  }
  C step(C a, C v, int64_t) const { return better(v, a) ? v : a; }
  static bool better(C v, C a) {
    if constexpr (std::is_floating_point_v<C>)
      return (Max ? v > a : v < a) || v != v;
    else
      return Max ? v > a : v < a;
  }
  C merge(C a, C b) const { return better(b, a) ? b : a; }
  template <class Out>
  Out finish(C a, int64_t) const {
    return Out(a);
  }
};

// Unit-stride extremum of float/double with GCC vector types: the compare-select form that
// maps to vmaxps, and NaN tracked in a separate mask (a NaN-propagating select does not
// vectorise).
template <class C, bool Max>
C extremum_span(C start, const C* q, int64_t b, int64_t e) {
  using I = std::conditional_t<sizeof(C) == 4, int32_t, int64_t>;
  typedef C V __attribute__((vector_size(32)));
  typedef I M __attribute__((vector_size(32)));
  constexpr int W = int(32 / sizeof(C));
  ExtremumR<C, Max> r;
  V m[4];
  M nan[4];
  for (int l = 0; l < 4; ++l) m[l] = V{} + r.init(), nan[l] = M{};
  int64_t i = b;
  for (; i + 4 * W <= e; i += 4 * W)
    for (int l = 0; l < 4; ++l) {
      V v;
      std::memcpy(&v, q + i + l * W, sizeof(V));
      m[l] = Max ? (m[l] > v ? m[l] : v) : (m[l] < v ? m[l] : v);
      nan[l] |= (v != v);
    }
  C acc = start;
  bool any_nan = false;
  for (int l = 0; l < 4; ++l)
    for (int k = 0; k < W; ++k) {
      acc = r.step(acc, m[l][k], 0);
      any_nan |= nan[l][k] != 0;
    }
  for (; i < e; ++i) acc = r.step(acc, q[i], 0);
  return any_nan ? std::numeric_limits<C>::quiet_NaN() : acc;
}

template <class T, bool Max>
struct ExtremumOutR : ExtremumR<compute_t<T>, Max> {
  T finish(compute_t<T> v, int64_t) const { return T(v); }
};
// Four rows into column accumulators: the vmaxps form, then NaN from either side kept.
template <class C, bool Max>
void extremum_rows4(C* acc, const C* r0, const C* r1, const C* r2, const C* r3, int64_t cb,
                    int64_t ce) {
  typedef C V __attribute__((vector_size(32)));
  constexpr int W = int(32 / sizeof(C));
  auto fold = [](V a, V v) {
    V m = Max ? (a > v ? a : v) : (a < v ? a : v);  // takes v when v is NaN
    return a != a ? a : m;
  };
  ExtremumR<C, Max> r;
  int64_t c = cb;
  for (; c + W <= ce; c += W) {
    V a, v0, v1, v2, v3;
    std::memcpy(&a, acc + (c - cb), sizeof(V));
    std::memcpy(&v0, r0 + c, sizeof(V));
    std::memcpy(&v1, r1 + c, sizeof(V));
    std::memcpy(&v2, r2 + c, sizeof(V));
    std::memcpy(&v3, r3 + c, sizeof(V));
    a = fold(fold(fold(fold(a, v0), v1), v2), v3);
    std::memcpy(acc + (c - cb), &a, sizeof(V));
  }
  for (; c < ce; ++c)
    acc[c - cb] =
        r.step(r.step(r.step(r.step(acc[c - cb], r0[c], 0), r1[c], 0), r2[c], 0), r3[c], 0);
}

template <class T, bool Max>
struct FastExtremumR : ExtremumOutR<T, Max> {
  void rows4(T* acc, const T* r0, const T* r1, const T* r2, const T* r3, int64_t cb,
             int64_t ce) const {
    extremum_rows4<T, Max>(acc, r0, r1, r2, r3, cb, ce);
  }
  T span(T start, const T* q, int64_t b, int64_t e) const {
    return extremum_span<T, Max>(start, q, b, e);
  }
};

template <class T, bool Max>
void extremum_kernel(const KernelArgs& a) {
  if constexpr (std::is_floating_point_v<T>)
    reduce<T, T>(a.out, *a.inputs[0], mask_of(a), FastExtremumR<T, Max>{});
  else
    reduce<T, T>(a.out, *a.inputs[0], mask_of(a), ExtremumOutR<T, Max>{});
}

// The first index of the extremum; NaN counts as the extremum.
template <class C, bool Max>
struct ArgR {
  struct Acc {
    C v;
    int64_t i;
  };
  Acc init() const { return {ExtremumR<C, Max>{}.init(), -1}; }
  static bool nan(C v) {
    if constexpr (std::is_floating_point_v<C>)
      return v != v;
    else
      return false;
  }
  // Whether b wins over a, which it may precede (lanes and thread parts merge in any order).
  static bool wins(const Acc& b, const Acc& a) {
    if (b.i < 0) return false;
    if (a.i < 0) return true;
    if (nan(a.v) || nan(b.v)) return nan(b.v) && (!nan(a.v) || b.i < a.i);
    if (b.v == a.v) return b.i < a.i;
    return Max ? b.v > a.v : b.v < a.v;
  }
  Acc step(Acc a, C v, int64_t j) const {
    Acc b{v, j};
    return wins(b, a) ? b : a;
  }
  Acc merge(Acc a, Acc b) const { return wins(b, a) ? b : a; }
  int64_t finish(Acc a, int64_t) const { return std::max<int64_t>(a.i, 0); }
};

template <class T, bool Max>
void arg_kernel(const KernelArgs& a) {
  reduce<T, int64_t>(a.out, *a.inputs[0], mask_of(a), ArgR<compute_t<T>, Max>{});
}

template <bool Any>
struct AnyAllR {
  bool init() const { return !Any; }
  template <class C>
  bool step(bool a, C v, int64_t) const {
    return Any ? (a | (v != C(0))) : (a & (v != C(0)));
  }
  bool merge(bool a, bool b) const { return Any ? (a | b) : (a & b); }
  bool finish(bool a, int64_t) const { return a; }
};

template <class T, bool Any>
void any_all_kernel(const KernelArgs& a) {
  reduce<T, bool>(a.out, *a.inputs[0], mask_of(a), AnyAllR<Any>{});
}

// --- var / std: a first pass for the means, a second for the squared deviations.
template <class Acc>
struct CenteredR {
  struct State {
    Acc mean, ss;
  };
  const Acc* means;
  State init(int64_t i) const { return {means[i], Acc(0)}; }
  State step(State s, Acc v, int64_t) const {
    Acc d = v - s.mean;
    return {s.mean, s.ss + d * d};
  }
  State merge(State a, State b) const { return {a.mean, a.ss + b.ss}; }
};

template <class T, bool Sqrt>
void moment_kernel(const KernelArgs& a) {
  using Acc = compute_t<T>;
  const Node& in = *a.inputs[0];
  std::vector<bool> mask = mask_of(a);
  Tensor means = make_empty(a.out.shape, dtype_of_v<Acc>);
  reduce<T, Acc>(*means.node(), in, mask, SumR<Acc, Acc>{});
  int64_t n = 1;
  for (std::size_t d = 0; d < mask.size(); ++d)
    if (mask[d]) n *= in.shape[d];
  Acc* m = means.node()->ptr<Acc>();
  for (int64_t i = 0, e = a.out.numel(); i < e; ++i) m[i] /= Acc(n);
  const Acc denom = Acc(std::max<int64_t>(0, n - a.attrs.get<int64_t>("correction")));
  struct R : CenteredR<Acc> {
    Acc denom;
    T finish(typename CenteredR<Acc>::State s, int64_t) const {
      Acc v = s.ss / denom;
      return T(Sqrt ? std::sqrt(v) : v);
    }
  };
  R r;
  r.means = m;
  r.denom = denom;
  reduce<T, T>(a.out, in, mask, r);
}

// --- norm
template <class Acc, int P>  // P: 1, 2, or 0 for infinity
struct NormR {
  Acc init() const { return Acc(0); }
  Acc step(Acc a, Acc v, int64_t) const {
    if constexpr (P == 1)
      return a + std::abs(v);
    else if constexpr (P == 2)
      return a + v * v;
    else {
      Acc m = std::abs(v);
      return (m > a || m != m) ? m : a;
    }
  }
  Acc merge(Acc a, Acc b) const {
    if constexpr (P == 0)
      return (b > a || b != b) ? b : a;
    else
      return a + b;
  }
};

template <class T>
void norm_kernel(const KernelArgs& a) {
  using Acc = compute_t<T>;
  double p = a.attrs.get<double>("p");
  auto run = [&]<int P>() {
    struct R : NormR<Acc, P> {
      T finish(Acc v, int64_t) const { return T(P == 2 ? std::sqrt(v) : v); }
    };
    reduce<T, T>(a.out, *a.inputs[0], mask_of(a), R{});
  };
  if (p == 1)
    run.template operator()<1>();
  else if (p == 2)
    run.template operator()<2>();
  else
    run.template operator()<0>();
}

// --- compare_mask and one_hot
template <class T>
void compare_mask_kernel(const KernelArgs& a) {
  const std::string& cmp = a.attrs.get<std::string>("cmp");
  auto run = [&](auto f) { elementwise<T, T, T>(a.out, {a.inputs[0], a.inputs[1]}, f); };
  if (cmp == "eq")
    run([](auto x, auto y) { return decltype(x)(x == y ? 1 : 0); });
  else if (cmp == "gt")
    run([](auto x, auto y) { return decltype(x)(x > y ? 1 : 0); });
  else
    run([](auto x, auto y) { return decltype(x)(x < y ? 1 : 0); });
}

void one_hot_kernel(const KernelArgs& a) {
  const Node& in = *a.inputs[0];
  const int64_t classes = a.attrs.get<int64_t>("num_classes"), n = in.numel();
  DimList dims;
  for (std::size_t d = 0; d < in.shape.size(); ++d) dims.add(in.shape[d], in.strides[d]);
  const int64_t* p = in.ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {  // check first: no partial output, no throw in threads
    int64_t v = p[dims.offset(i)];
    if (v < 0 || v >= classes)
      throw IndexError("[one_hot] index " + std::to_string(v) + " is out of range for " +
                       std::to_string(classes) + " classes");
  }
  int64_t* o = a.out.ptr<int64_t>();
  parallel_for(n, std::max<int64_t>(1, kGrain / std::max<int64_t>(classes, 1)),
               [&](int64_t b, int64_t e) {
                 std::fill(o + b * classes, o + e * classes, int64_t(0));
                 for (int64_t i = b; i < e; ++i) o[i * classes + p[dims.offset(i)]] = 1;
               });
}

const bool registered = [] {
  for_each_dtype([]<class T>() {
    constexpr DType t = dtype_of_v<T>;
    register_kernel("sum", DeviceType::cpu, t, sum_kernel<T>);
    register_kernel("prod", DeviceType::cpu, t, prod_kernel<T>);
    register_kernel("any", DeviceType::cpu, t, any_all_kernel<T, true>);
    register_kernel("all", DeviceType::cpu, t, any_all_kernel<T, false>);
    register_kernel("compare_mask", DeviceType::cpu, t, compare_mask_kernel<T>);
  });
  for_each_numeric_dtype([]<class T>() {
    constexpr DType t = dtype_of_v<T>;
    register_kernel("max", DeviceType::cpu, t, extremum_kernel<T, true>);
    register_kernel("min", DeviceType::cpu, t, extremum_kernel<T, false>);
    register_kernel("argmax", DeviceType::cpu, t, arg_kernel<T, true>);
    register_kernel("argmin", DeviceType::cpu, t, arg_kernel<T, false>);
  });
  register_kernel("max", DeviceType::cpu, bool_, extremum_kernel<uint8_t, true>);
  register_kernel("min", DeviceType::cpu, bool_, extremum_kernel<uint8_t, false>);
  for_each_float_dtype([]<class T>() {
    constexpr DType t = dtype_of_v<T>;
    register_kernel("var", DeviceType::cpu, t, moment_kernel<T, false>);
    register_kernel("std", DeviceType::cpu, t, moment_kernel<T, true>);
    register_kernel("norm", DeviceType::cpu, t, norm_kernel<T>);
  });
  register_kernel("one_hot", DeviceType::cpu, int64, one_hot_kernel);
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
