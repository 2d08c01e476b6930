// Reductions over any set of axes; an empty axes list reduces over every axis.
#pragma once
#include "nabla/tensor.h"

namespace nabla {

// Integer and bool inputs sum to int64, as in PyTorch.
Tensor sum(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
// Floating result; integer inputs give float32.
Tensor mean(const Tensor& x, const Shape& axes = {}, bool keepdims = false);

}  // namespace nabla
