// CPU kernels of the binary arithmetic ops.
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>

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
// Bool: add is or, mul is and (C(x + y) would too, but this states it).
struct OrF {
  bool operator()(bool x, bool y) const { return x || y; }
};
struct AndF {
  bool operator()(bool x, bool y) const { return x && y; }
};

template <class C>
bool is_nan(C x) {
  if constexpr (std::is_floating_point_v<C>)
    return x != x;
  else
    return false;
}
// NaN wins, as in PyTorch.
struct MaxF {
  template <class C>
  C operator()(C x, C y) const {
    return (x > y || is_nan(x)) ? x : y;
  }
};
struct MinF {
  template <class C>
  C operator()(C x, C y) const {
    return (x < y || is_nan(x)) ? x : y;
  }
};
struct Atan2F {
  template <class C>
  C operator()(C x, C y) const {
    return std::atan2(x, y);
  }
};
struct XlogyF {
  template <class C>
  C operator()(C x, C y) const {
    return (x == 0 && !std::isnan(y)) ? C(0) : C(x * std::log(y));
  }
};

// Python's floor division and modulo on floats (the same steps as CPython and PyTorch).
template <class C>
C float_floor_div(C a, C b) {
  if (b == 0) return a / b;
  C mod = std::fmod(a, b);
  C div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
  if (div == 0) return std::copysign(C(0), a / b);
  C fl = std::floor(div);
  return div - fl > C(0.5) ? fl + 1 : fl;
}
template <class C>
C float_remainder(C a, C b) {
  C mod = std::fmod(a, b);
  if (mod != 0 && ((b < 0) != (mod < 0))) mod += b;
  return mod;
}

// Integer division by zero is undefined in C++; the functor flags it and the kernel throws.
// b == -1 is taken apart so that the lowest value over -1 wraps instead of trapping.
template <class T, bool kRemainder>
struct IntDivF {
  std::atomic<bool>* by_zero;
  T operator()(T a, T b) const {
    if constexpr (std::is_signed_v<T>) {
      if (b == -1)
        return kRemainder ? T(0) : T(std::make_unsigned_t<T>(0) - std::make_unsigned_t<T>(a));
    }
    if (b == 0) {
      by_zero->store(true, std::memory_order_relaxed);
      return 0;
    }
    T q = T(a / b), r = T(a % b);
    bool adjust = r != 0 && ((r < 0) != (b < 0));
    if constexpr (kRemainder)
      return adjust ? T(r + b) : r;
    else
      return adjust ? T(q - 1) : q;
  }
};

template <class T, bool kRemainder>
void int_div_kernel(const KernelArgs& a) {
  std::atomic<bool> by_zero{false};
  elementwise<T, T, T>(a.out, {a.inputs[0], a.inputs[1]}, IntDivF<T, kRemainder>{&by_zero});
  if (by_zero.load())
    throw ValueError(std::string("[") + (kRemainder ? "remainder" : "floor_divide") +
                     "] integer division by zero");
}

struct FloatFloorDivF {
  template <class C>
  C operator()(C x, C y) const {
    return float_floor_div(x, y);
  }
};
struct FloatRemainderF {
  template <class C>
  C operator()(C x, C y) const {
    return float_remainder(x, y);
  }
};

// Integer power by squaring in unsigned arithmetic (wrapping like PyTorch, never UB).
template <class T>
T int_pow(T base, T exp) {
  if constexpr (std::is_signed_v<T>) {
    if (exp < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exp & 1) ? T(-1) : T(1);
      return 0;
    }
  }
  using U = std::make_unsigned_t<std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, T>>;
  U r = 1, b = U(base);
  for (auto e = U(exp); e != 0; e >>= 1) {
    if (e & 1) r *= b;
    b *= b;
  }
  return T(r);
}
struct IntPowF {
  template <class C>
  C operator()(C x, C y) const {
    return int_pow(x, y);
  }
};

// A single exponent (x ** 2, x ** 0.5...) becomes a one-input loop without calls to pow.
template <class T>
void float_pow_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node &base = *a.inputs[0], &exp = *a.inputs[1];
  if (exp.numel() == 1) {
    C e = C(*exp.ptr<T>());
    auto unary = [&](auto f) { elementwise<T, T>(a.out, {&base}, f); };
    if (e == 2) return unary([](C x) { return x * x; });
    if (e == 1) return unary([](C x) { return x; });
    if (e == 3) return unary([](C x) { return x * x * x; });
    if (e == 0.5) return unary([](C x) { return std::sqrt(x); });
    if (e == -1) return unary([](C x) { return C(1) / x; });
    if (e == -2) return unary([](C x) { return C(1) / (x * x); });
    if (e == 0) return unary([](C) { return C(1); });
    return unary([e](C x) { return std::pow(x, e); });
  }
  elementwise<T, T, T>(a.out, {&base, &exp}, [](C x, C y) { return std::pow(x, y); });
}

const bool registered = [] {
  for_each_numeric_dtype([]<class T>() {
    register_kernel("add", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, AddF>());
    register_kernel("sub", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, SubF>());
    register_kernel("mul", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, MulF>());
    if constexpr (std::is_integral_v<T>) {
      register_kernel("floor_divide", DeviceType::cpu, dtype_of_v<T>, int_div_kernel<T, false>);
      register_kernel("remainder", DeviceType::cpu, dtype_of_v<T>, int_div_kernel<T, true>);
      register_kernel("pow", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, IntPowF>());
    } else {
      register_kernel("floor_divide", DeviceType::cpu, dtype_of_v<T>,
                      binary_kernel<T, FloatFloorDivF>());
      register_kernel("remainder", DeviceType::cpu, dtype_of_v<T>,
                      binary_kernel<T, FloatRemainderF>());
      register_kernel("pow", DeviceType::cpu, dtype_of_v<T>, float_pow_kernel<T>);
    }
  });
  for_each_dtype([]<class T>() {
    register_kernel("maximum", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, MaxF>());
    register_kernel("minimum", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, MinF>());
  });
  register_kernel("add", DeviceType::cpu, bool_, binary_kernel<bool, OrF>());
  register_kernel("mul", DeviceType::cpu, bool_, binary_kernel<bool, AndF>());
  for_each_float_dtype([]<class T>() {
    register_kernel("div", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, DivF>());
    register_kernel("atan2", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, Atan2F>());
    register_kernel("xlogy", DeviceType::cpu, dtype_of_v<T>, binary_kernel<T, XlogyF>());
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
