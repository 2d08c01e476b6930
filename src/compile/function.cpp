// nb::compile, nb::constant and the Function a compile returns: input checking and calls.
#include <algorithm>

#include "compile/graph.h"
#include "ir/node.h"
#include "nabla/autograd.h"

namespace nabla {
using compile_detail::Graph;
using compile_detail::GraphNode;
using compile_detail::Plan;

namespace {

const Plan& checked(const std::shared_ptr<const Plan>& plan) {
  if (!plan) throw ValueError("[compile] the Function is empty (default-constructed)");
  return *plan;
}

std::string names_of(const Graph& g) {
  std::string s;
  for (int i : g.inputs) s += (s.empty() ? "'" : ", '") + g.nodes[std::size_t(i)].name + "'";
  return s.empty() ? "none" : s;
}

void check_input(const GraphNode& p, const Tensor& t) {
  if (!t.defined()) throw ValueError("[compile] input '" + p.name + "' is undefined");
  if (t.dtype() != p.dtype)
    throw DTypeError("[compile] input '" + p.name + "' is " + std::string(dtype_name(t.dtype())) +
                     " but the placeholder is " + std::string(dtype_name(p.dtype)));
  bool ok = t.ndim() == int64_t(p.shape.size());
  for (std::size_t d = 0; ok && d < p.shape.size(); ++d)
    ok = p.shape[d] < 0 || p.shape[d] == t.shape()[d];
  if (!ok)
    throw ShapeError("[compile] input '" + p.name + "' has shape " + shape_str(t.shape()) +
                     " but the placeholder is " + shape_str(p.shape) + " (-1: any size)");
}

}  // namespace

Tensor constant(const Tensor& value) {
  if (!value.defined()) throw ValueError("[constant] the value is undefined");
  if (!value.is_concrete())
    throw ValueError("[constant] needs a concrete tensor, got a symbolic one of shape " +
                     shape_str(value.shape()));
  Tensor c;
  {
    NoGradGuard off;
    c = value.clone();
  }
  c.node()->constant = true;
  c.node()->weak = value.node()->weak;
  return c;
}

Tensor compile_detail::weak_constant(double value, DType dtype) {
  Tensor c = scalar(value, dtype, /*weak=*/true);
  c.node()->constant = true;
  return c;
}

RecordRandomGuard::RecordRandomGuard() : previous_(record_random_enabled()) {
  set_record_random(true);
}
RecordRandomGuard::~RecordRandomGuard() { set_record_random(previous_); }

Function compile(const std::vector<Tensor>& outputs, CompileOptions options) {
  if (outputs.empty()) throw ValueError("[compile] no outputs given");
  Graph g = compile_detail::build_graph(outputs, options.inputs);
  compile_detail::optimize(g, options);
  return Function(compile_detail::make_plan(std::move(g)));
}

Function compile(const Tensor& output, CompileOptions options) {
  return compile(std::vector<Tensor>{output}, std::move(options));
}

std::vector<Tensor> Function::run(const std::vector<Tensor>& inputs) const {
  const Plan& p = checked(plan_);
  const Graph& g = p.graph;
  if (inputs.size() != g.inputs.size())
    throw ValueError("[compile] the function takes " + std::to_string(g.inputs.size()) +
                     " inputs (" + names_of(g) + "), got " + std::to_string(inputs.size()));
  for (std::size_t i = 0; i < inputs.size(); ++i)
    check_input(g.nodes[std::size_t(g.inputs[i])], inputs[i]);
  return compile_detail::execute(p, inputs);
}

std::vector<Tensor> Function::run(const std::map<std::string, Tensor>& inputs) const {
  const Graph& g = checked(plan_).graph;
  for (const auto& [name, t] : inputs) {
    bool known = std::any_of(g.inputs.begin(), g.inputs.end(),
                             [&](int i) { return g.nodes[std::size_t(i)].name == name; });
    if (!known)
      throw ValueError("[compile] unknown input '" + name + "'; the function takes " + names_of(g));
  }
  std::vector<Tensor> ordered;
  for (int i : g.inputs) {
    auto it = inputs.find(g.nodes[std::size_t(i)].name);
    if (it == inputs.end())
      throw ValueError("[compile] missing input '" + g.nodes[std::size_t(i)].name +
                       "'; the function takes " + names_of(g));
    ordered.push_back(it->second);
  }
  return run(ordered);
}

namespace {
void check_single(const Plan& p) {
  if (p.graph.outputs.size() != 1)
    throw ValueError("[compile] the function has " + std::to_string(p.graph.outputs.size()) +
                     " outputs; call run() to get them all");
}
}  // namespace

Tensor Function::operator()(const std::map<std::string, Tensor>& inputs) const {
  check_single(checked(plan_));
  return run(inputs)[0];
}

Tensor Function::operator()(const std::vector<Tensor>& inputs) const {
  check_single(checked(plan_));
  return run(inputs)[0];
}

std::vector<std::string> Function::input_names() const {
  const Graph& g = checked(plan_).graph;
  std::vector<std::string> out;
  for (int i : g.inputs) out.push_back(g.nodes[std::size_t(i)].name);
  return out;
}

std::vector<Shape> Function::input_shapes() const {
  const Graph& g = checked(plan_).graph;
  std::vector<Shape> out;
  for (int i : g.inputs) out.push_back(g.nodes[std::size_t(i)].shape);
  return out;
}

std::vector<DType> Function::input_dtypes() const {
  const Graph& g = checked(plan_).graph;
  std::vector<DType> out;
  for (int i : g.inputs) out.push_back(g.nodes[std::size_t(i)].dtype);
  return out;
}

std::size_t Function::num_outputs() const { return checked(plan_).graph.outputs.size(); }

Function::MemoryReport Function::memory_report() const {
  const Plan& p = checked(plan_);
  const auto in_place =
      std::count_if(p.in_place.begin(), p.in_place.end(), [](int x) { return x >= 0; });
  return {p.arena_bytes, p.naive_bytes, std::size_t(in_place)};
}

std::size_t Function::num_ops() const {
  const Graph& g = checked(plan_).graph;
  return std::size_t(std::count_if(g.nodes.begin(), g.nodes.end(), [](const GraphNode& n) {
    return n.kind == compile_detail::NodeKind::op;
  }));
}

}  // namespace nabla
