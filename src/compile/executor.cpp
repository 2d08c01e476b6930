// Running a plan: each op node replays its op and attributes on concrete values through the
// ordinary dispatch path (apply), so every kernel, dtype and device eager mode has works here,
// and autograd records the run when an input requires a gradient. Values are dropped after
// their last use, so peak memory follows the graph's live set rather than its size.
#include <algorithm>
#include <bit>

#include "compile/graph.h"
#include "compile/prepacked.h"
#include "core/storage.h"
#include "ir/node.h"
#include "nabla/ops/shape_like.h"
#include "nabla/random.h"

namespace nabla::compile_detail {
namespace {

// Philox counters one draw of a random op uses (nabla/random.h: 32-bit draws take a quarter of
// a counter per element, 64-bit ones half). Ops not known here get one counter per element,
// which is never less than they use.
uint64_t random_counters(const GraphNode& n, int64_t numel) {
  const std::string& op = n.op->name;
  int words = 4;
  if (op == "uniform" || op == "normal")
    words = n.dtype == float64 ? 2 : 1;
  else if (op == "bernoulli")
    words = 1;
  else if (op == "permutation")
    words = 2;
  else if (op == "randint")
    words = uint64_t(n.attrs.get<int64_t>("high")) - uint64_t(n.attrs.get<int64_t>("low")) >
                    (uint64_t(1) << 32)
                ? 2
                : 1;
  uint64_t per = uint64_t(4 / words);
  return (uint64_t(numel) + per - 1) / per;
}

Attrs with_stream(Attrs attrs, const GeneratorState& s) {
  attrs.set("seed", std::bit_cast<int64_t>(s.seed));
  attrs.set("offset", std::bit_cast<int64_t>(s.offset));
  return attrs;
}

void check_shape(const GraphNode& n, int id, const Tensor& t) {
  bool ok = t.ndim() == int64_t(n.shape.size());
  for (std::size_t d = 0; ok && d < n.shape.size(); ++d)
    ok = n.shape[d] < 0 || n.shape[d] == t.shape()[d];
  if (!ok)
    throw ShapeError(
        "[compile] node %" + std::to_string(id) + " (" + n.op->name + ") computed shape " +
        shape_str(t.shape()) + " but the graph was built for " + shape_str(n.shape) +
        ": an attribute of this op was computed from a dynamic dim when the graph was built");
}

// A node built on a dynamic dim whose attributes fixed its shape (a reshape target, a creation
// op's shape) would get a negative size: refuse before anything is allocated.
void check_inferred(const GraphNode& n, int id, std::span<const Tensor> args) {
  OutputMeta meta = n.op->infer(args, n.attrs);
  if (is_dynamic(meta.shape))
    throw ShapeError(
        "[compile] node %" + std::to_string(id) + " (" + n.op->name + ") would have shape " +
        shape_str(meta.shape) +
        ": its attributes were computed from a dynamic (-1) dim when the graph was built; "
        "nb::jit retraces per shape instead");
}

// Whether this call may reuse buffers (the plan's arena, in-place execution): values must not
// escape into autograd's graph (which would keep reading them after their bytes are reused)
// and must live on the CPU. A call on symbolic inputs records ops: nothing to reuse.
bool reuse_allowed(const Plan& plan, const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs)
    if (!t.is_concrete() || t.device().type != DeviceType::cpu ||
        (t.requires_grad() && grad_mode_enabled()))
      return false;
  for (const GraphNode& n : plan.graph.nodes)
    if (n.value.defined() && (n.value.device().type != DeviceType::cpu ||
                              (n.value.requires_grad() && grad_mode_enabled())))
      return false;
  return true;
}

// Runs an elementwise op node with its result written over operand `x`'s storage (the plan's
// in-place choice, for values outside the arena) when `held` (value[x]) is a contiguous CPU
// value of the result's shape and dtype that nothing but the executor references: its slot in
// `value` and its `copies` places among the arguments. Undefined when it cannot.
Tensor run_over_operand(const GraphNode& n, std::span<const Tensor> in, const Attrs& attrs,
                        const Tensor& held, long copies) {
  if (!held.defined() || !held.is_concrete()) return Tensor();
  const Node& x = *held.node();
  if (held.node_ptr().use_count() != 1 + copies || x.storage.use_count() != 1 ||
      x.device.type != DeviceType::cpu || x.dtype != n.dtype || !x.is_contiguous())
    return Tensor();
  DType key = n.op->dispatch_input < 0 ? n.dtype : in[std::size_t(n.op->dispatch_input)].dtype();
  KernelFn kernel = n.op->kernel(kCPU, key);
  if (!kernel) return Tensor();
  OutputMeta meta = n.op->infer(in, attrs);
  if (meta.shape != x.shape || meta.dtype != x.dtype) return Tensor();
  auto out = std::make_shared<Node>();
  out->dtype = x.dtype;
  out->shape = x.shape;
  out->strides = contiguous_strides(x.shape);
  out->device = kCPU;
  out->storage = x.storage;
  out->offset = x.offset;
  std::vector<const Node*> nodes;
  for (const Tensor& t : in) nodes.push_back(t.node());
  kernel(KernelArgs{std::span<const Node* const>(nodes.data(), nodes.size()), *out, attrs});
  return Tensor(std::move(out));
}

// Runs an op node's kernel with its result placed in the arena (what apply does, without the
// allocation); ops without a CPU kernel for the dtype go through apply and allocate.
Tensor run_in_arena(const GraphNode& n, std::span<const Tensor> in, const Attrs& attrs,
                    const std::shared_ptr<Storage>& arena, int64_t offset) {
  DType key = n.op->dispatch_input < 0 ? n.dtype : in[std::size_t(n.op->dispatch_input)].dtype();
  KernelFn kernel = n.op->kernel(kCPU, key);
  if (!kernel) return run_node(n, in, attrs);
  auto out = std::make_shared<Node>();
  out->dtype = n.dtype;
  out->shape = n.shape;
  out->strides = contiguous_strides(n.shape);
  out->device = kCPU;
  out->storage = arena;
  out->offset = offset / int64_t(itemsize(n.dtype));
  std::vector<const Node*> nodes;
  for (const Tensor& t : in) nodes.push_back(t.node());
  kernel(KernelArgs{std::span<const Node* const>(nodes.data(), nodes.size()), *out, attrs});
  return Tensor(std::move(out));
}

}  // namespace

