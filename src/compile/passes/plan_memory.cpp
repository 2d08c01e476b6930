// Memory planning, ahead of time: for a graph whose shapes are all static, the values op nodes
// compute and that die inside a call (not outputs, not views of outputs) get an offset in one
// arena whose size is known at compile time. Liveness: a buffer is live from the node that
// writes it to the last node that reads it or any view of it (fused members count as their
// root); buffers whose lifetimes do not overlap share bytes (placed greedily, largest first).
// The executor then allocates one block per call instead of one per node.
//
// In-place execution: an elementwise op whose result has the shape and dtype of an input that
// dies at this op (a value the call computed into its own buffer, no output, no view of it read
// later, no other operand reading it through another view) writes over that input. The
// elementwise loops read element i of every operand before storing element i, so this is exact.
// In the arena both values take one slot; elsewhere the executor reuses the input's storage
// when it holds the only reference (dynamic shapes, fused roots).
#include <algorithm>
#include <sstream>

#include "compile/graph.h"
#include "ir/node.h"
#include "nabla/ops/shape_like.h"

namespace nabla::compile_detail {
namespace {

constexpr std::size_t kAlign = 64;

std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool aliases_input(const GraphNode& n) {
  return n.kind == NodeKind::op && (n.op->has(kView) || n.op->name == "reshape");
}

// Whether node i's kernel may write over its operand x's buffer. `end` is when x's buffer
// dies, `escapes` whether an output is x or a view of it.
bool may_overwrite(const Plan& plan, const std::vector<int>& base, const std::vector<int>& end,
                   const std::vector<char>& escapes, std::size_t i, int x) {
  const Graph& g = plan.graph;
  const GraphNode& n = g.nodes[i];
  const GraphNode& in = g.nodes[std::size_t(x)];
  // copy's kernel is a memcpy (undefined on overlapping bytes), and copying over a dying value
  // saves nothing a plain alias would not.
  if (!n.op->has(kElementwise) || n.op->name == "copy" || plan.group_of[i] >= 0) return false;
  // x: a value this call computed into a buffer of its own (never the caller's data, a weight
  // or a constant), not a member a fused group keeps in its scratch blocks.
  if (in.kind != NodeKind::op || aliases_input(in) || base[std::size_t(x)] != x) return false;
  const int grp = plan.group_of[std::size_t(x)];
  if (grp >= 0 && plan.groups[std::size_t(grp)].members.back() != x) return false;
  if (escapes[std::size_t(x)] || end[std::size_t(x)] != int(i)) return false;
  if (in.dtype != n.dtype || in.shape != n.shape) return false;  // no broadcast, no cast
  // Another operand viewing x's buffer differently (x + x.transpose()) would read overwritten
  // elements; x itself again (x * x) reads element i at i, which is fine.
  for (int other : n.inputs)
    if (other != x && base[std::size_t(other)] == x) return false;
  return true;
}

}  // namespace

void plan_memory(Plan& plan, bool in_place) {
  const Graph& g = plan.graph;
  const std::size_t n = g.nodes.size();
  plan.arena_offset.assign(n, -1);
  plan.in_place.assign(n, -1);
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
    dynamic |= is_dynamic(node.shape);
    if (dynamic) continue;
    const std::size_t bytes = std::size_t(numel_of(node.shape)) * itemsize(node.dtype);
    if (!is_output[i]) plan.naive_bytes += bytes;
    // Fused members are computed by their group (its root and escaping members allocate).
    plannable[i] = plan.group_of[i] < 0 && !is_output[i] && bytes > 0;
  }
  // A buffer dies after the last reader of any value aliasing it; an output alias keeps it out.
  std::vector<int> end(n, -1);
  std::vector<char> escapes(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = std::size_t(base[i]);
    end[b] = std::max({end[b], plan.last_use[i], int(i)});
    if (is_output[i]) escapes[b] = 1;
  }
  for (std::size_t i = 0; in_place && i < n; ++i)
    if (g.nodes[i].kind == NodeKind::op && !aliases_input(g.nodes[i])) {
      // Prefer an operand the arena holds, so the in-place pair shares one slot.
      for (int pass = 0; pass < 2 && plan.in_place[i] < 0; ++pass)
        for (int x : g.nodes[i].inputs)
          if ((pass == 1 || plannable[std::size_t(x)]) &&
              may_overwrite(plan, base, end, escapes, i, x)) {
            plan.in_place[i] = x;
            break;
          }
    }
  if (dynamic) {
    plan.naive_bytes = 0;
    return;
  }
  for (std::size_t i = 0; i < n; ++i)
    if (escapes[i]) plannable[i] = 0;
  // In-place chains in the arena are one buffer, owned by the chain's first value, live until
  // the last one dies.
  std::vector<int> owner(n);
  for (std::size_t i = 0; i < n; ++i) {
    owner[i] = int(i);
    const int x = plan.in_place[i];
    if (x >= 0 && plannable[i] && plannable[std::size_t(x)]) {
      owner[i] = owner[std::size_t(x)];
      end[std::size_t(owner[i])] = std::max(end[std::size_t(owner[i])], end[i]);
    }
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
    if (plannable[i] && owner[i] == int(i)) {
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
  for (std::size_t i = 0; i < n; ++i)
    if (plannable[i]) plan.arena_offset[i] = plan.arena_offset[std::size_t(owner[i])];
  // An operand in the arena is never overwritten by a value outside it (an output): the
  // arena's bytes are not the result's to keep.
  for (std::size_t i = 0; i < n; ++i)
    if (const int x = plan.in_place[i]; x >= 0 && !plannable[i] && plannable[std::size_t(x)])
      plan.in_place[i] = -1;
}

std::string describe_memory(const Plan& plan) {
  const Graph& g = plan.graph;
  std::istringstream lines(describe(g));
  std::ostringstream os;
  std::string line;
  for (std::size_t i = 0; std::getline(lines, line); ++i) {
    os << line;
    if (i < g.nodes.size()) {
      if (plan.arena_offset[i] >= 0) os << "  @" << plan.arena_offset[i];
      if (plan.in_place[i] >= 0) os << "  in place of %" << plan.in_place[i];
    }
    os << '\n';
  }
  os << "arena " << plan.arena_bytes << " bytes, naive " << plan.naive_bytes << " bytes\n";
  return os.str();
}

}  // namespace nabla::compile_detail
