// Building the compiler's graph from tensors, and the helpers passes share.
#include "compile/graph.h"

#include <algorithm>
#include <bit>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

GraphNode leaf_node(const Tensor& t) {
  const Node& n = *t.node();
  GraphNode g;
  g.shape = n.shape;
  g.dtype = n.dtype;
  g.name = n.name;
  if (!n.storage) {
    g.kind = NodeKind::input;
    return g;
  }
  // Literals (weak scalars) are made by the op that uses them, so nothing else writes them.
  g.kind = n.constant || n.weak ? NodeKind::constant : NodeKind::captured;
  g.value = t;
  return g;
}

// Replays a recorded concrete tensor (see graph.h) or says why it cannot: its value alone would
// be a non-leaf every call shares, whose autograd graph the first backward frees.
void check_replayable(const Node& n) {
  const std::string what = "[compile] the graph uses a tensor computed eagerly by '" + n.op->name +
                           "' from tensors that require grad; ";
  if (n.custom_vjp)
    throw AutogradError(what +
                        "a custom function or checkpoint cannot be replayed at each call: "
                        "pass its result as an argument of the traced function, or detach() it");
  if (n.op->has(kRandom))
    throw AutogradError(what +
                        "a random op cannot be replayed with the numbers it drew: pass its "
                        "result as an argument of the traced function, or detach() it");
  if (n.op->arity != 0 && n.inputs.empty())
    throw AutogradError(what +
                        "its autograd graph was already freed by a backward: compute it "
                        "inside the traced function");
  // A view reads its input's current values, as its replay does; other results are values of
  // their own that must still be what the op computed from its inputs' current values.
  if (n.op->has(kView)) return;
  if (n.storage->version.load() != 0)
    throw AutogradError(what +
                        "it was modified in place (add_, copy_...) after it was computed, "
                        "which its replay would miss: compute it without in-place updates");
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    const Node& in = *n.inputs[i].node();
    if (in.storage && i < n.input_versions.size() &&
        n.input_versions[i] != in.storage->version.load())
      throw AutogradError(what + "its input " + std::to_string(i) + " " + shape_str(in.shape) +
                          " was modified in place since, so the value is stale: compute it inside "
                          "the traced function");
  }
}

}  // namespace

bool is_recorded(const Node& n) { return n.storage && n.op && n.requires_grad; }

std::vector<const Node*> replayed_nodes(const std::vector<Tensor>& outputs) {
  std::vector<const Node*> replayed;
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack;
  for (const Tensor& t : outputs)
    if (t.defined()) stack.push_back(t.node());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    const bool recorded = is_recorded(*n);
    if (recorded) replayed.push_back(n);
    if (recorded || (!n->storage && !n->placeholder))
      for (const Tensor& in : n->inputs) stack.push_back(in.node());
  }
  return replayed;
}

Graph build_graph(const std::vector<Tensor>& outputs, const std::vector<Tensor>& order) {
  Graph g;
  std::unordered_map<const Node*, int> id;
  std::map<std::string, int> placeholders;
  std::unordered_map<const Node*, long> graph_refs;  // handles the graph's own nodes hold
  // Iterative post-order DFS: deep graphs (long unrolled loops) must not overflow the stack.
  struct Frame {
    Tensor t;
    std::size_t next = 0;
  };
  auto visit = [&](const Tensor& root) {
    if (!root.defined()) throw ValueError("[compile] an output is undefined");
    if (id.count(root.node())) return;
    std::vector<Frame> stack{{root}};
    while (!stack.empty()) {
      Frame& f = stack.back();
      const Node& n = *f.t.node();
      const bool replay = is_recorded(n);
      if (replay && f.next == 0) check_replayable(n);
      bool is_op = replay || (!n.storage && !n.placeholder);
      if (is_op && !n.op)
        throw ValueError("[compile] a symbolic tensor has neither an op nor a name");
      if (is_op && f.next == 0 && n.op->arity >= 0 && std::size_t(n.op->arity) != n.inputs.size())
        throw ValueError("[compile] the graph through '" + n.op->name + "' was freed");
      if (is_op && f.next < n.inputs.size()) {
        const Tensor& in = n.inputs[f.next++];
        if (!id.count(in.node())) stack.push_back({in});
        continue;
      }
      GraphNode node;
      if (is_op) {
        node.kind = NodeKind::op;
        node.op = n.op;
        node.attrs = n.attrs;
        node.shape = n.shape;
        node.dtype = n.dtype;
        for (const Tensor& in : n.inputs) {
          node.inputs.push_back(id.at(in.node()));
          if (in.node()->storage) ++graph_refs[in.node()];
        }
      } else {
        node = leaf_node(f.t);
        if (node.kind == NodeKind::input) {
          auto [it, fresh] = placeholders.emplace(n.name, int(g.nodes.size()));
          if (!fresh)
            throw ValueError("[compile] two different placeholders are named '" + n.name + "'");
        }
      }
      id[&n] = int(g.nodes.size());
      g.nodes.push_back(std::move(node));
      stack.pop_back();
    }
  };
  for (const Tensor& t : outputs) visit(t);
  for (const Tensor& t : outputs) {
    g.outputs.push_back(id.at(t.node()));
    if (t.node()->storage) ++graph_refs[t.node()];
  }
  // A captured tensor no handle outside the graph can reach (a literal cast to its operand's
  // dtype, a tensor made inline) can never change: it is a constant.
  for (GraphNode& node : g.nodes) {
    if (node.kind != NodeKind::captured) continue;
    const auto& ptr = node.value.node_ptr();
    if (ptr.use_count() == graph_refs[ptr.get()] + 1 && ptr->storage.use_count() == 1)
      node.kind = NodeKind::constant;
  }

  if (order.empty()) {
    for (auto& [name, node] : placeholders) g.inputs.push_back(node);  // sorted by name
    return g;
  }
  for (const Tensor& t : order) {
    if (!t.defined() || !t.node()->placeholder)
      throw ValueError("[compile] options.inputs must be placeholders");
    auto it = id.find(t.node());
    if (it == id.end()) {  // unused by the outputs: still an input
      if (placeholders.count(t.node()->name))
        throw ValueError("[compile] two different placeholders are named '" + t.node()->name + "'");
      placeholders.emplace(t.node()->name, int(g.nodes.size()));
      it = id.emplace(t.node(), int(g.nodes.size())).first;
      g.nodes.push_back(leaf_node(t));
    }
    if (std::find(g.inputs.begin(), g.inputs.end(), it->second) != g.inputs.end())
      throw ValueError("[compile] options.inputs lists '" + t.node()->name + "' twice");
    g.inputs.push_back(it->second);
  }
  if (g.inputs.size() != placeholders.size()) {
    for (auto& [name, node] : placeholders)
      if (std::find(g.inputs.begin(), g.inputs.end(), node) == g.inputs.end())
        throw ValueError("[compile] the outputs use placeholder '" + name +
                         "', which options.inputs does not list");
  }
  return g;
}

