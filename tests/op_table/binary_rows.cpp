// Rows for the binary family: floor_divide, remainder, pow, maximum, minimum, atan2, xlogy,
// the comparisons and logical ops, bool add/mul, and where, clamp and lerp.
#include <cmath>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kAll = {float32, float64, float16, bfloat16, int32, int64, int8, uint8};
const std::vector<DType> kAllBool = {float32, float64, float16, bfloat16, int32,
                                     int64,   int8,    uint8,   bool_};
const std::vector<DType> kFloats = {float32, float64, float16, bfloat16};
const std::vector<DType> kSigned = {float32, float64, float16, bfloat16, int32, int64, int8};

using Samples = std::vector<std::vector<Arg>>;

// binary_samples with operand k drawn from [lo, hi) instead.
Samples with_range(Samples s, std::size_t k, double lo, double hi) {
  for (auto& args : s) {
    args[k].lo = lo;
    args[k].hi = hi;
  }
  return s;
}
Samples integers(Samples s) {
  for (auto& args : s)
    for (Arg& a : args) a.integer_values = true;
  return s;
}

double py_floor_div(double a, double b) { return std::floor(a / b); }
double py_mod(double a, double b) { return a - std::floor(a / b) * b; }

Row binary_row(std::string op, std::string variant, Samples samples,
               std::function<Tensor(const Tensor&, const Tensor&)> run,
               std::function<double(double, double)> ref, std::vector<DType> dtypes, bool grad,
               double tol_scale = 1) {
  return Row{.op = std::move(op),
             .variant = std::move(variant),
             .samples = std::move(samples),
             .run = [run](const std::vector<Tensor>& in) { return run(in[0], in[1]); },
             .ref = [ref](const std::vector<Ref>& in) { return binary_ref(in[0], in[1], ref); },
             .dtypes = std::move(dtypes),
             .grad = grad,
             .tol_scale = tol_scale};
}

// Unary rows over one input with a scalar baked into the run (x ** 2, clamp(x, -1, 1)...).
Row scalar_row(std::string op, std::string variant, std::function<Tensor(const Tensor&)> run,
               std::function<double(double)> ref, std::vector<DType> dtypes, bool grad,
               double lo = -2, double hi = 2) {
  return Row{.op = std::move(op),
             .variant = std::move(variant),
             .samples = unary_samples(lo, hi),
             .run = [run](const std::vector<Tensor>& in) { return run(in[0]); },
             .ref = [ref](const std::vector<Ref>& in) { return unary_ref(in[0], ref); },
             .dtypes = std::move(dtypes),
             .grad = grad};
}

Samples ternary_samples(std::optional<DType> first) {
  auto a = [&](Shape s, bool nc = false, std::optional<DType> t = std::nullopt) {
    return Arg{.shape = s, .non_contiguous = nc, .dtype = t};
  };
  return {
      {a({3, 4}, false, first), a({3, 4}), a({3, 4})},
      {a({3, 1}, false, first), a({1, 4}), a({4})},
      {a({2, 3, 4}, false, first), a({}), a({3, 1})},
      {a({}, false, first), a({2, 3}), a({})},
      {a({0, 3}, false, first), a({3}), a({1})},
      {a({4, 5}, true, first), a({4, 5}, true), a({4, 5})},
      {a({70, 1000}, false, first), a({70, 1000}), a({1000})},
  };
}

// Ties matter for comparisons: integer values make them common.
Row compare_row(std::string op, std::function<Tensor(const Tensor&, const Tensor&)> run,
                std::function<bool(double, double)> ref) {
  return binary_row(
      std::move(op), "", integers(binary_samples(-3, 3)), std::move(run),
      [ref](double a, double b) { return ref(a, b) ? 1.0 : 0.0; }, kAllBool, false);
}

