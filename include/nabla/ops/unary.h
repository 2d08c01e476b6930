// Unary elementwise ops: arithmetic, exponentials and logarithms, trigonometry, activations,
// rounding and predicates. Every op keeps the input's shape.
//
// Dtypes follow PyTorch:
// - float math (exp ... erf and the activations but relu) computes in the input's floating
//   dtype (float16/bfloat16 in float32, rounded back); integer and bool inputs are promoted
//   to float32 first.
// - neg, abs, square and relu keep integer dtypes and reject bool (DTypeError); sign also
//   takes bool.
// - floor, ceil, round and trunc return a copy of integer and bool inputs.
// - isnan, isinf, isfinite and logical_not take any dtype and return bool.
// Gradients: sign, floor, ceil, round and trunc have a zero gradient; the predicates none.
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla {

// --- arithmetic
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // -1, 0 or 1; NaN gives 0, as in PyTorch
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);  // 1 / sqrt(x)

// --- exponentials and logarithms
Tensor exp(const Tensor& x);
Tensor exp2(const Tensor& x);
Tensor expm1(const Tensor& x);  // exp(x) - 1, accurate near 0
Tensor log(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log1p(const Tensor& x);  // log(1 + x), accurate near 0

// --- trigonometric and hyperbolic
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor erf(const Tensor& x);

// --- activations (PyTorch's definitions and defaults)
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor selu(const Tensor& x);
// approximate: "none" (exact, with erf) or "tanh".
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor silu(const Tensor& x);  // x * sigmoid(x)
// log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor mish(const Tensor& x);  // x * tanh(softplus(x))
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);

// --- rounding (round: half to even, like PyTorch)
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);
Tensor trunc(const Tensor& x);

// --- predicates (bool results)
Tensor isnan(const Tensor& x);
Tensor isinf(const Tensor& x);
Tensor isfinite(const Tensor& x);
Tensor logical_not(const Tensor& x);  // x == 0

inline Tensor operator-(const Tensor& x) { return neg(x); }

}  // namespace nabla
