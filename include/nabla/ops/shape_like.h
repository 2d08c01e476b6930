// Ops whose output shape comes from another tensor's shape when they run, not from numbers
// fixed when a graph is built. On concrete tensors they are ordinary ops; in symbolic graphs
// with dynamic (-1) dims they keep the graph valid for every size, so gradient rules and
// counts written with them work at any batch size (docs/symbolic.md, "Dynamic dims").
#pragma once
#include "nabla/tensor.h"

namespace nabla {

// Whether a shape has a dynamic (-1) dim (only symbolic tensors have them).
bool is_dynamic(const Shape& shape);

// x broadcast (NumPy rules, dims aligned at the end) to the shape of `like`: a view, like
// broadcast_to(like.shape()). Only like's shape is read; it gets no gradient. A dim of x must
// be 1 or equal like's (ShapeError otherwise, checked again at each call of a compiled graph).
Tensor broadcast_like(const Tensor& x, const Tensor& like);

// The number of elements a reduction over `axes` of x combines (every axis when empty), as a
// 0-d tensor of `dtype`, read from x's shape when the op runs (x's values are never read).
// Means and variances over a dynamic dim divide by it. Not differentiable (a constant).
Tensor count_elements(const Tensor& x, const Shape& axes = {}, DType dtype = float32);

}  // namespace nabla
