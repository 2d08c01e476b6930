// Graphviz DOT pictures of graphs: `dot -Tsvg graph.dot -o graph.svg`. Inputs are green
// ellipses, constants and captured tensors grey boxes, ops white boxes, outputs bold.
#include <sstream>

#include "compile/graph.h"
#include "ir/node.h"

namespace nabla {
namespace compile_detail {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string attr_text(const AttrValue& v) {
  std::ostringstream os;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Shape>)
          os << shape_str(x);
        else if constexpr (std::is_same_v<T, DType>)
          os << dtype_name(x);
        else if constexpr (std::is_same_v<T, bool>)
          os << (x ? "true" : "false");
        else
          os << x;
      },
      v);
  return os.str();
}

std::string graph_to_dot(const Graph& g) {
  std::vector<char> is_output(g.nodes.size(), 0);
  for (int o : g.outputs) is_output[std::size_t(o)] = 1;
  std::ostringstream os;
  os << "digraph nabla {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    std::string label, style;
    switch (n.kind) {
      case NodeKind::input:
        label = escape(n.name);
        style = "shape=ellipse, style=filled, fillcolor=\"#cde8c5\"";
        break;
      case NodeKind::constant:
        label = n.value.numel() == 1
                    ? "constant " + attr_text(n.value.astype(float64).item<double>())
                    : "constant";
        style = "shape=box, style=filled, fillcolor=\"#e4e4e4\"";
        break;
      case NodeKind::captured:
        label = n.name.empty() ? "captured" : "captured " + escape(n.name);
        style = "shape=box, style=filled, fillcolor=\"#e4e4e4\"";
        break;
      case NodeKind::op:
        label = n.prepacked ? n.op->name + " (prepacked)" : n.op->name;
        for (const Attr& a : n.attrs.items()) {
          std::string k = a.name;
          if (k == "seed" || k == "offset") continue;  // changes every call
          label += "\\n" + k + "=" + escape(attr_text(a.value));
        }
        style = "shape=box";
        break;
    }
    label += "\\n" + shape_str(n.shape) + " " + std::string(dtype_name(n.dtype));
    if (is_output[i]) style += ", penwidth=2";
    os << "  n" << i << " [label=\"" << label << "\", " << style << "];\n";
  }
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (std::size_t k = 0; k < g.nodes[i].inputs.size(); ++k)
      os << "  n" << g.nodes[i].inputs[k] << " -> n" << i
         << (g.nodes[i].inputs.size() > 1 ? " [label=\"" + std::to_string(k) + "\"]" : "") << ";\n";
  for (std::size_t k = 0; k < g.outputs.size(); ++k)
    os << "  out" << k << " [label=\"output " << k << "\", shape=plaintext];\n  n" << g.outputs[k]
       << " -> out" << k << ";\n";
  os << "}\n";
  return os.str();
}

}  // namespace
}  // namespace compile_detail

std::string Function::to_dot() const {
  if (!plan_) throw ValueError("[to_dot] the Function is empty (default-constructed)");
  return compile_detail::graph_to_dot(plan_->graph);
}

std::string to_dot(const std::vector<Tensor>& outputs) {
  if (outputs.empty()) throw ValueError("[to_dot] no outputs given");
  return compile_detail::graph_to_dot(compile_detail::build_graph(outputs));
}

}  // namespace nabla
