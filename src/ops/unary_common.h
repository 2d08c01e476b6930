// Helpers shared by the unary op definitions (unary.cpp, activation.cpp).
#pragma once
#include "ops/common.h"

namespace nabla {

// ValueError when `x` is undefined.
void check_defined(const Tensor& x, const char* op);
// Float math takes floating inputs: integers and bool become float32, as in PyTorch.
Tensor floating_input(const Tensor& x, const char* op);
// Ops on numbers (neg, abs, relu...) reject bool with a DTypeError.
Tensor numeric_input(const Tensor& x, const char* op);
// An elementwise op of one input; the output is shaped like the input.
OpDef unary_def(const char* name, VjpFn vjp, InferFn infer = same_as_input);
// PyTorch's gradient of piecewise-constant ops (sign, floor, ...): zeros.
std::vector<Tensor> zero_gradient(const VjpContext& c);

}  // namespace nabla
