// Symbolic tensors: a placeholder has a name, a shape and a dtype but no values. Ops on
// placeholders build graph nodes (checking shapes as they go) instead of computing, and
// nb::gradients on them returns graph nodes too (symbolic gradients). nb::compile (compile.h)
// turns such a graph into a callable Function. A -1 dim is dynamic: each call sizes it.
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla {

Tensor placeholder(const std::string& name, const Shape& shape, DType dtype = float32);

}  // namespace nabla
