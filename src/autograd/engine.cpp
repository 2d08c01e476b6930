// Walks the recorded graph in reverse topological order, calling each node's VJP rule and
// summing gradients; frees each node's saved inputs as soon as it is done unless asked to
// keep them. In anomaly mode it names the op whose backward produced NaN or Inf.
#include "autograd/engine.h"

#include <algorithm>
#include <cmath>
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
bool g_anomaly = false;
}
void set_detect_anomaly(bool enabled) { g_anomaly = enabled; }
bool is_anomaly_enabled() { return g_anomaly; }

namespace autograd_detail {
namespace {

// Concrete tensors take part when they require grad; symbolic ones always (symbolic gradients).
bool tracked(const Node& n) { return n.requires_grad || !n.storage; }
bool has_rule(const Node& n) { return n.op && (n.custom_vjp || n.op->vjp); }
bool is_released(const Node& n) { return has_rule(n) && n.op->arity != 0 && n.inputs.empty(); }

// Recorded nodes reachable from the roots, inputs before the nodes that use them.
std::vector<std::shared_ptr<Node>> topo_order(const std::vector<Tensor>& roots) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<const Node*> seen;
  std::vector<std::pair<std::shared_ptr<Node>, std::size_t>> stack;
  for (const Tensor& r : roots)
    if (tracked(*r.node()) && has_rule(*r.node()) && seen.insert(r.node()).second)
      stack.push_back({r.node_ptr(), 0});
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const auto& child = node->inputs[next++].node_ptr();
      if (tracked(*child) && has_rule(*child) && seen.insert(child.get()).second)
        stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

Tensor run_hooks(const Node& n, Tensor g) {
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
  // Without create_graph the stored gradient is a private contiguous copy: VJPs may hand the
  // same tensor (or a broadcast view) to several inputs, and optimizers update it in place.
  Tensor v = grad_mode_enabled() ? g : g.detach().clone();
  slot = slot.defined() ? slot + v : v;
}

void check_finite(const Node& n, std::size_t input, const Tensor& g) {
  if (!g.is_concrete()) return;
  for (double v : g.to_vector<double>())
    if (!std::isfinite(v))
      throw AutogradError("[anomaly] the backward of '" + n.op->name + "' produced " +
                          (std::isnan(v) ? "NaN" : "Inf") + " in the gradient of its input " +
                          std::to_string(input));
}

}  // namespace

std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds,
                                 bool retain_graph, bool create_graph,
                                 const std::vector<Tensor>& capture) {
  std::optional<NoGradGuard> no_grad;
  std::optional<EnableGradGuard> with_grad;
  if (create_graph) with_grad.emplace(); else no_grad.emplace();

  const bool capturing = !capture.empty();
  std::unordered_map<const Node*, Tensor> grads;  // pending sums for nodes and captured leaves
  std::unordered_set<const Node*> captured;
  for (const Tensor& c : capture) captured.insert(c.node());
  auto add_grad = [&](Node& target, const Tensor& g) {
    if (!has_rule(target) && !capturing) {
      accumulate_leaf(target, run_hooks(target, g));
      return;
    }
    auto [slot, fresh] = grads.try_emplace(&target, g);
    if (!fresh) slot->second = slot->second + g;
  };
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!tracked(*roots[i].node()))
      throw AutogradError("[backward] output " + std::to_string(i) + " does not require grad and has no graph");
    if (is_released(*roots[i].node()))
      throw AutogradError("[backward] the graph was already freed by an earlier backward; pass "
                          "retain_graph=true to the first backward to run it twice");
    add_grad(*roots[i].node(), seeds[i]);
  }

  for (auto& node : [&] { auto o = topo_order(roots); std::reverse(o.begin(), o.end()); return o; }()) {
    Node& n = *node;
    auto found = grads.find(&n);
    if (found == grads.end()) continue;
    Tensor g = run_hooks(n, found->second);
    if (captured.count(&n)) found->second = g;
    else grads.erase(found);
    if (is_released(n))
      throw AutogradError("[backward] the graph through '" + n.op->name +
                          "' was already freed; pass retain_graph=true to the first backward");
    for (std::size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i].node()->storage && n.input_versions[i] != n.inputs[i].node()->storage->version.load())
        throw AutogradError("[" + n.op->name + "] input " + std::to_string(i) +
                            " was modified in place after it was saved for backward");
    Tensor out(node);
    VjpContext ctx{n.inputs, out, n.attrs, g};
    std::vector<Tensor> gin = n.custom_vjp ? n.custom_vjp(ctx) : n.op->vjp(ctx);
    for (std::size_t i = 0; i < n.inputs.size() && i < gin.size(); ++i) {
      const Tensor& in = n.inputs[i];
      if (!gin[i].defined() || !tracked(*in.node())) continue;
      if (g_anomaly) check_finite(n, i, gin[i]);
      if (gin[i].shape() != in.shape())
        throw AutogradError("[" + n.op->name + "] internal: gradient of shape " + shape_str(gin[i].shape()) +
                            " for input of shape " + shape_str(in.shape()));
      add_grad(*in.node(), gin[i].dtype() == in.dtype() ? gin[i] : gin[i].astype(in.dtype()));
    }
    if (!retain_graph && n.storage) {  // a symbolic graph is a program: never freed
      n.inputs.clear();
      n.input_versions.clear();
      if (n.custom_vjp)  // drop the closure (and what it holds), keep the node non-leaf
        n.custom_vjp = [](const VjpContext&) -> std::vector<Tensor> { return {}; };
    }
  }

  std::vector<Tensor> out;
  for (const Tensor& c : capture) {
    auto it = grads.find(c.node());
    out.push_back(it == grads.end() ? Tensor() : (has_rule(*c.node()) ? it->second : run_hooks(*c.node(), it->second)));
  }
  return out;
}

}  // namespace autograd_detail
}  // namespace nabla
