// Elementwise fusion, as a plan: a tree of elementwise ops whose intermediate values have one
// reader each (and may also be outputs of the graph) and one static shape runs as one loop over
// cache-sized chunks (src/compile/fused_program.cpp, else fused.cpp's blocks),
// so the intermediates never exist as whole tensors: less memory traffic and a smaller peak.
// A sum/max/min of the tree's result joins the group and folds each chunk as it is made.
// The graph itself is unchanged (DOT pictures and graph files show the ops).
#include <algorithm>

#include "compile/graph.h"
#include "nabla/ops/shape_like.h"

namespace nabla::compile_detail {
namespace {

constexpr int64_t kMinFusedElements = 32768;  // below this a tensor stays in cache anyway

bool fusable(const GraphNode& n) {
  if (n.kind != NodeKind::op || !n.op->has(kElementwise) || n.op->has(kRandom) || n.op->has(kView))
    return false;
  if (!is_floating(n.dtype)) return false;  // integer kernels may throw (division by zero)
  return !is_dynamic(n.shape) && numel_of(n.shape) >= kMinFusedElements;
}

// The reduction that may end the group rooted at `root`: the one reader of the root (which is
// no output), a float sum/max/min of one dtype whose reduced dims are adjacent, and every
// member with a program instruction (a reducing group runs only as a program); else -1.
int reduction_of(const Plan& plan, const std::vector<int>& uses, const std::vector<char>& is_output,
                 int root, const std::vector<int>& members) {
  const Graph& g = plan.graph;
  if (uses[std::size_t(root)] != 1 || is_output[std::size_t(root)]) return -1;
  for (int m : members)
    if (!has_instruction(g.nodes[std::size_t(m)].op->name)) return -1;
  for (std::size_t i = std::size_t(root) + 1; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    if (std::find(n.inputs.begin(), n.inputs.end(), root) == n.inputs.end()) continue;
    const std::string& op = n.kind == NodeKind::op ? n.op->name : std::string();
    if ((op != "sum" && op != "max" && op != "min") || plan.group_of[i] >= 0 ||
        n.dtype != g.nodes[std::size_t(root)].dtype)
      return -1;
    int64_t outer, red, inner;
    if (!reduce_layout(g.nodes[std::size_t(root)].shape, n.attrs.get<Shape>("axes"), outer, red,
                       inner))
      return -1;
    return int(i);
  }
  return -1;
}

}  // namespace

void plan_fusion(Plan& plan) {
  const Graph& g = plan.graph;
  std::vector<int> uses = use_counts(g);
  std::vector<char> is_output(g.nodes.size(), 0);
  for (int o : g.outputs) is_output[std::size_t(o)] = 1;
  std::vector<int>& group_of = plan.group_of;
  // Roots first (reverse topological order), then each root pulls in the inputs it alone uses.
  for (std::size_t r = g.nodes.size(); r-- > 0;) {
    if (group_of[r] >= 0 || !fusable(g.nodes[r])) continue;
    std::vector<int> members{int(r)}, pending{int(r)};
    int id = int(plan.groups.size());
    group_of[r] = id;
    while (!pending.empty()) {
      int m = pending.back();
      pending.pop_back();
      for (int in : g.nodes[std::size_t(m)].inputs) {
        const GraphNode& x = g.nodes[std::size_t(in)];
        // One reader, or one reader and the graph's output: then the group writes it out too
        // (an optimizer's new moment, also read by the new parameter).
        const int readers = uses[std::size_t(in)] - is_output[std::size_t(in)];
        if (group_of[std::size_t(in)] >= 0 || readers != 1 || !fusable(x) ||
            x.shape != g.nodes[r].shape)
          continue;
        group_of[std::size_t(in)] = id;
        members.push_back(in);
        pending.push_back(in);
      }
    }
    // A sum/max/min that alone reads the tree's result becomes the group's root: the values it
    // reduces are never stored (x*y summed, a loss's terms, a bias gradient).
    const int red = reduction_of(plan, uses, is_output, int(r), members);
    if (red >= 0) {
      group_of[std::size_t(red)] = id;
      members.push_back(red);
    }
    if (members.size() < 2) {
      group_of[r] = -1;
      continue;
    }
    std::sort(members.begin(), members.end());  // node ids are topological
    std::vector<int> escaping;
    for (std::size_t k = 0; k + 1 < members.size(); ++k)
      if (is_output[std::size_t(members[k])]) escaping.push_back(members[k]);
    plan.groups.push_back({std::move(members), std::move(escaping), nullptr, red >= 0});
  }
  for (std::size_t k = 0; k < plan.groups.size(); ++k)
    plan.groups[k].program = compile_program(plan, int(k));
  // Members run when their root does: their reads count as the root's.
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    int grp = group_of[i];
    int reader = grp >= 0 ? plan.groups[std::size_t(grp)].members.back() : int(i);
    for (int in : g.nodes[i].inputs)
      plan.last_use[std::size_t(in)] = std::max(plan.last_use[std::size_t(in)], reader);
  }
}

}  // namespace nabla::compile_detail
