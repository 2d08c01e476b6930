// Symbolic tensors: a placeholder has a name, a shape and a dtype but no values. Ops on
// placeholders build graph nodes (checking shapes as they go) instead of computing, and
// nb::gradients on them returns graph nodes too (symbolic gradients). Compiling and running
// such graphs (nb::compile, nb::jit) is the compile issue's work and not here yet.
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla {

Tensor placeholder(const std::string& name, const Shape& shape, DType dtype = float32);

}  // namespace nabla
