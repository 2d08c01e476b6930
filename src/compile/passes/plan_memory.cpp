// Memory planning, ahead of time: for a graph whose shapes are all static, the values op nodes
// compute and that die inside a call (not outputs, not views of outputs) get an offset in one
// arena whose size is known at compile time. Liveness: a buffer is live from the node that
// writes it to the last node that reads it or any view of it (fused members count as their
// root); buffers whose lifetimes do not overlap share bytes (placed greedily, largest first).
// The executor then allocates one block per call instead of one per node.
#include <algorithm>

#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

constexpr std::size_t kAlign = 64;

std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool aliases_input(const GraphNode& n) {
  return n.kind == NodeKind::op && (n.op->has(kView) || n.op->name == "reshape");
}

}  // namespace

void plan_memory(Plan& plan) {
  const Graph& g = plan.graph;
  const std::size_t n = g.nodes.size();
  plan.arena_offset.assign(n, -1);
  plan.arena_bytes = 0;
  plan.naive_bytes = 0;
  std::vector<char> is_output(n, 0);
  for (int o : g.outputs) is_output[std::size_t(o)] = 1;
  // The buffer each value lives in (views share their input's), and whether it may be planned.
  std::vector<int> base(n);
  std::vector<char> plannable(n, 0);
  bool dynamic = false;
  for (std::size_t i = 0; i < n; ++i) {
    const GraphNode& node = g.nodes[i];
    base[i] = aliases_input(node) ? base[std::size_t(node.inputs[0])] : int(i);
    if (node.kind != NodeKind::op || aliases_input(node)) continue;
    for (int64_t d : node.shape) dynamic |= d < 0;
    if (dynamic) break;
    const std::size_t bytes = std::size_t(numel_of(node.shape)) * itemsize(node.dtype);
    if (!is_output[i]) plan.naive_bytes += bytes;
    // Fused members are computed by their group (its root and escaping members allocate).
    plannable[i] = plan.group_of[i] < 0 && !is_output[i] && bytes > 0;
  }
  if (dynamic) {
    plan.arena_offset.assign(n, -1);
    plan.naive_bytes = 0;
    return;
  }
  // A buffer dies after the last reader of any value aliasing it; an output alias keeps it out.
  std::vector<int> end(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    const int b = base[i];
    end[std::size_t(b)] = std::max({end[std::size_t(b)], plan.last_use[i], int(i)});
    if (is_output[i]) plannable[std::size_t(b)] = 0;
  }
  // Greedy by size (as TFLite's arena planner): the largest buffers are placed first, each at
  // the lowest offset where it overlaps no placed buffer whose lifetime overlaps its own. Large
  // buffers then pack tightly and small ones fill the gaps (first-fit in run order fragments).
  struct Buffer {
    int node;
    int first, last;  // written at `first`, last read at `last`
    std::size_t bytes;
  };
  std::vector<Buffer> buffers;
  for (std::size_t i = 0; i < n; ++i)
    if (plannable[i]) {
      const GraphNode& node = g.nodes[i];
      buffers.push_back({int(i), int(i), end[i],
                         aligned(std::size_t(numel_of(node.shape)) * itemsize(node.dtype))});
    }
  std::stable_sort(buffers.begin(), buffers.end(),
                   [](const Buffer& a, const Buffer& b) { return a.bytes > b.bytes; });
  std::vector<std::pair<std::size_t, std::size_t>> taken;  // [begin, end) of conflicting buffers
  for (std::size_t k = 0; k < buffers.size(); ++k) {
    const Buffer& b = buffers[k];
    taken.clear();
    for (std::size_t j = 0; j < k; ++j) {
      const Buffer& o = buffers[j];
      if (o.first <= b.last && b.first <= o.last) {
        const auto at = std::size_t(plan.arena_offset[std::size_t(o.node)]);
        taken.emplace_back(at, at + o.bytes);
      }
    }
    std::sort(taken.begin(), taken.end());
    std::size_t at = 0;
    for (const auto& [lo, hi] : taken) {
      if (lo >= at + b.bytes) break;  // fits in the gap before this one
      at = std::max(at, hi);
    }
    plan.arena_offset[std::size_t(b.node)] = int64_t(at);
    plan.arena_bytes = std::max(plan.arena_bytes, at + b.bytes);
  }
}

}  // namespace nabla::compile_detail
