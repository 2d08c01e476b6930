// Constant folding: an op whose inputs are all frozen constants is computed once, at compile
// time, and becomes a constant. Random ops are never folded (each call draws anew), and neither
// are ops on captured tensors, whose values may change between calls.
#include "compile/graph.h"
#include "ir/node.h"
#include "nabla/autograd.h"

namespace nabla::compile_detail {

int fold_constants(Graph& g) {
  int folded = 0;
  NoGradGuard no_grad;
  std::vector<Tensor> args;
  for (GraphNode& n : g.nodes) {
    if (n.kind != NodeKind::op || n.op->has(kRandom)) continue;
    bool all_frozen = true;
    for (int in : n.inputs) all_frozen &= is_frozen(g.nodes[std::size_t(in)]);
    if (!all_frozen) continue;
    args.clear();
    for (int in : n.inputs) args.push_back(g.nodes[std::size_t(in)].value);
    Tensor v = run_node(n, args, n.attrs);
    v.node()->constant = true;
    n.kind = NodeKind::constant;
    n.value = v;
    n.inputs.clear();
    n.op = nullptr;
    n.attrs = Attrs();
    ++folded;
  }
  return folded;
}

}  // namespace nabla::compile_detail
