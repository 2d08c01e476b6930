// Transposed products: permute(matmul(a, b)) that swaps the last two dims becomes
// matmul(permute(b), permute(a)), since (ab)^T = b^T a^T. The gradient of x W^T with respect to W
// comes out of autograd as (x^T g)^T, a transposed view that every later elementwise op reads
// column by column; rewritten, the product itself is computed in W's layout (matmul reads
// transposed operands for free) and the new permutes usually cancel with existing ones in the
// next simplify round. Only when the matmul has no other use (it would be computed twice).
#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

bool swaps_last_two(const Shape& dims) {
  const std::size_t n = dims.size();
  if (n < 2) return false;
  for (std::size_t k = 0; k + 2 < n; ++k)
    if (dims[k] != int64_t(k)) return false;
  return dims[n - 2] == int64_t(n - 1) && dims[n - 1] == int64_t(n - 2);
}

// Inserts `node` at position `at`, shifting the ids of every node from `at` on.
void insert_node(Graph& g, int at, GraphNode node) {
  auto shift = [at](int& id) {
    if (id >= at) ++id;
  };
  for (GraphNode& n : g.nodes)
    for (int& in : n.inputs) shift(in);
  for (int& o : g.outputs) shift(o);
  for (int& i : g.inputs) shift(i);
  for (int& in : node.inputs) shift(in);
  g.nodes.insert(g.nodes.begin() + at, std::move(node));
}

GraphNode transposed(const Graph& g, int of, const GraphNode& permute) {
  GraphNode t;
  t.kind = NodeKind::op;
  t.op = permute.op;
  t.attrs = permute.attrs;
  t.inputs = {of};
  t.dtype = g.nodes[std::size_t(of)].dtype;
  t.shape = g.nodes[std::size_t(of)].shape;
  std::swap(t.shape[t.shape.size() - 1], t.shape[t.shape.size() - 2]);
  return t;
}

}  // namespace

int transpose_matmuls(Graph& g) {
  int changed = 0;
  std::vector<int> uses = use_counts(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& p = g.nodes[i];
    if (p.kind != NodeKind::op || p.op->name != "permute") continue;
    if (!swaps_last_two(p.attrs.get<Shape>("dims"))) continue;
    const int m = p.inputs[0];
    const GraphNode& mm = g.nodes[std::size_t(m)];
    if (mm.kind != NodeKind::op || mm.op->name != "matmul" || uses[std::size_t(m)] != 1) continue;
    const int a = mm.inputs[0], b = mm.inputs[1];
    const std::size_t rank = mm.shape.size();
    if (g.nodes[std::size_t(a)].shape.size() != rank ||
        g.nodes[std::size_t(b)].shape.size() != rank)
      continue;  // vectors and broadcast batch dims keep their form
    // b^T and a^T take the matmul's place (their inputs come before it), the product the
    // permute's; the old matmul, now unused, is left for dead-code elimination.
    const GraphNode perm = p;
    insert_node(g, m, transposed(g, b, perm));
    insert_node(g, m + 1, transposed(g, a, perm));
    const int bt = m, at = m + 1, node = int(i) + 2;
    GraphNode& out = g.nodes[std::size_t(node)];
    GraphNode product = g.nodes[std::size_t(m + 2)];
    out.op = product.op;
    out.attrs = product.attrs;
    out.inputs = {bt, at};
    uses = use_counts(g);
    i = std::size_t(node);
    ++changed;
  }
  return changed;
}

}  // namespace nabla::compile_detail
