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

// A copy of a source whose innermost stride is neither 0 nor 1 (a transposed gradient, say),
// made once per call in 32x32 tiles so that both its reads and its writes stay in cache; read
// element by element in the loop's order, every read would miss.
template <class T>
void copy_tiled(const Node& n, T* dst) {
  const int nd = int(n.shape.size());
  const int64_t rows = nd >= 2 ? n.shape[std::size_t(nd - 2)] : 1, cols = n.shape.back();
  const int64_t rs = nd >= 2 ? n.strides[std::size_t(nd - 2)] : 0, cs = n.strides.back();
  const int64_t batches = numel_of(n.shape) / std::max<int64_t>(1, rows * cols);
  const T* src = n.ptr<T>();
  constexpr int64_t kTile = 32;
  for (int64_t b = 0; b < batches; ++b) {
    int64_t off = 0, rem = b;
    for (int d = nd - 3; d >= 0; --d) {
      off += (rem % n.shape[std::size_t(d)]) * n.strides[std::size_t(d)];
      rem /= n.shape[std::size_t(d)];
    }
    const T* s = src + off;
    T* o = dst + b * rows * cols;
    for (int64_t r0 = 0; r0 < rows; r0 += kTile)
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
        for (int64_t c = c0; c < c1; ++c)
          for (int64_t r = r0; r < r1; ++r) o[r * cols + c] = s[r * rs + c * cs];
      }
  }
}

template <class T>
void run_chunks(const FusedProgram& prog, const std::vector<Source>& src,
                const std::vector<T*>& outs, int64_t total) {
  const int64_t chunks = (total + kChunk - 1) / kChunk;
  const int n_src = int(src.size());
  cpu::parallel_for(
      chunks, std::max<int64_t>(1, cpu::kGrain / kChunk), [&](int64_t c0, int64_t c1) {
        // Scratch registers, then one buffer per non-contiguous source.
        std::vector<T> buf(std::size_t(prog.num_regs) * kChunk);
        std::vector<const T*> reg(std::size_t(prog.num_regs) + outs.size());
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
          for (std::size_t j = 0; j < outs.size(); ++j)
            reg[std::size_t(prog.num_regs) + j] = outs[j] + begin;
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
  // Output slots get provisional ids from 255 down (the root 255), renumbered at the end.
  const int n_out = 1 + int(grp.escaping.size());
  auto out_slot = [&](int member) -> int {
    if (member == grp.members.back()) return 255;
    auto it = std::find(grp.escaping.begin(), grp.escaping.end(), member);
    return it == grp.escaping.end() ? -1 : 255 - 1 - int(it - grp.escaping.begin());
  };
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
    int dst = out_slot(grp.members[k]);
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
      if (plan.group_of[std::size_t(in)] == group && out_slot(in) < 0)
        free_regs.push_back(reg_of[std::size_t(in)]);
    reg_of[std::size_t(grp.members[k])] = dst;
    ins.dst = uint8_t(dst);
    prog->code.push_back(ins);
  }
  prog->num_regs = next;
  // Output slots follow the registers: 255 - j becomes num_regs + j.
  const int first_out = 255 - n_out + 1;
  auto renumber = [&](uint8_t& r) {
    if (r >= first_out) r = uint8_t(next + (255 - r));
  };
  for (FusedProgram::Instr& in : prog->code) {
    renumber(in.dst);
    renumber(in.a);
    renumber(in.b);
  }
  return prog;
}

bool run_program(const Plan& plan, int group, std::vector<Tensor>& value) {
  const FusedGroup& grp = plan.groups[std::size_t(group)];
  if (!grp.program) return false;
  const FusedProgram& prog = *grp.program;
  const GraphNode& root = plan.graph.nodes[std::size_t(grp.members.back())];
  const Shape& shape = root.shape;
  std::vector<Source> src(prog.sources.size());
  std::vector<Tensor> copies;  // tiled copies of sources with a strided inner dim
  copies.reserve(src.size());
  for (std::size_t s = 0; s < src.size(); ++s) {
    const Tensor* tp = &value[std::size_t(prog.sources[s])];
    if (tp->is_concrete() && tp->dtype() == prog.dtype && tp->numel() > 1 &&
        tp->device().type == DeviceType::cpu && tp->node()->strides.back() > 1 &&
        !(tp->requires_grad() && grad_mode_enabled())) {
      Tensor c = make_empty(tp->shape(), tp->dtype());
      if (prog.dtype == float32)
        copy_tiled<float>(*tp->node(), c.node()->ptr<float>());
      else
        copy_tiled<double>(*tp->node(), c.node()->ptr<double>());
      copies.push_back(c);
      tp = &copies.back();
    }
    const Tensor& t = *tp;
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
  std::vector<int> out_nodes{grp.members.back()};
  out_nodes.insert(out_nodes.end(), grp.escaping.begin(), grp.escaping.end());
  std::vector<Tensor> outs;
  for (std::size_t j = 0; j < out_nodes.size(); ++j) outs.push_back(make_empty(shape, root.dtype));
  const int64_t total = numel_of(shape);
  auto run = [&]<class T>() {
    std::vector<T*> ptrs;
    for (const Tensor& o : outs) ptrs.push_back(o.node()->ptr<T>());
    run_chunks<T>(prog, src, ptrs, total);
  };
  if (prog.dtype == float32)
    run.template operator()<float>();
  else
    run.template operator()<double>();
  for (std::size_t j = 0; j < out_nodes.size(); ++j) value[std::size_t(out_nodes[j])] = outs[j];
  return true;
}

}  // namespace nabla::compile_detail
