// CPU kernels of the activations (src/ops/activation.cpp). Functors with parameters are
// built from the op's attributes once per call; in float they use the vectorisable exp.
#include <cmath>
#include <numbers>
#include <string>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/unary_functors.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

template <class C>
[[gnu::always_inline]] inline C exp_of(C x) {
  return ExpF{}(x);
}

struct ReluF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>)
      return x > C(0) ? x : (x != x ? x : C(0));
    else
      return x > C(0) ? x : C(0);
  }
};

struct LeakyReluF {
  double slope;
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return x > C(0) ? x : x * C(slope);
  }
};

// scale * (x > 0 ? x : alpha * (exp(x) - 1)); elu has scale 1, selu its constants.
struct EluF {
  double alpha, scale;
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    C neg;
    if constexpr (kFastFloat<C>)
      neg = C(alpha) * (exp_of(x < C(0) ? x : C(0)) - C(1));
    else
      neg = C(alpha) * std::expm1(x);
    return C(scale) * (x > C(0) ? x : neg);
  }
};

struct GeluErfF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    C e;
    if constexpr (kFastFloat<C>)
      e = erf_float(x * C(std::numbers::sqrt2 / 2));
    else
      e = std::erf(x * C(std::numbers::sqrt2 / 2));
    return C(0.5) * x * (C(1) + e);
  }
};

struct GeluTanhF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    constexpr C k = C(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
    C inner = k * (x + C(0.044715) * x * x * x);
    return C(0.5) * x * (C(1) + TanhF{}(inner));
  }
};

struct SiluF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return x / (C(1) + exp_of(-x));
  }
};

// PyTorch's softplus: x where beta * x > threshold, else log1p(exp(beta * x)) / beta, computed
// as max(bx, 0) + log1p(exp(-|bx|)) so that exp cannot overflow.
struct SoftplusF {
  double beta, threshold;
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    C bx = x * C(beta);
    C soft = ((bx > C(0) ? bx : C(0)) + Log1pF{}(exp_of(bx > C(0) ? -bx : bx))) / C(beta);
    return bx > C(threshold) ? x : soft;
  }
};

// x * tanh(log1p(exp(x))) = x * n / (n + 2) with n = exp(x) * (exp(x) + 2): no log, no
// tanh, and exact to rounding. Above 20, tanh(softplus(x)) is 1 in every float type.
struct MishF {
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    C e = exp_of(x < C(20) ? x : C(20));
    C n = e * (e + C(2));
    return x < C(20) ? x * n / (n + C(2)) : x;
  }
};

struct HardtanhF {
  double lo, hi;
  template <class C>
  [[gnu::always_inline]] C operator()(C x) const {
    return x < C(lo) ? C(lo) : (x > C(hi) ? C(hi) : x);
  }
};

template <class T, class F>
void reg(const char* op) {
  register_kernel(op, DeviceType::cpu, dtype_of_v<T>,
                  [](const KernelArgs& a) { elementwise<T, T>(a.out, {a.inputs[0]}, F{}); });
}

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

const bool registered = [] {
  for_each_numeric_dtype([]<class T>() { reg<T, ReluF>("relu"); });
  for_each_float_dtype([]<class T>() {
    const DType t = dtype_of_v<T>;
    reg<T, SigmoidF>("sigmoid");
    reg<T, SiluF>("silu");
    reg<T, MishF>("mish");
    register_kernel("leaky_relu", DeviceType::cpu, t, [](const KernelArgs& a) {
      elementwise<T, T>(a.out, {a.inputs[0]}, LeakyReluF{a.attrs.get<double>("negative_slope")});
    });
    register_kernel("elu", DeviceType::cpu, t, [](const KernelArgs& a) {
      elementwise<T, T>(a.out, {a.inputs[0]}, EluF{a.attrs.get<double>("alpha"), 1.0});
    });
    register_kernel("selu", DeviceType::cpu, t, [](const KernelArgs& a) {
      elementwise<T, T>(a.out, {a.inputs[0]}, EluF{kSeluAlpha, kSeluScale});
    });
    register_kernel("gelu", DeviceType::cpu, t, [](const KernelArgs& a) {
      if (a.attrs.get<std::string>("approximate") == "tanh")
        elementwise<T, T>(a.out, {a.inputs[0]}, GeluTanhF{});
      else
        elementwise<T, T>(a.out, {a.inputs[0]}, GeluErfF{});
    });
    register_kernel("softplus", DeviceType::cpu, t, [](const KernelArgs& a) {
      elementwise<T, T>(a.out, {a.inputs[0]},
                        SoftplusF{a.attrs.get<double>("beta"), a.attrs.get<double>("threshold")});
    });
    register_kernel("hardtanh", DeviceType::cpu, t, [](const KernelArgs& a) {
      elementwise<T, T>(a.out, {a.inputs[0]},
                        HardtanhF{a.attrs.get<double>("min_val"), a.attrs.get<double>("max_val")});
    });
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
