// CPU kernels of the unary ops (src/ops/unary.cpp): one functor per op, inlined into
// cpu::elementwise. Functors take the compute type C (float for 16-bit floats and float32,
// double for float64, the integer itself for integers).
#include <cmath>
#include <cstdlib>
#include <type_traits>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/unary_functors.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

// --- arithmetic (numeric dtypes)
struct NegF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return C(-x);
  }
};
struct AbsF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>)
      return x;
    else if constexpr (std::is_floating_point_v<C>)
      return std::fabs(x);
    else
      return C(x < 0 ? -x : x);
  }
};
// PyTorch's sign: NaN gives 0.
struct SignF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return C((C(0) < x) - (x < C(0)));
  }
};
struct SquareF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return C(x * x);
  }
};

// --- float math
struct ReciprocalF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return C(1) / x;
  }
};
struct SqrtF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::sqrt(x);
  }
};
struct RsqrtF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return C(1) / std::sqrt(x);
  }
};
struct Exp2F {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::exp2(x);
  }
};
struct Expm1F {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::expm1(x);
  }
};
struct Log2F {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::log2(x);
  }
};
struct SinF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::sin(x);
  }
};
struct CosF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::cos(x);
  }
};
struct TanF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::tan(x);
  }
};
struct AsinF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::asin(x);
  }
};
struct AcosF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::acos(x);
  }
};
struct AtanF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::atan(x);
  }
};
struct SinhF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::sinh(x);
  }
};
struct CoshF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::cosh(x);
  }
};
struct ErfF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::erf(x);
  }
};

// --- rounding (floating dtypes; integers are copied by the op)
struct FloorF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::floor(x);
  }
};
struct CeilF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::ceil(x);
  }
};
// nearbyint rounds half to even in the default rounding mode, and vectorises.
struct RoundF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::nearbyint(x);
  }
};
struct TruncF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return std::trunc(x);
  }
};

// --- predicates (any dtype, bool out)
struct IsnanF {
  template <class C>
  [[gnu::always_inline]] bool operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>)
      return x != x;
    else
      return false;
  }
};
struct IsinfF {
  template <class C>
  [[gnu::always_inline]] bool operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>)
      return std::fabs(x) == C(INFINITY);
    else
      return false;
  }
};
struct IsfiniteF {
  template <class C>
  [[gnu::always_inline]] bool operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>)
      return std::fabs(x) < C(INFINITY);
    else
      return true;
  }
};
struct LogicalNotF {
  template <class C>
  [[gnu::always_inline]] bool operator()(C x) const {
    return x == C(0);
  }
};

template <class T, class F>
void reg(const char* op, F) {
  register_kernel(op, DeviceType::cpu, dtype_of_v<T>,
                  [](const KernelArgs& a) { elementwise<T, T>(a.out, {a.inputs[0]}, F{}); });
}

template <class T, class F>
void reg_predicate(const char* op, F) {
  register_kernel(op, DeviceType::cpu, dtype_of_v<T>,
                  [](const KernelArgs& a) { elementwise<bool, T>(a.out, {a.inputs[0]}, F{}); });
}

const bool registered = [] {
  for_each_numeric_dtype([]<class T>() {
    reg<T>("neg", NegF{});
    reg<T>("abs", AbsF{});
    reg<T>("square", SquareF{});
  });
  for_each_dtype([]<class T>() {
    reg<T>("sign", SignF{});
    reg_predicate<T>("isnan", IsnanF{});
    reg_predicate<T>("isinf", IsinfF{});
    reg_predicate<T>("isfinite", IsfiniteF{});
    reg_predicate<T>("logical_not", LogicalNotF{});
  });
  for_each_float_dtype([]<class T>() {
    reg<T>("reciprocal", ReciprocalF{});
    reg<T>("sqrt", SqrtF{});
    reg<T>("rsqrt", RsqrtF{});
    reg<T>("exp", ExpF{});
    reg<T>("exp2", Exp2F{});
    reg<T>("expm1", Expm1F{});
    reg<T>("log", LogF{});
    reg<T>("log2", Log2F{});
    reg<T>("log1p", Log1pF{});
    reg<T>("sin", SinF{});
    reg<T>("cos", CosF{});
    reg<T>("tan", TanF{});
    reg<T>("asin", AsinF{});
    reg<T>("acos", AcosF{});
    reg<T>("atan", AtanF{});
    reg<T>("sinh", SinhF{});
    reg<T>("cosh", CoshF{});
    reg<T>("tanh", TanhF{});
    reg<T>("erf", ErfF{});
    reg<T>("floor", FloorF{});
    reg<T>("ceil", CeilF{});
    reg<T>("round", RoundF{});
    reg<T>("trunc", TruncF{});
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