Tensor run_node(const GraphNode& n, std::span<const Tensor> in, const Attrs& attrs) {
  // Symbolic nodes always look contiguous, so a recorded reshape may meet a strided value that
  // no view can reshape: Tensor::reshape copies then, as it does in eager mode.
  if (n.op->name == "reshape" && in[0].is_concrete())
    return in[0].reshape(attrs.get<Shape>("shape"));
  return apply(*n.op, in, attrs);
}

std::vector<Tensor> execute(const Plan& plan, const std::vector<Tensor>& inputs) {
  const Graph& g = plan.graph;
  std::vector<Tensor> value(g.nodes.size());
  for (std::size_t i = 0; i < g.inputs.size(); ++i) value[std::size_t(g.inputs[i])] = inputs[i];
  std::vector<char> is_output(g.nodes.size(), 0);
  for (int o : g.outputs) is_output[std::size_t(o)] = 1;

  // Fresh random streams for this call, reserved up front in the order eager mode would.
  std::vector<GeneratorState> stream(g.nodes.size());
  std::vector<char> reserved(g.nodes.size(), 0);
  for (int id : plan.random_order) {
    const GraphNode& n = g.nodes[std::size_t(id)];
    if (is_dynamic(n.shape)) continue;  // sized by this call's inputs: reserved when run
    stream[std::size_t(id)] = default_generator().advance(random_counters(n, numel_of(n.shape)));
    reserved[std::size_t(id)] = 1;
  }

  // One block for every planned value of this call (offsets fixed at compile time).
  const bool reuse = reuse_allowed(plan, inputs);
  std::shared_ptr<Storage> arena;
  if (reuse && plan.arena_bytes > 0) arena = allocate_storage(plan.arena_bytes, kCPU);
  std::vector<Tensor> args;
  auto run = [&](const GraphNode& n, std::size_t i, const Attrs& attrs) {
    const int64_t offset = plan.arena_offset[i];
    if (n.prepacked)
      if (Tensor t = run_prepacked(n, args, arena, offset); t.defined()) return t;
    if (arena && offset >= 0) return run_in_arena(n, args, attrs, arena, offset);
    if (const int x = plan.in_place[i]; reuse && x >= 0) {
      const long copies = std::count(n.inputs.begin(), n.inputs.end(), x);
      if (Tensor t = run_over_operand(n, args, attrs, value[std::size_t(x)], copies); t.defined())
        return t;
    }
    return run_node(n, args, attrs);
  };
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    if (n.kind == NodeKind::constant || n.kind == NodeKind::captured) value[i] = n.value;
    if (n.kind != NodeKind::op) continue;
    int group = plan.group_of[i];
    if (group >= 0 && plan.groups[std::size_t(group)].members.back() != int(i))
      continue;  // at the root
    if (group >= 0) {
      run_group(plan, group, value);
      check_shape(n, int(i), value[i]);
      for (int m : plan.groups[std::size_t(group)].members)
        for (int in : g.nodes[std::size_t(m)].inputs)
          if (plan.last_use[std::size_t(in)] == int(i) && !is_output[std::size_t(in)])
            value[std::size_t(in)] = Tensor();
      continue;
    }
    args.clear();
    for (int in : n.inputs) args.push_back(value[std::size_t(in)]);
    if (is_dynamic(n.shape)) check_inferred(n, int(i), args);
    if (n.op->has(kRandom)) {
      if (!reserved[i]) {
        int64_t numel = n.inputs.empty() ? numel_of(n.shape) : args[0].numel();
        stream[i] = default_generator().advance(random_counters(n, numel));
      }
      value[i] = run(n, i, with_stream(n.attrs, stream[i]));
    } else {
      value[i] = run(n, i, n.attrs);
    }
    check_shape(n, int(i), value[i]);
    for (int in : n.inputs)
      if (plan.last_use[std::size_t(in)] == int(i) && !is_output[std::size_t(in)])
        value[std::size_t(in)] = Tensor();
  }

  std::vector<Tensor> out;
  for (int o : g.outputs) {
    const GraphNode& n = g.nodes[std::size_t(o)];
    // An output that is not computed by this call (an input or a constant the passes reduced
    // it to) is copied, so writing into a result never changes the graph or the caller's input.
    out.push_back(n.kind == NodeKind::op ? value[std::size_t(o)] : value[std::size_t(o)].clone());
  }
  return out;
}

}  // namespace nabla::compile_detail
