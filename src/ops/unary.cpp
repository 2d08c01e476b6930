// Unary elementwise ops: arithmetic, exponentials, trigonometry, rounding and predicates.
// The activations live in activation.cpp.
#include "nabla/ops/unary.h"

#include <numbers>

#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "ops/unary_common.h"

namespace nabla {

void check_defined(const Tensor& x, const char* op) {
  if (!x.defined()) throw ValueError("[" + std::string(op) + "] the input is undefined");
}

Tensor floating_input(const Tensor& x, const char* op) {
  check_defined(x, op);
  return is_floating(x.dtype()) ? x : x.astype(float32);
}

Tensor numeric_input(const Tensor& x, const char* op) {
  check_defined(x, op);
  if (x.dtype() == bool_)
    throw DTypeError("[" + std::string(op) + "] is not defined for bool inputs, got bool " +
                     shape_str(x.shape()));
  return x;
}

OpDef unary_def(const char* name, VjpFn vjp, InferFn infer) {
  return OpDef{.name = name, .flags = kElementwise, .arity = 1, .infer = infer, .vjp = vjp};
}

std::vector<Tensor> zero_gradient(const VjpContext& c) { return {zeros_like(c.cotangent)}; }

namespace {

using Grads = std::vector<Tensor>;

OutputMeta bool_output(std::span<const Tensor> in, const Attrs&) { return {in[0].shape(), bool_}; }

constexpr double kLn2 = std::numbers::ln2;

// --- arithmetic
const OpDef& kNeg =
    define_op(unary_def("neg", [](const VjpContext& c) -> Grads { return {neg(c.cotangent)}; }));
const OpDef& kAbs = define_op(unary_def(
    "abs", [](const VjpContext& c) -> Grads { return {c.cotangent * sign(c.inputs[0])}; }));
const OpDef& kSign = define_op(unary_def("sign", zero_gradient));
const OpDef& kSquare = define_op(unary_def(
    "square", [](const VjpContext& c) -> Grads { return {c.cotangent * c.inputs[0] * 2}; }));
const OpDef& kReciprocal = define_op(unary_def("reciprocal", [](const VjpContext& c) -> Grads {
  return {neg(c.cotangent * square(c.output))};
}));
const OpDef& kSqrt = define_op(
    unary_def("sqrt", [](const VjpContext& c) -> Grads { return {c.cotangent / (c.output * 2)}; }));
const OpDef& kRsqrt = define_op(unary_def("rsqrt", [](const VjpContext& c) -> Grads {
  const Tensor& y = c.output;
  return {c.cotangent * (y * y * y) * -0.5};
}));

// --- exponentials and logarithms
const OpDef& kExp = define_op(
    unary_def("exp", [](const VjpContext& c) -> Grads { return {c.cotangent * c.output}; }));
const OpDef& kExp2 = define_op(unary_def(
    "exp2", [](const VjpContext& c) -> Grads { return {c.cotangent * c.output * kLn2}; }));
const OpDef& kExpm1 = define_op(unary_def(
    "expm1", [](const VjpContext& c) -> Grads { return {c.cotangent * (c.output + 1)}; }));
const OpDef& kLog = define_op(
    unary_def("log", [](const VjpContext& c) -> Grads { return {c.cotangent / c.inputs[0]}; }));
const OpDef& kLog2 = define_op(unary_def(
    "log2", [](const VjpContext& c) -> Grads { return {c.cotangent / (c.inputs[0] * kLn2)}; }));
const OpDef& kLog1p = define_op(unary_def(
    "log1p", [](const VjpContext& c) -> Grads { return {c.cotangent / (c.inputs[0] + 1)}; }));

// --- trigonometric and hyperbolic
const OpDef& kSin = define_op(unary_def(
    "sin", [](const VjpContext& c) -> Grads { return {c.cotangent * cos(c.inputs[0])}; }));
const OpDef& kCos = define_op(unary_def(
    "cos", [](const VjpContext& c) -> Grads { return {neg(c.cotangent * sin(c.inputs[0]))}; }));
const OpDef& kTan = define_op(unary_def(
    "tan", [](const VjpContext& c) -> Grads { return {c.cotangent * (square(c.output) + 1)}; }));
const OpDef& kAsin = define_op(unary_def("asin", [](const VjpContext& c) -> Grads {
  return {c.cotangent * rsqrt(1 - square(c.inputs[0]))};
}));
const OpDef& kAcos = define_op(unary_def("acos", [](const VjpContext& c) -> Grads {
  return {neg(c.cotangent * rsqrt(1 - square(c.inputs[0])))};
}));
const OpDef& kAtan = define_op(unary_def("atan", [](const VjpContext& c) -> Grads {
  return {c.cotangent / (square(c.inputs[0]) + 1)};
}));
const OpDef& kSinh = define_op(unary_def(
    "sinh", [](const VjpContext& c) -> Grads { return {c.cotangent * cosh(c.inputs[0])}; }));
const OpDef& kCosh = define_op(unary_def(
    "cosh", [](const VjpContext& c) -> Grads { return {c.cotangent * sinh(c.inputs[0])}; }));
const OpDef& kTanh = define_op(unary_def(
    "tanh", [](const VjpContext& c) -> Grads { return {c.cotangent * (1 - square(c.output))}; }));
const OpDef& kErf = define_op(unary_def("erf", [](const VjpContext& c) -> Grads {
  return {c.cotangent * exp(neg(square(c.inputs[0]))) * std::numbers::inv_sqrtpi * 2};
}));

// --- rounding
const OpDef& kFloor = define_op(unary_def("floor", zero_gradient));
const OpDef& kCeil = define_op(unary_def("ceil", zero_gradient));
const OpDef& kRound = define_op(unary_def("round", zero_gradient));
const OpDef& kTrunc = define_op(unary_def("trunc", zero_gradient));

// --- predicates
const OpDef& kIsnan = define_op(unary_def("isnan", nullptr, bool_output));
const OpDef& kIsinf = define_op(unary_def("isinf", nullptr, bool_output));
const OpDef& kIsfinite = define_op(unary_def("isfinite", nullptr, bool_output));
const OpDef& kLogicalNot = define_op(unary_def("logical_not", nullptr, bool_output));

Tensor apply_float(const OpDef& op, const Tensor& x) {
  return apply(op, {floating_input(x, op.name.c_str())});
}
Tensor apply_numeric(const OpDef& op, const Tensor& x) {
  return apply(op, {numeric_input(x, op.name.c_str())});
}
// Rounding is the identity on integers: a copy, as PyTorch returns.
Tensor apply_rounding(const OpDef& op, const Tensor& x) {
  check_defined(x, op.name.c_str());
  return is_floating(x.dtype()) ? apply(op, {x}) : x.clone();
}
Tensor apply_any(const OpDef& op, const Tensor& x) {
  check_defined(x, op.name.c_str());
  return apply(op, {x});
}

}  // namespace

Tensor neg(const Tensor& x) { return apply_numeric(kNeg, x); }
Tensor abs(const Tensor& x) { return apply_numeric(kAbs, x); }
Tensor sign(const Tensor& x) { return apply_any(kSign, x); }
Tensor square(const Tensor& x) { return apply_numeric(kSquare, x); }
Tensor reciprocal(const Tensor& x) { return apply_float(kReciprocal, x); }
Tensor sqrt(const Tensor& x) { return apply_float(kSqrt, x); }
Tensor rsqrt(const Tensor& x) { return apply_float(kRsqrt, x); }

Tensor exp(const Tensor& x) { return apply_float(kExp, x); }
Tensor exp2(const Tensor& x) { return apply_float(kExp2, x); }
Tensor expm1(const Tensor& x) { return apply_float(kExpm1, x); }
Tensor log(const Tensor& x) { return apply_float(kLog, x); }
Tensor log2(const Tensor& x) { return apply_float(kLog2, x); }
Tensor log1p(const Tensor& x) { return apply_float(kLog1p, x); }

Tensor sin(const Tensor& x) { return apply_float(kSin, x); }
Tensor cos(const Tensor& x) { return apply_float(kCos, x); }
Tensor tan(const Tensor& x) { return apply_float(kTan, x); }
Tensor asin(const Tensor& x) { return apply_float(kAsin, x); }
Tensor acos(const Tensor& x) { return apply_float(kAcos, x); }
Tensor atan(const Tensor& x) { return apply_float(kAtan, x); }
Tensor sinh(const Tensor& x) { return apply_float(kSinh, x); }
Tensor cosh(const Tensor& x) { return apply_float(kCosh, x); }
Tensor tanh(const Tensor& x) { return apply_float(kTanh, x); }
Tensor erf(const Tensor& x) { return apply_float(kErf, x); }

Tensor floor(const Tensor& x) { return apply_rounding(kFloor, x); }
Tensor ceil(const Tensor& x) { return apply_rounding(kCeil, x); }
Tensor round(const Tensor& x) { return apply_rounding(kRound, x); }
Tensor trunc(const Tensor& x) { return apply_rounding(kTrunc, x); }

Tensor isnan(const Tensor& x) { return apply_any(kIsnan, x); }
Tensor isinf(const Tensor& x) { return apply_any(kIsinf, x); }
Tensor isfinite(const Tensor& x) { return apply_any(kIsfinite, x); }
Tensor logical_not(const Tensor& x) { return apply_any(kLogicalNot, x); }

}  // namespace nabla
