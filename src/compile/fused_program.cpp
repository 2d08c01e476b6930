// A fused group as a small register-machine program (FusedProgram): the group's outside inputs
// are its sources, each member one instruction (fused_instructions.h) over chunk-sized
// registers that are reused once read; a following `* c`, `+ c` or `- c` with a one-element c
// is folded into the instruction before it where that keeps the bits, and a trailing
// reduction's layout is recorded for the loops of fused_run.cpp. Results are bit-identical to
// op-by-op execution (the OpTableJit and fusion tests check it), reductions aside.
#include <algorithm>

#include "compile/fused_instructions.h"
#include "compile/graph.h"

namespace nabla::compile_detail {

using namespace fused;

std::shared_ptr<const FusedProgram> compile_program(const Plan& plan, int group) {
  const Graph& g = plan.graph;
  const FusedGroup& grp = plan.groups[std::size_t(group)];
  auto prog = std::make_shared<FusedProgram>();
  const GraphNode& root = g.nodes[std::size_t(grp.members.back())];
  prog->dtype = root.dtype;
  if (root.dtype != float32 && root.dtype != float64) return nullptr;
  // Register of each node the group reads or computes; -1: none yet.
  std::vector<int> reg_of(g.nodes.size(), -1);
  for (int m : grp.members)
    for (int in : g.nodes[std::size_t(m)].inputs)
      if (plan.group_of[std::size_t(in)] != group && reg_of[std::size_t(in)] < 0) {
        if (g.nodes[std::size_t(in)].dtype != root.dtype) return nullptr;
        reg_of[std::size_t(in)] = int(prog->sources.size());
        prog->sources.push_back(in);
      }
  const int n_src = int(prog->sources.size());
  // Output slots get provisional ids from 255 down (the root 255), renumbered at the end.
  const int n_out = 1 + int(grp.escaping.size());
  auto out_slot = [&](int member) -> int {
    if (member == grp.members.back()) return 255;
    auto it = std::find(grp.escaping.begin(), grp.escaping.end(), member);
    return it == grp.escaping.end() ? -1 : 255 - 1 - int(it - grp.escaping.begin());
  };
  auto in_group = [&](int node) { return plan.group_of[std::size_t(node)] == group; };
  // A one-element source (a literal, a scalar weight) is read as a value, not a register.
  auto scalar = [&](int node) {
    return !in_group(node) && numel_of(g.nodes[std::size_t(node)].shape) == 1;
  };
  // A reducing group: its elementwise members compute the reduced value into a register.
  std::vector<int> members = grp.members;
  if (grp.reduces) {
    const GraphNode& r = g.nodes[std::size_t(grp.members.back())];
    const std::string& op = r.op->name;
    prog->reduce = op == "sum"   ? FusedProgram::sum
                   : op == "max" ? FusedProgram::max
                                 : FusedProgram::min;
    members.pop_back();
    if (!reduce_layout(g.nodes[std::size_t(members.back())].shape, r.attrs.get<Shape>("axes"),
                       prog->outer, prog->red, prog->inner))
      return nullptr;
  }
  // Each member's code, then `x * c`, `x + c`, `x - c` with a one-element c folded into the
  // instruction computing x (x read by nothing else, not an output): one pass less per chunk.
  std::vector<uint8_t> code(g.nodes.size(), 0);
  for (int m : members) {
    const GraphNode& n = g.nodes[std::size_t(m)];
    if (n.dtype != root.dtype || !code_of(n.op->name, code[std::size_t(m)])) return nullptr;
    if (int(n.inputs.size()) != (code[std::size_t(m)] <= kMin ? 2 : 1)) return nullptr;
  }
  std::vector<int> folded_into(g.nodes.size(), -1), folds(g.nodes.size(), -1);
  for (int m : members) {
    const GraphNode& n = g.nodes[std::size_t(m)];
    const uint8_t c = code[std::size_t(m)];
    if (c != kMul && c != kAdd && c != kSub) continue;
    int x = n.inputs[0], k = n.inputs[1];
    if (c != kSub && scalar(x) && in_group(k)) std::swap(x, k);
    if (!in_group(x) || !scalar(k) || out_slot(x) >= 0 || folds[std::size_t(x)] >= 0 ||
        folded_into[std::size_t(x)] >= 0)
      continue;
    if (c != kMul && !add_may_follow(code[std::size_t(x)])) continue;
    folded_into[std::size_t(m)] = x;
    folds[std::size_t(x)] = m;
  }
  // Scratch registers by liveness: a member's register is free after its (single) reader;
  // a destination is taken before its operands are freed so that registers never alias.
  std::vector<int> free_regs;
  int next = n_src;
  for (int m : members) {
    if (folds[std::size_t(m)] >= 0) continue;  // computed by the instruction of its reader
    const int x = folded_into[std::size_t(m)] >= 0 ? folded_into[std::size_t(m)] : m;
    const GraphNode& n = g.nodes[std::size_t(x)];
    FusedProgram::Instr ins{};
    ins.code = code[std::size_t(x)];
    const bool is_binary = ins.code <= kMin;
    int a = n.inputs[0], b = is_binary ? n.inputs[1] : a;
    if ((ins.code == kAdd || ins.code == kMul) && scalar(a) && !scalar(b)) std::swap(a, b);
    ins.a = uint8_t(reg_of[std::size_t(a)]);
    ins.b = uint8_t(reg_of[std::size_t(b)]);
    ins.b_scalar = is_binary && scalar(b);
    if (x != m) {
      const uint8_t c = code[std::size_t(m)];
      ins.post = c == kMul ? kPostMul : c == kAdd ? kPostAdd : kPostSub;
      const GraphNode& p = g.nodes[std::size_t(m)];
      ins.post_k = uint8_t(reg_of[std::size_t(p.inputs[0] == x ? p.inputs[1] : p.inputs[0])]);
    }
    int dst = out_slot(m);
    if (dst >= 0) {
      // an output
    } else if (!free_regs.empty()) {
      dst = free_regs.back();
      free_regs.pop_back();
    } else {
      dst = next++;
    }
    if (next + n_out > 255) return nullptr;
    for (int in : n.inputs)
      if (in_group(in) && out_slot(in) < 0) free_regs.push_back(reg_of[std::size_t(in)]);
    reg_of[std::size_t(m)] = dst;
    ins.dst = uint8_t(dst);
    prog->code.push_back(ins);
  }
  prog->num_regs = next;
  if (grp.reduces) prog->reduce_reg = reg_of[std::size_t(members.back())];
  // Output slots follow the registers: 255 - j becomes num_regs + j.
  const int first_out = 255 - n_out + 1;
  auto renumber = [&](uint8_t& r) {
    if (r >= first_out) r = uint8_t(next + (255 - r));
  };
  for (FusedProgram::Instr& in : prog->code) {
    renumber(in.dst);
    renumber(in.a);
    if (!in.b_scalar) renumber(in.b);
  }
  return prog;
}

bool has_instruction(const std::string& op) {
  uint8_t code;
  return code_of(op, code);
}

bool reduce_layout(const Shape& shape, const Shape& axes, int64_t& outer, int64_t& red,
                   int64_t& inner) {
  outer = red = inner = 1;
  int phase = 0;  // 0: kept dims before the reduced block, 1: in it, 2: after it
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) return false;
    if (shape[d] == 1) continue;
    const bool reduced =
        axes.empty() || std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    if (reduced && phase == 2) return false;  // a second reduced block
    if (reduced) phase = 1;
    if (!reduced && phase == 1) phase = 2;
    (phase == 0 ? outer : phase == 1 ? red : inner) *= shape[d];
  }
  return true;
}

}  // namespace nabla::compile_detail
