#include "ir/node.h"
#include "nabla/symbolic.h"

namespace nabla {

Tensor placeholder(const std::string& name, const Shape& shape, DType dtype) {
  if (name.empty()) throw ValueError("[placeholder] needs a name");
  for (int64_t d : shape)  // -1: a dynamic dim, sized by each call's input
    if (d < -1)
      throw ShapeError("[placeholder] '" + name + "' has a negative dimension in " +
                       shape_str(shape) + " (-1 marks a dynamic dim)");
  auto n = std::make_shared<Node>();
  n->name = name;
  n->placeholder = true;
  n->shape = shape;
  n->strides = contiguous_strides(shape);
  n->dtype = dtype;
  return Tensor(std::move(n));
}

}  // namespace nabla