NABLA_OP_ROWS(
    binary_row(
        "floor_divide", "positive_divisor", with_range(binary_samples(-6, 6), 1, 1, 4),
        [](const Tensor& a, const Tensor& b) { return floor_divide(a, b); }, py_floor_div, kSigned,
        false),
    binary_row(
        "floor_divide", "negative_divisor", with_range(binary_samples(-6, 6), 1, -4, -1),
        [](const Tensor& a, const Tensor& b) { return floor_divide(a, b); }, py_floor_div, kSigned,
        false),
    binary_row(
        "floor_divide", "unsigned", with_range(binary_samples(0, 50), 1, 1, 9),
        [](const Tensor& a, const Tensor& b) { return floor_divide(a, b); }, py_floor_div, {uint8},
        false),
    binary_row(
        "remainder", "positive_divisor", with_range(binary_samples(-6, 6), 1, 1, 4),
        [](const Tensor& a, const Tensor& b) { return a % b; }, py_mod, kSigned, true, 4),
    binary_row(
        "remainder", "negative_divisor", with_range(binary_samples(-6, 6), 1, -4, -1),
        [](const Tensor& a, const Tensor& b) { return remainder(a, b); }, py_mod, kSigned, true, 4),
    binary_row(
        "pow", "", with_range(binary_samples(0.5, 2), 1, -2, 2),
        [](const Tensor& a, const Tensor& b) { return pow(a, b); },
        [](double a, double b) { return std::pow(a, b); }, kFloats, true, 4),
    binary_row(
        "pow", "integers", with_range(integers(binary_samples(-3, 4)), 1, 0, 4),
        [](const Tensor& a, const Tensor& b) { return pow(a, b); },
        [](double a, double b) { return std::pow(a, b); }, {int32, int64, int8}, false),
    binary_row(
        "pow", "negative_integer_exponent", with_range(integers(binary_samples(-2, 3)), 1, -3, 0),
        [](const Tensor& a, const Tensor& b) { return pow(a, b); },
        [](double a, double b) { return a == 0 ? 0.0 : std::trunc(std::pow(a, b)); },
        {int32, int64}, false),
    scalar_row(
        "pow", "square", [](const Tensor& x) { return pow(x, 2); }, [](double x) { return x * x; },
        kAll, true),
    scalar_row(
        "pow", "sqrt", [](const Tensor& x) { return pow(x, 0.5); },
        [](double x) { return std::sqrt(x); }, kFloats, true, 0.5, 3),
    scalar_row(
        "pow", "cube_and_reciprocals",
        [](const Tensor& x) { return pow(x, 3) + pow(x, -1) + pow(x, -2) + pow(x, 1) + pow(x, 0); },
        [](double x) { return x * x * x + 1 / x + 1 / (x * x) + x + 1; }, kFloats, true, 0.5, 2),
    scalar_row(
        "pow", "general_exponent", [](const Tensor& x) { return pow(x, 1.7); },
        [](double x) { return std::pow(x, 1.7); }, {float32, float64}, true, 0.5, 3),
    scalar_row(
        "pow", "scalar_base", [](const Tensor& x) { return pow(2.5, x); },
        [](double x) { return std::pow(2.5, x); }, {float32, float64}, true),
    binary_row(
        "maximum", "", binary_samples(),
        [](const Tensor& a, const Tensor& b) { return maximum(a, b); },
        [](double a, double b) { return std::max(a, b); }, kAllBool, true),
    binary_row(
        "minimum", "", binary_samples(),
        [](const Tensor& a, const Tensor& b) { return minimum(a, b); },
        [](double a, double b) { return std::min(a, b); }, kAllBool, true),
    binary_row(
        "atan2", "", binary_samples(), [](const Tensor& a, const Tensor& b) { return atan2(a, b); },
        [](double a, double b) { return std::atan2(a, b); }, kFloats, true),
    binary_row(
        "atan2", "integers", integers(binary_samples(-3, 3)),
        [](const Tensor& a, const Tensor& b) { return atan2(a, b); },
        [](double a, double b) { return std::atan2(a, b); }, {int32, int64}, false),
    binary_row(
        "xlogy", "", with_range(binary_samples(), 1, 0.25, 3),
        [](const Tensor& a, const Tensor& b) { return xlogy(a, b); },
        [](double a, double b) { return a * std::log(b); }, kFloats, true),
    binary_row(
        "xlogy", "zeros", with_range(integers(binary_samples(-1, 2)), 1, 0, 3),
        [](const Tensor& a, const Tensor& b) { return xlogy(a, b); },
        [](double a, double b) { return a == 0 ? 0.0 : a * std::log(b); }, kFloats, false),
    binary_row(
        "add", "bool", binary_samples(), [](const Tensor& a, const Tensor& b) { return a + b; },
        [](double a, double b) { return double(a != 0 || b != 0); }, {bool_}, false),
    binary_row(
        "mul", "bool", binary_samples(), [](const Tensor& a, const Tensor& b) { return a * b; },
        [](double a, double b) { return double(a != 0 && b != 0); }, {bool_}, false),
    compare_row(
        "eq", [](const Tensor& a, const Tensor& b) { return a == b; },
        [](double a, double b) { return a == b; }),
    compare_row(
        "ne", [](const Tensor& a, const Tensor& b) { return a != b; },
        [](double a, double b) { return a != b; }),
    compare_row(
        "lt", [](const Tensor& a, const Tensor& b) { return a < b; },
        [](double a, double b) { return a < b; }),
    compare_row(
        "le", [](const Tensor& a, const Tensor& b) { return a <= b; },
        [](double a, double b) { return a <= b; }),
    compare_row(
        "gt", [](const Tensor& a, const Tensor& b) { return a > b; },
        [](double a, double b) { return a > b; }),
    compare_row(
        "ge", [](const Tensor& a, const Tensor& b) { return a >= b; },
        [](double a, double b) { return a >= b; }),
    compare_row(
        "logical_and", [](const Tensor& a, const Tensor& b) { return logical_and(a, b); },
        [](double a, double b) { return a != 0 && b != 0; }),
    compare_row(
        "logical_or", [](const Tensor& a, const Tensor& b) { return logical_or(a, b); },
        [](double a, double b) { return a != 0 || b != 0; }),
    compare_row(
        "logical_xor", [](const Tensor& a, const Tensor& b) { return logical_xor(a, b); },
        [](double a, double b) { return (a != 0) != (b != 0); }),
    scalar_row(
        "lt", "weak_scalar", [](const Tensor& x) { return x < 0.5; },
        [](double x) { return double(x < 0.5); }, kAll, false),
    scalar_row(
        "ge", "scalar_first", [](const Tensor& x) { return 1 >= x; },
        [](double x) { return double(1 >= x); }, kAll, false),
    Row{.op = "where",
        .samples = ternary_samples(bool_),
        .run = [](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); },
        .ref =
            [](const std::vector<Ref>& in) {
              return elementwise_ref(
                  in, [](const std::vector<double>& v) { return v[0] != 0 ? v[1] : v[2]; });
            },
        .dtypes = kAllBool},
    scalar_row(
        "where", "scalar_branch", [](const Tensor& x) { return where(x > 0, x, -1); },
        [](double x) { return x > 0 ? x : -1; }, kSigned, true),
    scalar_row(
        "clamp", "both", [](const Tensor& x) { return clamp(x, -1, 1.0); },
        [](double x) { return std::clamp(x, -1.0, 1.0); }, kAll, true, -3, 3),
    scalar_row(
        "clamp", "min_only", [](const Tensor& x) { return clamp_min(x, 0.25); },
        [](double x) { return std::max(x, 0.25); }, kFloats, true),
    scalar_row(
        "clamp", "max_only_integral", [](const Tensor& x) { return clamp_max(x, 1); },
        [](double x) { return std::min(x, 1.0); }, kAll, true),
    scalar_row(
        "clamp", "min_above_max", [](const Tensor& x) { return clamp(x, 1, 0); },
        [](double) { return 0.0; }, kAll, false),
    Row{.op = "clamp",
        .variant = "tensor_bounds",
        .samples = ternary_samples(std::nullopt),
        .run = [](const std::vector<Tensor>& in) { return clamp(in[0], in[1] - 1, in[2] + 1); },
        .ref =
            [](const std::vector<Ref>& in) {
              return elementwise_ref(in, [](const std::vector<double>& v) {
                double lo = v[1] - 1, hi = v[2] + 1;
                return std::min(std::max(v[0], lo), hi);
              });
            },
        .dtypes = kSigned,
        .also_covers = {"where", "lt", "gt"}},
    Row{.op = "lerp",
        .samples = ternary_samples(std::nullopt),
        .run = [](const std::vector<Tensor>& in) { return lerp(in[0], in[1], in[2]); },
        .ref =
            [](const std::vector<Ref>& in) {
              return elementwise_ref(
                  in, [](const std::vector<double>& v) { return v[0] + v[2] * (v[1] - v[0]); });
            },
        .dtypes = kFloats,
        .tol_scale = 4},
    binary_row(
        "lerp", "scalar_weight", binary_samples(),
        [](const Tensor& a, const Tensor& b) { return lerp(a, b, 0.75); },
        [](double a, double b) { return a + 0.75 * (b - a); }, kFloats, true, 4));

}  // namespace
}  // namespace nabla::optable
