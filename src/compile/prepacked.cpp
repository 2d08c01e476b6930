// Pre-packed conv/matmul weights of compiled plans: the cache of packed copies and the run of
// a node with one (see prepacked.h).
#include "compile/prepacked.h"

#include <algorithm>

#include "ir/concrete_reads.h"
#include "ir/op.h"

namespace nabla::compile_detail {

std::shared_ptr<const cpu::PackedWeight> PrepackedWeights::get(const Node& w,
                                                               const cpu::PackedKernel& kernel) {
  const uint32_t version = w.storage->version.load();
  std::lock_guard lock(mu_);
  // Entries for another block, a dead one, another version or view are stale: dropped.
  std::erase_if(entries_, [&](const Entry& e) {
    std::shared_ptr<Storage> s = e.storage.lock();
    return s != w.storage || e.version != version || e.offset != w.offset || e.shape != w.shape ||
           e.strides != w.strides;
  });
  for (const Entry& e : entries_)
    if (kernel.accepts(*e.packed)) return e.packed;
  // Packed under the lock: concurrent first calls pack once.
  Entry e{w.storage, version, w.offset, w.shape, w.strides, kernel.pack(w)};
  ++packs_;
  constexpr std::size_t kMaxLayouts = 4;
  if (entries_.size() == kMaxLayouts) entries_.erase(entries_.begin());
  entries_.push_back(std::move(e));
  return entries_.back().packed;
}

Tensor run_prepacked(const GraphNode& n, std::span<const Tensor> in,
                     const std::shared_ptr<Storage>& arena, int64_t offset) {
  std::vector<const Node*> nodes;
  for (const Tensor& t : in) {
    if (!t.is_concrete()) return Tensor();
    nodes.push_back(t.node());
  }
  std::shared_ptr<const cpu::PackedKernel> kernel = cpu::packed_kernel(n.op->name, nodes, n.attrs);
  if (!kernel) return Tensor();
  std::shared_ptr<const cpu::PackedWeight> packed = n.prepacked->get(*in[1].node(), *kernel);

  OutputMeta meta = n.op->infer(in, n.attrs);
  auto out = std::make_shared<Node>();
  out->dtype = meta.dtype;
  out->shape = std::move(meta.shape);
  out->strides = contiguous_strides(out->shape);
  out->device = kCPU;
  if (arena && offset >= 0) {
    out->storage = arena;
    out->offset = offset / int64_t(itemsize(out->dtype));
  } else {
    out->storage = allocate_storage(std::size_t(out->numel()) * itemsize(out->dtype), kCPU);
  }
  kernel->run(*packed, nodes, *out);

  // What apply() notes after running a kernel (src/ir/dispatch.cpp).
  if (ConcreteReads* reads = concrete_reads())
    for (const Tensor& t : in)
      reads->emplace_back(t.node()->storage, t.node()->storage->version.load());
  bool needs_grad = false;
  for (const Tensor& t : in) needs_grad |= t.requires_grad();
  if (needs_grad && n.op->vjp && grad_mode_enabled()) {
    out->op = n.op;
    out->requires_grad = true;
    out->inputs.assign(in.begin(), in.end());
    for (const Tensor& t : in) out->input_versions.push_back(t.node()->storage->version.load());
  }
  out->attrs = n.attrs;
  return Tensor(std::move(out));
}

}  // namespace nabla::compile_detail
