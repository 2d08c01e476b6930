// Rows for the unary ops and activations: sample values inside each op's domain, float64
// references written with <cmath>.
#include <cmath>
#include <numbers>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kFloats = {float32, float64, float16, bfloat16};
// Float math on integers computes in float32 (the int32 run checks the promotion).
const std::vector<DType> kFloatsAndInt = {float32, float64, float16, bfloat16, int32};
const std::vector<DType> kSigned = {float32, float64, float16, bfloat16, int32, int64, int8};
const std::vector<DType> kAll = {float32, float64, float16, bfloat16, int32, int64, int8, uint8};
const std::vector<DType> kAllBool = {float32, float64, float16, bfloat16, int32,
                                     int64,   int8,    uint8,   bool_};

using UnaryFn = Tensor (*)(const Tensor&);
using RefFn = double (*)(double);

Row unary_row(std::string op, UnaryFn f, RefFn ref, double lo, double hi,
              std::vector<DType> dtypes = kFloatsAndInt, bool grad = true, double tol = 1) {
  return Row{.op = std::move(op),
             .samples = unary_samples(lo, hi),
             .run = [f](const std::vector<Tensor>& in) { return f(in[0]); },
             .ref = [ref](const std::vector<Ref>& in) { return unary_ref(in[0], ref); },
             .dtypes = std::move(dtypes),
             .grad = grad,
             .tol_scale = tol};
}

// An activation with parameters: run and reference both close over them.
Row param_row(std::string op, std::string variant, std::function<Tensor(const Tensor&)> f,
              std::function<double(double)> ref, double lo = -3, double hi = 3) {
  return Row{.op = std::move(op),
             .variant = std::move(variant),
             .samples = unary_samples(lo, hi),
             .run = [f](const std::vector<Tensor>& in) { return f(in[0]); },
             .ref = [ref](const std::vector<Ref>& in) { return unary_ref(in[0], ref); },
             .dtypes = kFloatsAndInt};
}

double sign_ref(double v) { return double((0 < v) - (v < 0)); }
double sigmoid_ref(double v) { return 1 / (1 + std::exp(-v)); }
double elu_ref(double v, double alpha) { return v > 0 ? v : alpha * std::expm1(v); }
double softplus_ref(double v, double beta, double threshold) {
  return v * beta > threshold ? v : std::log1p(std::exp(v * beta)) / beta;
}
double gelu_tanh_ref(double v) {
  double k = std::sqrt(2 / std::numbers::pi);
  return 0.5 * v * (1 + std::tanh(k * (v + 0.044715 * v * v * v)));
}

// Predicates need NaN and inf among the values: the rows make them with other ops.
Row predicate_row(std::string op, std::string variant, std::function<Tensor(const Tensor&)> f,
                  std::function<double(double)> ref, std::vector<DType> dtypes) {
  return Row{.op = std::move(op),
             .variant = std::move(variant),
             .samples = unary_samples(-2, 2),
             .run = [f](const std::vector<Tensor>& in) { return f(in[0]); },
             .ref = [ref](const std::vector<Ref>& in) { return unary_ref(in[0], ref); },
             .dtypes = std::move(dtypes),
             .grad = false};
}

