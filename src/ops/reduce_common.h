// Axes handling shared by the reductions.
#pragma once
#include <vector>

#include "ops/common.h"

namespace nabla {

// Normalised, sorted, unique axes; empty input means all axes. Names `op` in errors.
Shape normalize_axes(const Shape& axes, int64_t ndim, const char* op);
// Output shape of reducing `axes` (normalised) of `shape`.
Shape reduced_shape(const Shape& shape, const Shape& axes, bool keepdims);
// Per input dim: is it reduced?
std::vector<bool> reduced_mask(int64_t ndim, const Shape& axes);
// Product of the reduced dims' sizes.
int64_t reduced_count(const Shape& shape, const Shape& axes);
// Whether one of the reduced dims is dynamic (-1): its count is known only when a graph runs.
bool reduces_dynamic_dim(const Shape& shape, const Shape& axes);
// Reshapes a gradient of the reduced output so it broadcasts against the input.
Tensor unreduce(const Tensor& g, const Shape& in_shape, const Shape& axes, bool keepdims);

}  // namespace nabla

namespace nabla {

// Internal op "compare_mask" (no gradient): 1 where `cmp` ("eq", "gt" or "lt") holds between
// a and b (broadcast, promoted), else 0, in the promoted dtype so it multiplies gradients.
// Gradient rules of the reductions use it in place of comparison ops.
Tensor compare_mask(const Tensor& a, const Tensor& b, const char* cmp);
// -1, 0 or 1 like x's sign, in x's dtype (built from compare_mask).
Tensor sign_of(const Tensor& x);
// Softmax over a set of (normalised) axes: the gradient of logsumexp.
Tensor softmax_over(const Tensor& x, const Shape& axes);
// Running sum along `axis` (normalised), from the end when `reverse`: cumsum's gradient.
Tensor cumsum_along(const Tensor& x, int64_t axis, bool reverse);

}  // namespace nabla
