// Dead-code elimination: drops nodes no output depends on. Inputs stay (they are the
// function's signature even when unused); the rest keep their relative (topological) order.
#include "compile/graph.h"

namespace nabla::compile_detail {

int eliminate_dead_code(Graph& g) {
  std::vector<char> live(g.nodes.size(), 0);
  for (int o : g.outputs) live[std::size_t(o)] = 1;
  for (int i : g.inputs) live[std::size_t(i)] = 1;
  for (std::size_t i = g.nodes.size(); i-- > 0;)
    if (live[i])
      for (int in : g.nodes[i].inputs) live[std::size_t(in)] = 1;

  std::vector<int> new_id(g.nodes.size(), -1);
  std::vector<GraphNode> kept;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (!live[i]) continue;
    new_id[i] = int(kept.size());
    kept.push_back(std::move(g.nodes[i]));
    for (int& in : kept.back().inputs) in = new_id[std::size_t(in)];
  }
  int removed = int(g.nodes.size() - kept.size());
  g.nodes = std::move(kept);
  for (int& i : g.inputs) i = new_id[std::size_t(i)];
  for (int& o : g.outputs) o = new_id[std::size_t(o)];
  return removed;
}

}  // namespace nabla::compile_detail
