// User-defined differentiable functions and gradient checkpointing.
#include "autograd/engine.h"
#include "ir/node.h"
#include "ir/op.h"
#include "nabla/autograd.h"

namespace nabla {
namespace {

// The op that custom nodes name; their rule is the node's own custom_vjp.
const OpDef& kCustom = define_op({
    .name = "custom_function",
    .arity = -1,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      throw ValueError("[custom_function] is made by CustomFunction, not applied directly");
    },
});

}  // namespace

Tensor CustomFunction::operator()(const std::vector<Tensor>& inputs) const {
  if (!forward) throw ValueError("[" + name + "] CustomFunction has no forward");
  bool needs_grad = false;
  for (const Tensor& t : inputs) {
    if (!t.defined()) throw ValueError("[" + name + "] an input is undefined");
    needs_grad |= t.requires_grad();
  }
  Tensor out;
  {
    NoGradGuard off;
    out = forward(inputs);
  }
  if (!out.defined()) throw ValueError("[" + name + "] forward returned an undefined tensor");
  if (!needs_grad || !is_grad_enabled()) return out;
  if (!backward) throw AutogradError("[" + name + "] CustomFunction has no backward but an input requires grad");
  Tensor result = out.detach();
  Node& n = *result.node();
  n.op = &kCustom;
  n.attrs.set("name", name);
  n.inputs = inputs;
  for (const Tensor& t : inputs) n.input_versions.push_back(t.node()->storage ? t.node()->storage->version.load() : 0);
  n.requires_grad = true;
  auto bw = backward;
  std::string fname = name;
  n.custom_vjp = [bw, fname](const VjpContext& c) {
    std::vector<Tensor> ins(c.inputs.begin(), c.inputs.end());
    std::vector<Tensor> g = bw(ins, c.output.detach(), c.cotangent);
    if (g.size() != ins.size())
      throw AutogradError("[" + fname + "] backward returned " + std::to_string(g.size()) + " gradients for " +
                          std::to_string(ins.size()) + " inputs");
    for (std::size_t i = 0; i < g.size(); ++i)
      if (g[i].defined() && g[i].shape() != ins[i].shape())
        throw AutogradError("[" + fname + "] backward returned a gradient of shape " + shape_str(g[i].shape()) +
                            " for input " + std::to_string(i) + " of shape " + shape_str(ins[i].shape()));
    return g;
  };
  return result;
}

Tensor checkpoint(const MultiFn& fn, const std::vector<Tensor>& inputs) {
  CustomFunction cf{
      .name = "checkpoint",
      .forward = fn,
      .backward = [fn](const std::vector<Tensor>& ins, const Tensor&, const Tensor& g) {
        std::vector<Tensor> tracked;
        std::vector<Tensor> wrt;
        bool outer = is_grad_enabled();  // create_graph of the enclosing backward
        {
          EnableGradGuard on;
          for (const Tensor& x : ins) {
            Tensor t = x.detach();
            if (x.requires_grad()) t.requires_grad_();
            tracked.push_back(t);
          }
          Tensor y = fn(tracked);
          for (const Tensor& t : tracked)
            if (t.requires_grad()) wrt.push_back(t);
          if (!y.requires_grad()) return std::vector<Tensor>(ins.size());
          std::vector<Tensor> gw = gradients({y}, wrt, {g}, {.create_graph = outer, .allow_unused = true});
          std::vector<Tensor> out(ins.size());
          for (std::size_t i = 0, k = 0; i < ins.size(); ++i)
            if (tracked[i].requires_grad()) out[i] = gw[k++];
          return out;
        }
      },
  };
  return cf(inputs);
}

}  // namespace nabla
