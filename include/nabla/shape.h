// Shapes and strides: small vectors of int64 with the helpers every op needs.
#pragma once
#include <cstdint>
#include <string>

#include "nabla/small_vector.h"

namespace nabla {

using Shape = SmallVector<int64_t, 6>;
using Strides = SmallVector<int64_t, 6>;

int64_t numel_of(const Shape& shape);
// Row-major (C-order) strides, in elements.
Strides contiguous_strides(const Shape& shape);
// "(2, 3, 4)"; "()" for a scalar.
std::string shape_str(const Shape& shape);
// Maps a possibly negative axis into [0, ndim); throws IndexError naming `op` otherwise.
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op);
// NumPy broadcasting of two shapes; throws ShapeError naming `op` when they do not match.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace nabla
