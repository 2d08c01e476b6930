// Tensor's autograd methods.
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "autograd/engine.h"
#include "ir/node.h"
#include "ir/op.h"
#include "nabla/autograd.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"

namespace nabla {

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  if (!requires_grad())
    throw AutogradError("[backward] the tensor does not require grad and has no graph");
  Tensor seed = gradient;
  if (!seed.defined()) {
    if (numel() != 1)
      throw AutogradError("[backward] a gradient is needed for non-scalar output of shape " +
                          shape_str(shape()));
    seed = ones_like(*this);
  } else if (seed.shape() != shape()) {
    throw ShapeError("[backward] gradient of shape " + shape_str(seed.shape()) +
                     " does not match output shape " + shape_str(shape()));
  }
  // As in PyTorch, building the backward graph keeps the forward graph too.
  autograd_detail::run_backward({*this}, {seed.astype(dtype())}, retain_graph || create_graph, create_graph, {});
}

Tensor& Tensor::requires_grad_(bool enabled) {
  Node& n = *node();
  if (enabled && !is_floating(n.dtype))
    throw AutogradError("[requires_grad_] only floating tensors can require gradients, got " +
                        std::string(dtype_name(n.dtype)));
  if (!enabled && n.op && n.requires_grad)
    throw AutogradError("[requires_grad_] cannot turn off gradients of a non-leaf; use detach()");
  n.requires_grad = enabled;
  return *this;
}

bool Tensor::requires_grad() const { return node()->requires_grad; }
bool Tensor::is_leaf() const { return !node()->op || !node()->requires_grad; }
Tensor Tensor::grad() const { return node()->grad_meta ? node()->grad_meta->grad : Tensor(); }
void Tensor::set_grad(const Tensor& g) {
  if (g.defined() && g.shape() != shape())
    throw ShapeError("[set_grad] gradient of shape " + shape_str(g.shape()) +
                     " for a tensor of shape " + shape_str(shape()));
  if (!node()->grad_meta) node()->grad_meta = std::make_unique<AutogradMeta>();
  node()->grad_meta->grad = g;
}
void Tensor::zero_grad() {
  if (node()->grad_meta) node()->grad_meta->grad = Tensor();
}

Tensor Tensor::detach() const {
  const Node& n = *node();
  auto d = std::make_shared<Node>();
  d->storage = n.storage;
  d->offset = n.offset;
  d->shape = n.shape;
  d->strides = n.strides;
  d->dtype = n.dtype;
  d->device = n.device;
  d->name = n.name;
  d->placeholder = n.placeholder;
  return Tensor(std::move(d));
}

void Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) {
  if (!requires_grad())
    throw AutogradError("[register_hook] the tensor does not require grad");
  if (!node()->grad_meta) node()->grad_meta = std::make_unique<AutogradMeta>();
  node()->grad_meta->hooks.push_back(std::move(hook));
}

}  // namespace nabla
