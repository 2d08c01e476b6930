// A fused group as one loop over memory: the group's ops become a small register-machine
// program (FusedProgram) that runs over chunks of kChunk elements. Each instruction is a tight
// loop the compiler vectorises over the chunk, so the interpreter dispatches once per chunk and
// instruction, never per element; the chunk's registers stay in L1 and only the group's inputs
// and its result touch memory. The per-op functors are the kernels' own formulas (the
// exp/tanh/log polynomials of backend/cpu/unary_functors.h), each instruction computes one op in
// the op's dtype as its kernel does, so results are bit-identical to op-by-op execution (the
// OpTableJit tests check it).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/parallel.h"
#include "backend/cpu/unary_functors.h"
#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

constexpr int64_t kChunk = 512;  // elements per register: a dozen float32 registers fit in L1

enum Code : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMax,
  kMin,  // binary
  kNeg,
  kAbs,
  kSquare,
  kRecip,
  kSqrt,
  kRsqrt,
  kExp,
  kLog,
  kLog1p,
  kTanh,
  kSigmoid,
  kRelu,
};

bool code_of(const std::string& op, uint8_t& code) {
  static const std::pair<const char*, Code> table[] = {
      {"add", kAdd},         {"sub", kSub},          {"mul", kMul},     {"div", kDiv},
      {"maximum", kMax},     {"minimum", kMin},      {"neg", kNeg},     {"abs", kAbs},
      {"square", kSquare},   {"reciprocal", kRecip}, {"sqrt", kSqrt},   {"rsqrt", kRsqrt},
      {"exp", kExp},         {"log", kLog},          {"log1p", kLog1p}, {"tanh", kTanh},
      {"sigmoid", kSigmoid}, {"relu", kRelu}};
  for (auto [name, c] : table)
    if (op == name) {
      code = c;
      return true;
    }
  return false;
}

// dst[i] = f(a[i], b[i]) over one chunk. restrict: registers never alias (see the allocator).
template <class T, class F>
[[gnu::always_inline]] inline void binary(T* __restrict d, const T* __restrict a,
                                          const T* __restrict b, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) d[i] = f(a[i], b[i]);
}
template <class T, class F>
[[gnu::always_inline]] inline void unary(T* __restrict d, const T* __restrict a, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) d[i] = f(a[i]);
}

// The formulas of the binary, unary and activation kernels (src/backend/cpu/*.cpp).
template <class T>
void run_instr(uint8_t code, T* d, const T* a, const T* b, int64_t n) {
  switch (code) {
    case kAdd:
      return binary(d, a, b, n, [](T x, T y) { return T(x + y); });
    case kSub:
      return binary(d, a, b, n, [](T x, T y) { return T(x - y); });
    case kMul:
      return binary(d, a, b, n, [](T x, T y) { return T(x * y); });
    case kDiv:
      return binary(d, a, b, n, [](T x, T y) { return T(x / y); });
    case kMax:
      return binary(d, a, b, n, [](T x, T y) { return (x > y || x != x) ? x : y; });
    case kMin:
      return binary(d, a, b, n, [](T x, T y) { return (x < y || x != x) ? x : y; });
    case kNeg:
      return unary(d, a, n, [](T x) { return T(-x); });
    case kAbs:
      return unary(d, a, n, [](T x) { return std::fabs(x); });
    case kSquare:
      return unary(d, a, n, [](T x) { return T(x * x); });
    case kRecip:
      return unary(d, a, n, [](T x) { return T(1) / x; });
    case kSqrt:
      return unary(d, a, n, [](T x) { return std::sqrt(x); });
    case kRsqrt:
      return unary(d, a, n, [](T x) { return T(1) / std::sqrt(x); });
    case kExp:
      return unary(d, a, n, cpu::ExpF{});
    case kLog:
      return unary(d, a, n, cpu::LogF{});
    case kLog1p:
      return unary(d, a, n, cpu::Log1pF{});
    case kTanh:
      return unary(d, a, n, cpu::TanhF{});
    case kSigmoid:
      return unary(d, a, n, cpu::SigmoidF{});
    case kRelu:
      return unary(d, a, n, [](T x) { return x > T(0) ? x : (x != x ? x : T(0)); });
  }
}

// Where one source register's chunk comes from in this call.
struct Source {
  enum Kind { contiguous, single, gather } kind = contiguous;
  const char* base = nullptr;  // first element of the value
  int ndim = 0;
  int64_t shape[16];
  int64_t strides[16];  // elements, 0 on broadcast dims, at the root's shape
};

