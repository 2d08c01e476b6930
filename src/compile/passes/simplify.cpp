// Algebraic simplification: rewrites that remove work without changing any value.
//   x * 1, 1 * x, x / 1, x + 0, 0 + x, x - 0  ->  x   (when x already has the result's shape and
//   dtype) astype(x, dtype of x), expand(x, shape of x), reshape(x, shape of x)  ->  x
//   permute(permute(x, p), q)  ->  permute(x, p∘q), or x when that is the identity (double
//   transpose) reshape(reshape(x, s), t)  ->  reshape(x, t)
// Replaced nodes are left for dead-code elimination.
#include "compile/graph.h"
#include "ir/node.h"
#include "nabla/ops/shape_like.h"

namespace nabla::compile_detail {
namespace {

constexpr int64_t kMaxInspected = 4096;  // constants larger than this are not scanned

// Whether node `id` is a frozen constant whose every element equals `v`.
bool constant_equals(const Graph& g, int id, double v) {
  const GraphNode& n = g.nodes[std::size_t(id)];
  if (!is_frozen(n) || n.value.numel() > kMaxInspected || n.value.numel() == 0) return false;
  for (double x : n.value.to_vector<double>())
    if (x != v) return false;
  return true;
}

// For x (op) c with c a constant equal to `identity`: x, when the op leaves x unchanged.
int identity_operand(const Graph& g, const GraphNode& n, double identity, bool commutative) {
  const GraphNode& a = g.nodes[std::size_t(n.inputs[0])];
  const GraphNode& b = g.nodes[std::size_t(n.inputs[1])];
  auto keeps = [&](const GraphNode& x) { return x.shape == n.shape && x.dtype == n.dtype; };
  if (constant_equals(g, n.inputs[1], identity) && keeps(a)) return n.inputs[0];
  if (commutative && constant_equals(g, n.inputs[0], identity) && keeps(b)) return n.inputs[1];
  return -1;
}

}  // namespace

int simplify(Graph& g) {
  int changed = 0;
  std::vector<int> rep(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    GraphNode& n = g.nodes[i];
    rep[i] = int(i);
    for (int& in : n.inputs) in = rep[std::size_t(in)];
    if (n.kind != NodeKind::op) continue;
    const std::string& op = n.op->name;
    int same = -1;  // an existing node equal to this one
    if (op == "mul")
      same = identity_operand(g, n, 1.0, true);
    else if (op == "div")
      same = identity_operand(g, n, 1.0, false);
    else if (op == "add")
      same = identity_operand(g, n, 0.0, true);
    else if (op == "sub")
      same = identity_operand(g, n, 0.0, false);
    else if (op == "astype" || op == "expand" || op == "reshape") {
      const GraphNode& x = g.nodes[std::size_t(n.inputs[0])];
      if (x.shape == n.shape && x.dtype == n.dtype && !is_dynamic(n.shape)) same = n.inputs[0];
    }
    if (same < 0 && op == "permute") {
      const GraphNode& inner = g.nodes[std::size_t(n.inputs[0])];
      if (inner.kind == NodeKind::op && inner.op == n.op) {
        const Shape& p = inner.attrs.get<Shape>("dims");
        const Shape& q = n.attrs.get<Shape>("dims");
        Shape composed(q.size());
        bool identity = true;
        for (std::size_t k = 0; k < q.size(); ++k) {
          composed[k] = p[std::size_t(q[k])];
          identity &= composed[k] == int64_t(k);
        }
        if (identity) {
          same = inner.inputs[0];
        } else {
          n.attrs.set("dims", composed);
          n.inputs = {inner.inputs[0]};
          ++changed;
        }
      }
    }
    if (same < 0 && op == "reshape") {
      const GraphNode& inner = g.nodes[std::size_t(n.inputs[0])];
      if (inner.kind == NodeKind::op && inner.op == n.op && !is_dynamic(n.shape) &&
          !is_dynamic(inner.shape)) {
        n.inputs = {inner.inputs[0]};
        ++changed;
      }
    }
    if (same >= 0) {
      rep[i] = same;
      ++changed;
    }
  }
  for (int& o : g.outputs) o = rep[std::size_t(o)];
  return changed;
}

}  // namespace nabla::compile_detail
