// Running a fused group of elementwise ops: the result is computed in blocks of kBlock elements;
// for each block every member's kernel runs on block-sized views, its intermediate results in
// per-thread scratch buffers that stay in cache. The kernels are the ordinary ones, so values are
// bit-identical to op-by-op execution. Inputs the block views cannot express (broadcasts other
// than a single element, strided layouts, other devices) or autograd recording send the group
// down the op-by-op path instead.
#include <algorithm>
#include <exception>

#include "backend/cpu/parallel.h"
#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

constexpr int64_t kBlock = 4096;  // elements: a few blocks of float32 fit in L1/L2

void run_op_by_op(const Plan& plan, const FusedGroup& grp, std::vector<Tensor>& value) {
  std::vector<Tensor> args;
  for (int m : grp.members) {
    const GraphNode& n = plan.graph.nodes[std::size_t(m)];
    args.clear();
    for (int in : n.inputs) args.push_back(value[std::size_t(in)]);
    value[std::size_t(m)] = run_node(n, args, n.attrs);
  }
  for (std::size_t k = 0; k + 1 < grp.members.size(); ++k)
    if (std::find(grp.escaping.begin(), grp.escaping.end(), grp.members[k]) == grp.escaping.end())
      value[std::size_t(grp.members[k])] = Tensor();
}

// One input of one member: an earlier member's block, or a view of an outside value.
struct Operand {
  int member = -1;  // index into the group's members, or -1
  const Node* value = nullptr;
  bool single = false;  // one element, broadcast to every position
};

}  // namespace

void run_group(const Plan& plan, int group, std::vector<Tensor>& value) {
  if (run_program(plan, group, value)) return;
  if (!plan.groups[std::size_t(group)].escaping.empty() ||  // blocks write the root alone
      plan.groups[std::size_t(group)].reduces)              // and know no reductions
    return run_op_by_op(plan, plan.groups[std::size_t(group)], value);
  const Graph& g = plan.graph;
  const FusedGroup& grp = plan.groups[std::size_t(group)];
  const GraphNode& root = g.nodes[std::size_t(grp.members.back())];
  const std::size_t k_members = grp.members.size();
  const int64_t total = numel_of(root.shape);

  std::vector<std::vector<Operand>> operands(k_members);
  std::vector<KernelFn> kernels(k_members);
  for (std::size_t k = 0; k < k_members; ++k) {
    const GraphNode& n = g.nodes[std::size_t(grp.members[k])];
    for (int in : n.inputs) {
      Operand op;
      if (plan.group_of[std::size_t(in)] == group) {
        op.member =
            int(std::find(grp.members.begin(), grp.members.end(), in) - grp.members.begin());
      } else {
        const Tensor& t = value[std::size_t(in)];
        if (!t.is_concrete() || t.device().type != DeviceType::cpu ||
            (t.requires_grad() && grad_mode_enabled()))
          return run_op_by_op(plan, grp, value);
        op.single = t.numel() == 1;
        if (!op.single && (t.shape() != root.shape || !t.is_contiguous()))
          return run_op_by_op(plan, grp, value);
        op.value = t.node();
      }
      operands[k].push_back(op);
    }
    int d = n.op->dispatch_input;
    DType key = d < 0 ? n.dtype : g.nodes[std::size_t(n.inputs[std::size_t(d)])].dtype;
    kernels[k] = n.op->kernel(kCPU, key);
    if (!kernels[k]) return run_op_by_op(plan, grp, value);
  }

  Tensor out = make_empty(root.shape, root.dtype);
  const int64_t blocks = (total + kBlock - 1) / kBlock;
  auto run_blocks = [&](int64_t first, int64_t last) {
    // Per thread: one output node per member (scratch for all but the root) and input views.
    std::vector<Node> outs(k_members);
    std::vector<std::vector<Node>> views(k_members);
    for (std::size_t k = 0; k < k_members; ++k) {
      const GraphNode& n = g.nodes[std::size_t(grp.members[k])];
      outs[k].dtype = n.dtype;
      outs[k].storage = k + 1 == k_members
                            ? out.node()->storage
                            : allocate_storage(std::size_t(kBlock) * itemsize(n.dtype), kCPU);
      views[k].resize(operands[k].size());
      for (std::size_t j = 0; j < operands[k].size(); ++j) {
        const Operand& op = operands[k][j];
        if (!op.value) continue;
        Node& v = views[k][j];
        v.storage = op.value->storage;
        v.dtype = op.value->dtype;
        v.offset = op.value->offset;
      }
    }
    std::vector<const Node*> args;
    for (int64_t blk = first; blk < last; ++blk) {
      int64_t begin = blk * kBlock, len = std::min(kBlock, total - begin);
      for (std::size_t k = 0; k < k_members; ++k) {
        Node& o = outs[k];
        o.shape = {len};
        o.strides = {1};
        o.offset = k + 1 == k_members ? begin : 0;
        args.clear();
        for (std::size_t j = 0; j < operands[k].size(); ++j) {
          const Operand& op = operands[k][j];
          if (op.member >= 0) {
            args.push_back(&outs[std::size_t(op.member)]);
            continue;
          }
          Node& v = views[k][j];
          if (op.single) {
            v.shape = {};
            v.strides = {};
          } else {
            v.shape = {len};
            v.strides = {1};
            v.offset = op.value->offset + begin;
          }
          args.push_back(&v);
        }
        const GraphNode& n = g.nodes[std::size_t(grp.members[k])];
        kernels[k](KernelArgs{std::span<const Node* const>(args.data(), args.size()), o, n.attrs});
      }
    }
  };
  std::exception_ptr error;  // an exception must not leave an OpenMP region
  cpu::parallel_for(blocks, 1, [&](int64_t first, int64_t last) {
    try {
      run_blocks(first, last);
    } catch (...) {
#pragma omp critical
      error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
  value[std::size_t(grp.members.back())] = out;
}

}  // namespace nabla::compile_detail
