// Activation functions, with PyTorch's definitions, defaults and gradients (also at the kinks:
// relu'(0) = 0, leaky_relu'(0) = slope, hardtanh' = 0 at the clip points).
#include <numbers>

#include "nabla/ops/binary.h"
#include "nabla/ops/unary.h"
#include "ops/unary_common.h"

namespace nabla {
namespace {

using Grads = std::vector<Tensor>;

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;
constexpr double kGeluCubic = 0.044715;

// 1 where x > 0, else 0 (also at 0): the mask of piecewise activations' gradients.
Tensor positive_mask(const Tensor& x) { return sign(relu(x)); }

// d/dx of elu with unit scale: 1 for x > 0, alpha * exp(x) otherwise. exp of min(x, 0)
// keeps the unused branch finite for large x.
Tensor elu_slope(const Tensor& x, double alpha) {
  Tensor m = positive_mask(x);
  return m + (1 - m) * exp(x - relu(x)) * alpha;
}

const OpDef& kSigmoid = define_op(unary_def("sigmoid", [](const VjpContext& c) -> Grads {
  const Tensor& y = c.output;
  return {c.cotangent * y * (1 - y)};
}));

const OpDef& kRelu = define_op(
    unary_def("relu", [](const VjpContext& c) -> Grads { return {c.cotangent * sign(c.output)}; }));

const OpDef& kLeakyRelu = define_op(unary_def("leaky_relu", [](const VjpContext& c) -> Grads {
  double slope = c.attrs.get<double>("negative_slope");
  return {c.cotangent * (positive_mask(c.inputs[0]) * (1 - slope) + slope)};
}));

const OpDef& kElu = define_op(unary_def("elu", [](const VjpContext& c) -> Grads {
  return {c.cotangent * elu_slope(c.inputs[0], c.attrs.get<double>("alpha"))};
}));

const OpDef& kSelu = define_op(unary_def("selu", [](const VjpContext& c) -> Grads {
  return {c.cotangent * elu_slope(c.inputs[0], kSeluAlpha) * kSeluScale};
}));

const OpDef& kGelu = define_op(unary_def("gelu", [](const VjpContext& c) -> Grads {
  const Tensor& x = c.inputs[0];
  if (c.attrs.get<std::string>("approximate") == "tanh") {
    Tensor t = tanh((x + x * x * x * kGeluCubic) * kSqrt2OverPi);
    Tensor dinner = (x * x * (3 * kGeluCubic) + 1) * kSqrt2OverPi;
    return {c.cotangent * ((t + 1) * 0.5 + x * (1 - t * t) * dinner * 0.5)};
  }
  Tensor cdf = (erf(x * (std::numbers::sqrt2 / 2)) + 1) * 0.5;
  Tensor pdf = exp(x * x * -0.5) * ((std::numbers::sqrt2 / 2) * std::numbers::inv_sqrtpi);
  return {c.cotangent * (cdf + x * pdf)};
}));

const OpDef& kSilu = define_op(unary_def("silu", [](const VjpContext& c) -> Grads {
  const Tensor& x = c.inputs[0];
  Tensor s = sigmoid(x);
  return {c.cotangent * s * (x * (1 - s) + 1)};
}));

const OpDef& kSoftplus = define_op(unary_def("softplus", [](const VjpContext& c) -> Grads {
  double beta = c.attrs.get<double>("beta"), threshold = c.attrs.get<double>("threshold");
  Tensor bx = c.inputs[0] * beta;
  Tensor linear = positive_mask(bx - threshold);  // where softplus returned x itself
  return {c.cotangent * (linear + (1 - linear) * sigmoid(bx))};
}));

const OpDef& kMish = define_op(unary_def("mish", [](const VjpContext& c) -> Grads {
  const Tensor& x = c.inputs[0];
  Tensor t = tanh(softplus(x));
  return {c.cotangent * (t + x * (1 - t * t) * sigmoid(x))};
}));

const OpDef& kHardtanh = define_op(unary_def("hardtanh", [](const VjpContext& c) -> Grads {
  const Tensor& x = c.inputs[0];
  double lo = c.attrs.get<double>("min_val"), hi = c.attrs.get<double>("max_val");
  return {c.cotangent * positive_mask(x - lo) * positive_mask(hi - x)};
}));

}  // namespace

Tensor sigmoid(const Tensor& x) { return apply(kSigmoid, {floating_input(x, "sigmoid")}); }
Tensor relu(const Tensor& x) { return apply(kRelu, {numeric_input(x, "relu")}); }

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return apply(kLeakyRelu, {floating_input(x, "leaky_relu")}, {{"negative_slope", negative_slope}});
}

Tensor elu(const Tensor& x, double alpha) {
  return apply(kElu, {floating_input(x, "elu")}, {{"alpha", alpha}});
}

Tensor selu(const Tensor& x) { return apply(kSelu, {floating_input(x, "selu")}); }

Tensor gelu(const Tensor& x, const std::string& approximate) {
  if (approximate != "none" && approximate != "tanh")
    throw ValueError("[gelu] approximate must be \"none\" or \"tanh\", got \"" + approximate +
                     "\"");
  return apply(kGelu, {floating_input(x, "gelu")}, {{"approximate", approximate}});
}

Tensor silu(const Tensor& x) { return apply(kSilu, {floating_input(x, "silu")}); }

Tensor softplus(const Tensor& x, double beta, double threshold) {
  if (beta == 0) throw ValueError("[softplus] beta must be nonzero");
  return apply(kSoftplus, {floating_input(x, "softplus")},
               {{"beta", beta}, {"threshold", threshold}});
}

Tensor mish(const Tensor& x) { return apply(kMish, {floating_input(x, "mish")}); }

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  if (min_val > max_val)
    throw ValueError("[hardtanh] min_val (" + std::to_string(min_val) +
                     ") must not exceed max_val (" + std::to_string(max_val) + ")");
  return apply(kHardtanh, {floating_input(x, "hardtanh")},
               {{"min_val", min_val}, {"max_val", max_val}});
}

}  // namespace nabla