bool is_frozen(const GraphNode& n) { return n.kind == NodeKind::constant; }

std::vector<int> use_counts(const Graph& g) {
  std::vector<int> uses(g.nodes.size(), 0);
  for (const GraphNode& n : g.nodes)
    for (int i : n.inputs) ++uses[std::size_t(i)];
  for (int o : g.outputs) ++uses[std::size_t(o)];
  return uses;
}

void replace_uses(Graph& g, int from, int to) {
  for (GraphNode& n : g.nodes)
    for (int& i : n.inputs)
      if (i == from) i = to;
  for (int& o : g.outputs)
    if (o == from) o = to;
}

std::string describe(const Graph& g) {
  std::ostringstream os;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    os << '%' << i << " = ";
    switch (n.kind) {
      case NodeKind::input:
        os << "input '" << n.name << "'";
        break;
      case NodeKind::constant:
        os << "constant";
        if (n.value.numel() == 1) os << ' ' << n.value.astype(float64).item<double>();
        break;
      case NodeKind::captured:
        os << "captured";
        break;
      case NodeKind::op:
        os << n.op->name << '(';
        for (std::size_t k = 0; k < n.inputs.size(); ++k) os << (k ? ", %" : "%") << n.inputs[k];
        os << ')';
        if (n.prepacked) os << " prepacked";
        break;
    }
    os << ' ' << shape_str(n.shape) << ' ' << dtype_name(n.dtype) << '\n';
  }
  os << "outputs:";
  for (int o : g.outputs) os << " %" << o;
  os << '\n';
  return os.str();
}

void optimize(Graph& g, const CompileOptions& o) {
  // Simplification and folding expose common subexpressions and dead nodes; repeat until
  // nothing changes (each pass only shrinks or rewires the graph, so this ends).
  for (int round = 0; round < 8; ++round) {
    int changed = 0;
    if (o.simplify) changed += simplify(g) + transpose_matmuls(g);
    if (o.fold_constants) changed += fold_constants(g);
    if (o.eliminate_common_subexpressions) changed += eliminate_common_subexpressions(g);
    if (o.eliminate_dead_code) changed += eliminate_dead_code(g);
    if (changed == 0) break;
  }
  if (o.prepack_weights) prepack_weights(g);
}

std::shared_ptr<const Plan> make_plan(Graph graph, bool fuse) {
  auto plan = std::make_shared<Plan>();
  plan->last_use.assign(graph.nodes.size(), -1);
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    for (int in : graph.nodes[i].inputs) plan->last_use[std::size_t(in)] = int(i);
    const GraphNode& n = graph.nodes[i];
    if (n.kind == NodeKind::op && n.op->has(kRandom)) plan->random_order.push_back(int(i));
  }
  // Streams are drawn in the order the ops drew them when the graph was built (their offsets),
  // so with the same seed a compiled function draws what running the graph eagerly draws.
  auto offset = [&](int i) {
    return std::bit_cast<uint64_t>(graph.nodes[std::size_t(i)].attrs.get_or<int64_t>("offset", 0));
  };
  std::stable_sort(plan->random_order.begin(), plan->random_order.end(),
                   [&](int a, int b) { return offset(a) < offset(b); });
  plan->graph = std::move(graph);
  plan->group_of.assign(plan->graph.nodes.size(), -1);
  if (fuse) plan_fusion(*plan);
  plan_memory(*plan);
  return plan;
}

}  // namespace nabla::compile_detail
