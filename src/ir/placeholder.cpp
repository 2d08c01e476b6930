#include "ir/node.h"
#include "nabla/symbolic.h"

namespace nabla {

Tensor placeholder(const std::string& name, const Shape& shape, DType dtype) {
  if (name.empty()) throw ValueError("[placeholder] needs a name");
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("[placeholder] '" + name + "' has a negative dimension in " + shape_str(shape));
  auto n = std::make_shared<Node>();
  n->name = name;
  n->placeholder = true;
  n->shape = shape;
  n->strides = contiguous_strides(shape);
  n->dtype = dtype;
  return Tensor(std::move(n));
}

}  // namespace nabla
