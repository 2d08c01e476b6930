// Reductions, scans and softmax. Reductions take a list of axes (negative counts from the
// end; an empty list reduces over every axis) and `keepdims`, which leaves each reduced axis
// as size 1. Axes out of range throw IndexError naming the op.
#pragma once
#include <optional>

#include "nabla/tensor.h"

namespace nabla {

// Integer and bool inputs sum to int64, as in PyTorch.
Tensor sum(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
// Floating result; integer inputs give float32.
Tensor mean(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
// Product; integer and bool inputs give int64. The gradient is exact with zeros in the input.
Tensor prod(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
// Largest / smallest values (PyTorch's amax/amin): NaN propagates. The gradient is shared
// evenly among tied extrema. Empty reductions throw ValueError.
Tensor max(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
Tensor amax(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
Tensor amin(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
// int64 index of the first largest / smallest value along `axis`, or in the flattened
// tensor when no axis is given (keepdims then leaves every axis as size 1). NaN counts as
// the largest and the smallest. Empty reductions throw ValueError.
Tensor argmax(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);
// Variance and standard deviation with `correction` subtracted from the count (1: Bessel's
// unbiased estimate, PyTorch's default; 0: population). Integer inputs give float32.
Tensor var(const Tensor& x, const Shape& axes = {}, int64_t correction = 1, bool keepdims = false);
Tensor std(const Tensor& x, const Shape& axes = {}, int64_t correction = 1, bool keepdims = false);
// log(sum(exp(x))) computed stably (shifted by the maximum); integer inputs give float32.
Tensor logsumexp(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
// Vector norm over `axes`: p = 1 (sum of |x|), 2 (Euclidean) or infinity (max |x|).
// The gradient at a zero norm is zero.
Tensor norm(const Tensor& x, double p = 2, const Shape& axes = {}, bool keepdims = false);
// Whether any / every element is nonzero; inputs of any dtype; the result is bool.
Tensor any(const Tensor& x, const Shape& axes = {}, bool keepdims = false);
Tensor all(const Tensor& x, const Shape& axes = {}, bool keepdims = false);

// Inclusive running sum / product along `axis`; integer and bool inputs give int64.
// cumprod's gradient is exact with zeros in the input (the first zero of each line gets
// the product of the others; positions after it get zero).
Tensor cumsum(const Tensor& x, int64_t axis);
Tensor cumprod(const Tensor& x, int64_t axis);

// exp(x) / sum(exp(x)) and its logarithm along `axis`, computed stably (shifted by the
// maximum); integer inputs give float32.
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);

// indices (int64) of shape S -> int64 tensor of shape S + (num_classes,) holding 1 at each
// index. num_classes = -1 uses max(indices) + 1. Indices outside [0, num_classes) throw
// IndexError.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);

}  // namespace nabla