NABLA_OP_ROWS(
    // arithmetic
    Row{.op = "neg",
        .samples = unary_samples(),
        .run = [](const std::vector<Tensor>& in) { return -in[0]; },
        .ref =
            [](const std::vector<Ref>& in) {
              return unary_ref(in[0], [](double v) { return -v; });
            },
        .dtypes = kSigned},
    unary_row(
        "abs", abs, [](double v) { return std::fabs(v); }, -2, 2, kAll),
    unary_row("sign", sign, sign_ref, -2, 2, kAllBool),
    unary_row(
        "square", square, [](double v) { return v * v; }, -2, 2, kSigned),
    unary_row(
        "reciprocal", reciprocal, [](double v) { return 1 / v; }, 0.3, 3),
    unary_row(
        "sqrt", sqrt, [](double v) { return std::sqrt(v); }, 0.1, 4),
    unary_row(
        "rsqrt", rsqrt, [](double v) { return 1 / std::sqrt(v); }, 0.3, 4),
    // exponentials and logarithms
    unary_row(
        "exp", exp, [](double v) { return std::exp(v); }, -5, 5),
    unary_row(
        "exp2", exp2, [](double v) { return std::exp2(v); }, -5, 5),
    unary_row(
        "expm1", expm1, [](double v) { return std::expm1(v); }, -2, 2),
    unary_row(
        "log", log, [](double v) { return std::log(v); }, 0.1, 5),
    unary_row(
        "log2", log2, [](double v) { return std::log2(v); }, 0.1, 5),
    unary_row(
        "log1p", log1p, [](double v) { return std::log1p(v); }, -0.5, 3),
    // trigonometric and hyperbolic
    unary_row(
        "sin", sin, [](double v) { return std::sin(v); }, -4, 4),
    unary_row(
        "cos", cos, [](double v) { return std::cos(v); }, -4, 4),
    unary_row(
        "tan", tan, [](double v) { return std::tan(v); }, -1.2, 1.2),
    unary_row(
        "asin", asin, [](double v) { return std::asin(v); }, -0.9, 0.9, kFloats),
    unary_row(
        "acos", acos, [](double v) { return std::acos(v); }, -0.9, 0.9, kFloats),
    unary_row(
        "atan", atan, [](double v) { return std::atan(v); }, -4, 4),
    unary_row(
        "sinh", sinh, [](double v) { return std::sinh(v); }, -3, 3),
    unary_row(
        "cosh", cosh, [](double v) { return std::cosh(v); }, -3, 3),
    unary_row(
        "tanh", tanh, [](double v) { return std::tanh(v); }, -4, 4),
    unary_row(
        "erf", erf, [](double v) { return std::erf(v); }, -3, 3),
    // activations
    unary_row("sigmoid", sigmoid, sigmoid_ref, -8, 8),
    unary_row(
        "relu", relu, [](double v) { return v > 0 ? v : 0.0; }, -2, 2, kAll),
    param_row(
        "leaky_relu", "", [](const Tensor& x) { return leaky_relu(x); },
        [](double v) { return v > 0 ? v : 0.01 * v; }),
    param_row(
        "leaky_relu", "slope", [](const Tensor& x) { return leaky_relu(x, 0.3); },
        [](double v) { return v > 0 ? v : 0.3 * v; }),
    param_row(
        "elu", "", [](const Tensor& x) { return elu(x); },
        [](double v) { return elu_ref(v, 1.0); }),
    param_row(
        "elu", "alpha", [](const Tensor& x) { return elu(x, 0.5); },
        [](double v) { return elu_ref(v, 0.5); }),
    unary_row(
        "selu", selu,
        [](double v) {
          return 1.0507009873554804934193349852946 * elu_ref(v, 1.6732632423543772848170429916717);
        },
        -3, 3),
    param_row(
        "gelu", "", [](const Tensor& x) { return gelu(x); },
        [](double v) { return 0.5 * v * (1 + std::erf(v / std::numbers::sqrt2)); }),
    param_row(
        "gelu", "tanh", [](const Tensor& x) { return gelu(x, "tanh"); }, gelu_tanh_ref),
    unary_row(
        "silu", silu, [](double v) { return v * sigmoid_ref(v); }, -8, 8),
    param_row(
        "softplus", "", [](const Tensor& x) { return softplus(x); },
        [](double v) { return softplus_ref(v, 1, 20); }, -25, 25),
    param_row(
        "softplus", "beta_threshold", [](const Tensor& x) { return softplus(x, 2, 3); },
        [](double v) { return softplus_ref(v, 2, 3); }),
    unary_row(
        "mish", mish, [](double v) { return v * std::tanh(std::log1p(std::exp(v))); }, -6, 25),
    param_row(
        "hardtanh", "", [](const Tensor& x) { return hardtanh(x); },
        [](double v) { return std::clamp(v, -1.0, 1.0); }),
    param_row(
        "hardtanh", "range", [](const Tensor& x) { return hardtanh(x, -0.5, 1.5); },
        [](double v) { return std::clamp(v, -0.5, 1.5); }),
    // rounding
    unary_row(
        "floor", floor, [](double v) { return std::floor(v); }, -3, 3, kAllBool),
    unary_row(
        "ceil", ceil, [](double v) { return std::ceil(v); }, -3, 3, kAllBool),
    unary_row(
        "round", round, [](double v) { return std::nearbyint(v); }, -3, 3, kAllBool),
    unary_row(
        "trunc", trunc, [](double v) { return std::trunc(v); }, -3, 3, kAllBool),
    // predicates
    predicate_row(
        "isnan", "", [](const Tensor& x) { return isnan(x); }, [](double) { return 0.0; },
        kAllBool),
    predicate_row(
        "isnan", "of_log", [](const Tensor& x) { return isnan(log(x)); },
        [](double v) { return v < 0 ? 1.0 : 0.0; }, kFloats),
    predicate_row(
        "isinf", "", [](const Tensor& x) { return isinf(x); }, [](double) { return 0.0; },
        kAllBool),
    predicate_row(
        "isinf", "of_reciprocal", [](const Tensor& x) { return isinf(reciprocal(floor(x))); },
        [](double v) { return std::floor(v) == 0 ? 1.0 : 0.0; }, kFloats),
    predicate_row(
        "isfinite", "", [](const Tensor& x) { return isfinite(x); }, [](double) { return 1.0; },
        kAllBool),
    predicate_row(
        "isfinite", "of_log", [](const Tensor& x) { return isfinite(log(floor(x))); },
        [](double v) { return std::floor(v) > 0 ? 1.0 : 0.0; }, kFloats),
    predicate_row(
        "logical_not", "", [](const Tensor& x) { return logical_not(x); },
        [](double v) { return v == 0 ? 1.0 : 0.0; }, kAllBool),
    predicate_row(
        "logical_not", "of_floor", [](const Tensor& x) { return logical_not(floor(x)); },
        [](double v) { return std::floor(v) == 0 ? 1.0 : 0.0; }, kFloats));

}  // namespace
}  // namespace nabla::optable