template <class T>
void gather(const Source& s, int64_t begin, int64_t n, T* dst) {
  const T* base = reinterpret_cast<const T*>(s.base);
  int64_t idx[16];
  int64_t rem = begin;
  for (int d = s.ndim - 1; d >= 0; --d) {
    idx[d] = rem % s.shape[d];
    rem /= s.shape[d];
  }
  const int last = s.ndim - 1;
  int64_t done = 0;
  while (done < n) {
    int64_t off = 0;
    for (int d = 0; d < s.ndim; ++d) off += idx[d] * s.strides[d];
    int64_t run = std::min(n - done, s.shape[last] - idx[last]);
    const int64_t st = s.strides[last];
    const T* p = base + off;
    if (st == 0)
      std::fill(dst + done, dst + done + run, *p);
    else
      for (int64_t j = 0; j < run; ++j) dst[done + j] = p[j * st];
    done += run;
    idx[last] += run;
    for (int d = last; d > 0 && idx[d] == s.shape[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

template <class T>
void run_chunks(const FusedProgram& prog, const std::vector<Source>& src, T* out, int64_t total) {
  const int64_t chunks = (total + kChunk - 1) / kChunk;
  const int n_src = int(src.size());
  cpu::parallel_for(
      chunks, std::max<int64_t>(1, cpu::kGrain / kChunk), [&](int64_t c0, int64_t c1) {
        // Scratch registers, then one buffer per non-contiguous source.
        std::vector<T> buf(std::size_t(prog.num_regs) * kChunk);
        std::vector<const T*> reg(std::size_t(prog.num_regs) + 1);
        for (int r = n_src; r < prog.num_regs; ++r)
          reg[std::size_t(r)] = &buf[std::size_t(r) * kChunk];
        for (int s = 0; s < n_src; ++s)
          if (src[std::size_t(s)].kind == Source::single)
            std::fill_n(&buf[std::size_t(s) * kChunk], kChunk,
                        *reinterpret_cast<const T*>(src[std::size_t(s)].base));
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t begin = c * kChunk, n = std::min(kChunk, total - begin);
          for (int s = 0; s < n_src; ++s) {
            const Source& so = src[std::size_t(s)];
            T* own = &buf[std::size_t(s) * kChunk];
            if (so.kind == Source::contiguous)
              reg[std::size_t(s)] = reinterpret_cast<const T*>(so.base) + begin;
            else if (so.kind == Source::single)
              reg[std::size_t(s)] = own;
            else {
              gather(so, begin, n, own);
              reg[std::size_t(s)] = own;
            }
          }
          reg[std::size_t(prog.num_regs)] = out + begin;
          for (const FusedProgram::Instr& in : prog.code)
            run_instr<T>(in.code, const_cast<T*>(reg[in.dst]), reg[in.a], reg[in.b], n);
        }
      });
}

}  // namespace

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
  // Scratch registers by liveness: a member's register is free after its (single) reader;
  // a destination is taken before its operands are freed so that registers never alias.
  std::vector<int> free_regs;
  int next = n_src;
  std::vector<int> pending_free;
  for (std::size_t k = 0; k < grp.members.size(); ++k) {
    const GraphNode& n = g.nodes[std::size_t(grp.members[k])];
    FusedProgram::Instr ins{};
    if (n.dtype != root.dtype || !code_of(n.op->name, ins.code)) return nullptr;
    const bool is_binary = ins.code <= kMin;
    if (int(n.inputs.size()) != (is_binary ? 2 : 1)) return nullptr;
    ins.a = uint8_t(reg_of[std::size_t(n.inputs[0])]);
    ins.b = uint8_t(is_binary ? reg_of[std::size_t(n.inputs[1])] : ins.a);
    int dst;
    if (k + 1 == grp.members.size()) {
      dst = -1;  // the output, set below
    } else if (!free_regs.empty()) {
      dst = free_regs.back();
      free_regs.pop_back();
    } else {
      dst = next++;
    }
    if (next > 250) return nullptr;
    for (int in : n.inputs)
      if (plan.group_of[std::size_t(in)] == group) free_regs.push_back(reg_of[std::size_t(in)]);
    reg_of[std::size_t(grp.members[k])] = dst;
    ins.dst = uint8_t(std::max(dst, 0));
    prog->code.push_back(ins);
  }
  prog->num_regs = next;
  prog->code.back().dst = uint8_t(next);  // the output's slot follows the registers
  return prog;
}

bool run_program(const Plan& plan, int group, std::vector<Tensor>& value) {
  const FusedGroup& grp = plan.groups[std::size_t(group)];
  if (!grp.program) return false;
  const FusedProgram& prog = *grp.program;
  const GraphNode& root = plan.graph.nodes[std::size_t(grp.members.back())];
  const Shape& shape = root.shape;
  std::vector<Source> src(prog.sources.size());
  for (std::size_t s = 0; s < src.size(); ++s) {
    const Tensor& t = value[std::size_t(prog.sources[s])];
    if (!t.is_concrete() || t.device().type != DeviceType::cpu || t.dtype() != prog.dtype ||
        (t.requires_grad() && grad_mode_enabled()) || t.ndim() > int64_t(shape.size()))
      return false;
    const Node& n = *t.node();
    Source& so = src[s];
    so.base = n.data();
    if (t.numel() == 1) {
      so.kind = Source::single;
      continue;
    }
    if (t.shape() == shape && t.is_contiguous()) continue;
    so.kind = Source::gather;
    so.ndim = int(shape.size());
    const std::size_t off = shape.size() - n.shape.size();
    for (std::size_t d = 0; d < shape.size(); ++d) {
      so.shape[d] = shape[d];
      if (d >= off && n.shape[d - off] != 1 && n.shape[d - off] != shape[d]) return false;
      so.strides[d] = (d < off || n.shape[d - off] == 1) ? 0 : n.strides[d - off];
    }
  }
  Tensor out = make_empty(shape, root.dtype);
  const int64_t total = numel_of(shape);
  if (prog.dtype == float32)
    run_chunks<float>(prog, src, out.node()->ptr<float>(), total);
  else
    run_chunks<double>(prog, src, out.node()->ptr<double>(), total);
  value[std::size_t(grp.members.back())] = out;
  return true;
}

}  // namespace nabla::compile_detail
