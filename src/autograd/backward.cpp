// backward(): walks the recorded graph in reverse topological order, calling each op's
// VJP rule and accumulating gradients; frees the graph as it goes unless asked to keep it.
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "ir/node.h"
#include "ir/op.h"
#include "nabla/autograd.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"

namespace nabla {

NoGradGuard::NoGradGuard() : prev_(grad_mode_enabled()) { set_grad_mode(false); }
NoGradGuard::~NoGradGuard() { set_grad_mode(prev_); }
EnableGradGuard::EnableGradGuard() : prev_(grad_mode_enabled()) { set_grad_mode(true); }
EnableGradGuard::~EnableGradGuard() { set_grad_mode(prev_); }
bool is_grad_enabled() { return grad_mode_enabled(); }

namespace {

bool is_released(const Node& n) { return n.op && n.op->arity != 0 && n.inputs.empty(); }

// Nodes reachable from root through recorded ops, inputs before the nodes that use them.
std::vector<std::shared_ptr<Node>> topo_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<const Node*> seen;
  std::vector<std::pair<std::shared_ptr<Node>, std::size_t>> stack{{root, 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const auto& child = node->inputs[next++].node_ptr();
      if (child->requires_grad && child->op && seen.insert(child.get()).second)
        stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

Tensor run_hooks(Node& n, Tensor g) {
  if (!n.grad_meta) return g;
  for (auto& hook : n.grad_meta->hooks) {
    Tensor r = hook(g);
    if (r.defined()) g = r;
  }
  return g;
}

void accumulate_leaf(Node& leaf, const Tensor& g) {
  if (!leaf.grad_meta) leaf.grad_meta = std::make_unique<AutogradMeta>();
  Tensor& slot = leaf.grad_meta->grad;
  slot = slot.defined() ? slot + g : (grad_mode_enabled() ? g : g.detach());
}

}  // namespace

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
  std::optional<NoGradGuard> no_grad;
  std::optional<EnableGradGuard> with_grad;
  if (create_graph) with_grad.emplace(); else no_grad.emplace();

  if (!node()->op) {  // backward on a leaf: its gradient is the seed
    accumulate_leaf(*node(), run_hooks(*node(), seed.astype(dtype())));
    return;
  }
  if (is_released(*node()))
    throw AutogradError("[backward] the graph was already freed by an earlier backward; pass "
                        "retain_graph=true to the first call to backward twice");
  auto order = topo_order(node_ptr());
  std::unordered_map<const Node*, Tensor> grads;
  grads[node()] = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node& n = **it;
    auto found = grads.find(&n);
    if (found == grads.end()) continue;
    Tensor g = run_hooks(n, found->second);
    grads.erase(found);
    if (is_released(n))
      throw AutogradError("[backward] the graph through '" + n.op->name +
                          "' was already freed; pass retain_graph=true to the first backward");
    for (std::size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i].node()->storage &&
          n.input_versions[i] != n.inputs[i].node()->storage->version.load())
        throw AutogradError("[" + n.op->name + "] input " + std::to_string(i) +
                            " was modified in place after it was saved for backward");
    Tensor out(*it);
    std::vector<Tensor> gin = n.op->vjp(VjpContext{n.inputs, out, n.attrs, g});
    for (std::size_t i = 0; i < n.inputs.size() && i < gin.size(); ++i) {
      const Tensor& in = n.inputs[i];
      if (!gin[i].defined() || !in.node()->requires_grad) continue;
      Tensor gi = gin[i].dtype() == in.dtype() ? gin[i] : gin[i].astype(in.dtype());
      if (!in.node()->op) {
        accumulate_leaf(*in.node(), run_hooks(*in.node(), gi));
      } else {
        auto [slot, fresh] = grads.try_emplace(in.node(), gi);
        if (!fresh) slot->second = slot->second + gi;
      }
    }
    if (!retain_graph) {
      n.inputs.clear();
      n.input_versions.clear();
    }
  }
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
