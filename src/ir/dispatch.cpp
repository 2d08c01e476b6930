// The dispatch path of every op: infer, then record (symbolic) or run (eager), then note
// the node for autograd when an input requires a gradient.
#include "ir/concrete_reads.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nabla {
namespace {
thread_local bool t_grad_mode = true;
thread_local bool t_record_random = false;
thread_local ConcreteReads* t_concrete_reads = nullptr;
}  // namespace

bool grad_mode_enabled() { return t_grad_mode; }
void set_grad_mode(bool enabled) { t_grad_mode = enabled; }
bool record_random_enabled() { return t_record_random; }
void set_record_random(bool enabled) { t_record_random = enabled; }
ConcreteReads* concrete_reads() { return t_concrete_reads; }
void set_concrete_reads(ConcreteReads* reads) { t_concrete_reads = reads; }

void throw_op_error(const std::string& op, const std::string& what) {
  throw Error("[" + op + "] " + what);
}

bool Node::is_contiguous() const {
  int64_t expected = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

Tensor make_empty(const Shape& shape, DType dtype, Device device) {
  auto n = std::make_shared<Node>();
  n->shape = shape;
  n->strides = contiguous_strides(shape);
  n->dtype = dtype;
  n->device = device;
  n->storage = allocate_storage(std::size_t(numel_of(shape)) * itemsize(dtype), device);
  return Tensor(std::move(n));
}

Tensor apply(const OpDef& op, std::span<const Tensor> inputs, Attrs attrs) {
  if (!op.infer) throw_op_error(op.name, "internal: op has no definition");
  if (op.arity >= 0 && std::size_t(op.arity) != inputs.size())
    throw ValueError("[" + op.name + "] expects " + std::to_string(op.arity) + " inputs, got " +
                     std::to_string(inputs.size()));
  bool symbolic = false, needs_grad = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Node* n = inputs[i].node();
    if (!n) throw ValueError("[" + op.name + "] input " + std::to_string(i) + " is undefined");
    symbolic |= n->storage == nullptr;
    needs_grad |= n->requires_grad;
  }
  // While tracing, random ops become graph nodes even without symbolic inputs, so the
  // compiled function draws fresh numbers at each call instead of replaying trace-time ones.
  symbolic |= t_record_random && op.has(kRandom);
  OutputMeta meta = op.infer(inputs, attrs);
  needs_grad = needs_grad && op.vjp && grad_mode_enabled();

  auto out = std::make_shared<Node>();
  out->dtype = meta.dtype;
  if (symbolic) {
    out->op = &op;
    out->shape = std::move(meta.shape);
    out->strides = contiguous_strides(out->shape);
    out->inputs.assign(inputs.begin(), inputs.end());
    // Backward (symbolic gradients) checks the versions of concrete inputs, as in eager mode.
    for (const Tensor& t : inputs)
      out->input_versions.push_back(t.node()->storage ? t.node()->storage->version.load() : 0);
    out->requires_grad = needs_grad;
    out->attrs = std::move(attrs);
    return Tensor(std::move(out));
  }

  // A view computes nothing (a captured view is read afresh at each call): not noted.
  if (t_concrete_reads && !op.has(kView))
    for (const Tensor& t : inputs)
      t_concrete_reads->push_back({t.node()->storage, t.node()->storage->version.load(), out});
  Device device = inputs.empty() ? kCPU : inputs[0].node()->device;
  if (op.has(kView)) {
    const Node& in = *inputs[0].node();
    out->storage = in.storage;
    out->device = in.device;
    out->shape = std::move(meta.shape);
    op.view(in, attrs, *out);
  } else {
    out->shape = std::move(meta.shape);
    out->strides = contiguous_strides(out->shape);
    out->device = device;
    out->storage =
        allocate_storage(std::size_t(numel_of(out->shape)) * itemsize(meta.dtype), device);
    DType key = op.dispatch_input < 0 ? meta.dtype : inputs[op.dispatch_input].dtype();
    KernelFn kernel = op.kernel(device, key);
    if (!kernel)
      throw DTypeError("[" + op.name + "] is not implemented for " + std::string(dtype_name(key)) +
                       " on " + device.str());
    SmallVector<const Node*, 4> in_nodes;
    for (const Tensor& t : inputs) in_nodes.push_back(t.node());
    kernel(KernelArgs{std::span<const Node* const>(in_nodes.data(), in_nodes.size()), *out, attrs});
  }
  if (needs_grad) {  // only recorded nodes name their op: the others are leaves
    out->op = &op;
    out->requires_grad = true;
    out->inputs.assign(inputs.begin(), inputs.end());
    for (const Tensor& t : inputs) out->input_versions.push_back(t.node()->storage->version.load());
  }
  out->attrs = std::move(attrs);
  return Tensor(std::move(out));
}

}  // namespace nabla
