// Memory planning, ahead of time: for a graph whose shapes are all static, the values op nodes
// compute and that die inside a call (not outputs, not views of outputs) get an offset in one
// arena whose size is known at compile time. Liveness: a buffer is live from the node that
// writes it to the last node that reads it or any view of it (fused members count as their
// root); once dead, its bytes are reused by later values (best fit over a free list, blocks
// merged when adjacent). The executor then allocates one block per call instead of one per node.
#include <algorithm>
#include <map>

#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

constexpr std::size_t kAlign = 64;

std::size_t aligned(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool aliases_input(const GraphNode& n) {
  return n.kind == NodeKind::op && (n.op->has(kView) || n.op->name == "reshape");
}

// Offsets of free blocks -> sizes; allocation takes the smallest block that fits, else grows.
class FreeList {
 public:
  std::size_t take(std::size_t bytes) {
    auto best = blocks_.end();
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it)
      if (it->second >= bytes && (best == blocks_.end() || it->second < best->second)) best = it;
    if (best == blocks_.end()) {
      // Grow the arena, starting inside a free block at its end if there is one.
      if (!blocks_.empty() &&
          std::prev(blocks_.end())->first + std::prev(blocks_.end())->second == size_) {
        auto last = std::prev(blocks_.end());
        std::size_t at = last->first;
        blocks_.erase(last);
        size_ = at + bytes;
        return at;
      }
      std::size_t at = size_;
      size_ += bytes;
      return at;
    }
    std::size_t at = best->first, rest = best->second - bytes;
    blocks_.erase(best);
    if (rest > 0) blocks_.emplace(at + bytes, rest);
    return at;
  }
  void give(std::size_t at, std::size_t bytes) {
    auto it = blocks_.emplace(at, bytes).first;
    auto next = std::next(it);
    if (next != blocks_.end() && it->first + it->second == next->first) {
      it->second += next->second;
      blocks_.erase(next);
    }
    if (it != blocks_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        blocks_.erase(it);
      }
    }
  }
  std::size_t size() const { return size_; }

 private:
  std::map<std::size_t, std::size_t> blocks_;
  std::size_t size_ = 0;
};

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
  std::vector<std::vector<int>> dies_after(n);
  for (std::size_t i = 0; i < n; ++i)
    if (plannable[i]) dies_after[std::size_t(end[i])].push_back(int(i));
  FreeList arena;
  for (std::size_t i = 0; i < n; ++i) {
    if (plannable[i]) {
      const GraphNode& node = g.nodes[i];
      const std::size_t bytes = std::size_t(numel_of(node.shape)) * itemsize(node.dtype);
      plan.arena_offset[i] = int64_t(arena.take(aligned(bytes)));
    }
    for (int b : dies_after[i]) {
      const GraphNode& node = g.nodes[std::size_t(b)];
      const std::size_t bytes = std::size_t(numel_of(node.shape)) * itemsize(node.dtype);
      arena.give(std::size_t(plan.arena_offset[std::size_t(b)]), aligned(bytes));
    }
  }
  plan.arena_bytes = arena.size();
}

}  // namespace nabla::compile_detail
