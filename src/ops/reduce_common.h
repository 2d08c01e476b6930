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
// Reshapes a gradient of the reduced output so it broadcasts against the input.
Tensor unreduce(const Tensor& g, const Shape& in_shape, const Shape& axes, bool keepdims);

}  // namespace nabla
