// Pre-packing of weights: oneDNN's convolution and matmul primitives run fastest with their
// weights in a blocked layout (OIhw16i16o, BA16a64b...), which the ordinary kernels make by
// reordering the plain weight at every call. A conv2d, conv3d or matmul (float32) whose weight,
// input 1, is a captured tensor (a module's parameter) or a constant, possibly through views
// (a Linear's W^T, a conv1d's unsqueezed weight), is marked `prepacked`: the executor then runs
// it with the weight packed once and kept until it changes (compile/prepacked.h). A matmul's
// weight must be 2-d. Nothing else in the graph changes; a call whose inputs the packed kernels
// do not take (another device, a strided x) runs the node as usual.
#include "compile/prepacked.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

// Whether node `id` is a captured or constant value seen through zero or more views.
bool is_fixed_weight(const Graph& g, int id) {
  for (;;) {
    const GraphNode& n = g.nodes[std::size_t(id)];
    if (n.kind == NodeKind::captured || n.kind == NodeKind::constant)
      return n.value.defined() && n.value.device().type == DeviceType::cpu;
    if (n.kind != NodeKind::op || !n.op->has(kView) || n.inputs.size() != 1) return false;
    id = n.inputs[0];
  }
}

}  // namespace

int prepack_weights(Graph& g) {
  int changed = 0;
  for (GraphNode& n : g.nodes) {
    if (n.kind != NodeKind::op || n.prepacked || n.dtype != float32 || n.inputs.size() < 2)
      continue;
    const std::string& op = n.op->name;
    if (op != "conv2d" && op != "conv3d" && op != "matmul") continue;
    if (op == "matmul" && g.nodes[std::size_t(n.inputs[1])].shape.size() != 2) continue;
    if (!is_fixed_weight(g, n.inputs[1])) continue;
    n.prepacked = std::make_shared<PrepackedWeights>();
    ++changed;
  }
  return changed;
}

}  // namespace nabla::compile_detail
