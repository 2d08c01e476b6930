// Helpers shared by the op families' definitions.
#pragma once
#include <string>

#include "ir/node.h"
#include "ir/op.h"

namespace nabla {

// Output like the first input.
inline OutputMeta same_as_input(std::span<const Tensor> in, const Attrs&) {
  return {in[0].shape(), in[0].dtype()};
}

// Sums `g` over the dims that broadcasting added or stretched, back to `shape`:
// the reduction every broadcasting op's gradient needs.
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

// Zeros of x's shape in `dtype`; a graph node sized at each call where x has dynamic (-1) dims.
Tensor zeros_shaped_like(const Tensor& x, DType dtype);

inline std::string dtype_str(DType t) { return std::string(dtype_name(t)); }

}  // namespace nabla
