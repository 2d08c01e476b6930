// Common-subexpression elimination: a node computing the same op, with equal attributes, on
// the same inputs as an earlier node is replaced by that node. Small frozen constants with
// equal contents merge first, so `x * 2 + x * 2` shares one product. Random ops never merge:
// two draws are two different values. Replaced nodes are left for dead-code elimination.
#include <cstring>
#include <map>

#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

constexpr int64_t kMaxMergedConstant = 4096;  // elements compared byte by byte

bool same_constant(const GraphNode& a, const GraphNode& b) {
  const Tensor &x = a.value, &y = b.value;
  if (x.dtype() != y.dtype() || x.shape() != y.shape() || x.node()->weak != y.node()->weak)
    return false;
  if (x.device() != y.device() || x.device().type != DeviceType::cpu) return false;
  Tensor cx = x.contiguous(), cy = y.contiguous();
  return std::memcmp(cx.raw_data(), cy.raw_data(),
                     std::size_t(cx.numel()) * itemsize(cx.dtype())) == 0;
}

}  // namespace

int eliminate_common_subexpressions(Graph& g) {
  std::vector<int> rep(g.nodes.size());
  std::map<std::pair<const OpDef*, std::vector<int>>, std::vector<int>> seen_ops;
  std::map<std::string, std::vector<int>> seen_constants;  // key: dtype and shape
  int merged = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    GraphNode& n = g.nodes[i];
    rep[i] = int(i);
    for (int& in : n.inputs) in = rep[std::size_t(in)];
    if (n.kind == NodeKind::constant && n.value.numel() <= kMaxMergedConstant) {
      auto& bucket = seen_constants[std::string(dtype_name(n.dtype)) + shape_str(n.shape)];
      for (int j : bucket)
        if (same_constant(g.nodes[std::size_t(j)], n)) rep[i] = j;
      if (rep[i] == int(i))
        bucket.push_back(int(i));
      else
        ++merged;
    } else if (n.kind == NodeKind::op && !n.op->has(kRandom)) {
      auto& bucket = seen_ops[{n.op, n.inputs}];
      for (int j : bucket)
        if (g.nodes[std::size_t(j)].attrs == n.attrs) rep[i] = j;
      if (rep[i] == int(i))
        bucket.push_back(int(i));
      else
        ++merged;
    }
  }
  for (int& o : g.outputs) o = rep[std::size_t(o)];
  return merged;
}

}  // namespace nabla::compile_detail
