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
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "backend/cpu/parallel.h"
#include "backend/cpu/unary_functors.h"
#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

constexpr int64_t kChunk = 512;  // elements per register: a dozen float32 registers fit in L1
// Results at least this large go out with streaming stores: they cannot stay in the last-level
// cache for the next op anyway, and a plain store first reads each line it writes.
constexpr int64_t kStreamBytes = int64_t(32) << 20;

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

enum Post : uint8_t { kPostNone, kPostMul, kPostAdd, kPostSub };

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

// What an instruction does to its result before the store: nothing, `* k` or `+ k`.
template <class T>
struct NoPost {
  [[gnu::always_inline]] T operator()(T x) const { return x; }
};
template <class T>
struct MulPost {
  T k;
  [[gnu::always_inline]] T operator()(T x) const { return T(x * k); }
};
template <class T>
struct AddPost {
  T k;
  [[gnu::always_inline]] T operator()(T x) const { return T(x + k); }
};
template <class T>
struct SubPost {
  T k;
  [[gnu::always_inline]] T operator()(T x) const { return T(x - k); }
};

// dst[i] = post(f(a[i], b[i])) over one chunk. restrict: registers never alias (see the
// allocator).
template <class T, class F, class P>
[[gnu::always_inline]] inline void binary(T* __restrict d, const T* __restrict a,
                                          const T* __restrict b, int64_t n, F f, P p) {
  for (int64_t i = 0; i < n; ++i) d[i] = p(f(a[i], b[i]));
}
template <class T, class F, class P>
[[gnu::always_inline]] inline void binary_k(T* __restrict d, const T* __restrict a, T b, int64_t n,
                                            F f, P p) {
  for (int64_t i = 0; i < n; ++i) d[i] = p(f(a[i], b));
}
template <class T, class F, class P>
[[gnu::always_inline]] inline void unary(T* __restrict d, const T* __restrict a, int64_t n, F f,
                                         P p) {
  for (int64_t i = 0; i < n; ++i) d[i] = p(f(a[i]));
}

// One instruction, its operand form and its post step picked once per chunk.
template <class T, class F>
void run_binary(const FusedProgram::Instr& in, T* d, const T* a, const T* b, const T* k, int64_t n,
                F f) {
  auto go = [&](auto p) {
    if (in.b_scalar)
      binary_k(d, a, k[in.b], n, f, p);
    else
      binary(d, a, b, n, f, p);
  };
  if (in.post == kPostMul) return go(MulPost<T>{k[in.post_k]});
  if (in.post == kPostAdd) return go(AddPost<T>{k[in.post_k]});
  if (in.post == kPostSub) return go(SubPost<T>{k[in.post_k]});
  go(NoPost<T>{});
}
template <class T, class F>
void run_unary(const FusedProgram::Instr& in, T* d, const T* a, const T* k, int64_t n, F f) {
  if (in.post == kPostMul) return unary(d, a, n, f, MulPost<T>{k[in.post_k]});
  if (in.post == kPostAdd) return unary(d, a, n, f, AddPost<T>{k[in.post_k]});
  if (in.post == kPostSub) return unary(d, a, n, f, SubPost<T>{k[in.post_k]});
  unary(d, a, n, f, NoPost<T>{});
}

// The formulas of the binary, unary and activation kernels (src/backend/cpu/*.cpp).
template <class T>
void run_instr(const FusedProgram::Instr& in, T* d, const T* a, const T* b, const T* k, int64_t n) {
  switch (in.code) {
    case kAdd:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x + y); });
    case kSub:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x - y); });
    case kMul:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x * y); });
    case kDiv:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x / y); });
    case kMax:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return (x > y || x != x) ? x : y; });
    case kMin:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return (x < y || x != x) ? x : y; });
    case kNeg:
      return run_unary(in, d, a, k, n, [](T x) { return T(-x); });
    case kAbs:
      return run_unary(in, d, a, k, n, [](T x) { return std::fabs(x); });
    case kSquare:
      return run_unary(in, d, a, k, n, [](T x) { return T(x * x); });
    case kRecip:
      return run_unary(in, d, a, k, n, [](T x) { return T(1) / x; });
    case kSqrt:
      return run_unary(in, d, a, k, n, [](T x) { return std::sqrt(x); });
    case kRsqrt:
      return run_unary(in, d, a, k, n, [](T x) { return T(1) / std::sqrt(x); });
    case kExp:
      return run_unary(in, d, a, k, n, cpu::ExpF{});
    case kLog:
      return run_unary(in, d, a, k, n, cpu::LogF{});
    case kLog1p:
      return run_unary(in, d, a, k, n, cpu::Log1pF{});
    case kTanh:
      return run_unary(in, d, a, k, n, cpu::TanhF{});
    case kSigmoid:
      return run_unary(in, d, a, k, n, cpu::SigmoidF{});
    case kRelu:
      return run_unary(in, d, a, k, n, [](T x) { return x > T(0) ? x : (x != x ? x : T(0)); });
  }
}

// Whether `post(code(...))` may run as one expression without changing bits: the compiler
// contracts a multiply feeding an add into one fused multiply-add (one rounding instead of
// two), so `+ k` is only folded after ops whose last step is not a multiply.
bool add_may_follow(uint8_t code) {
  switch (code) {
    case kAdd:
    case kSub:
    case kDiv:
    case kMax:
    case kMin:
    case kNeg:
    case kAbs:
    case kRecip:
    case kSqrt:
    case kRsqrt:
    case kTanh:
    case kRelu:
      return true;
    default:
      return false;
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

// How a gathered source reads over one chunk: one value repeated (a row's mean), one contiguous
// run (a per-feature scale), or scattered (gather copies it).
template <class T>
struct Span {
  enum Kind { one_value, run, scattered } kind = scattered;
  const T* at = nullptr;
};
template <class T>
Span<T> span_of(const Source& s, int64_t begin, int64_t n) {
  const int last = s.ndim - 1;
  int64_t off = 0, rem = begin, inner = 0;
  for (int d = last; d >= 0; --d) {
    const int64_t i = rem % s.shape[d];
    if (d == last) inner = i;
    off += i * s.strides[d];
    rem /= s.shape[d];
  }
  if (inner + n > s.shape[last]) return {};  // the chunk crosses rows
  const T* at = reinterpret_cast<const T*>(s.base) + off;
  if (s.strides[last] == 0) return {Span<T>::one_value, at};
  if (s.strides[last] == 1) return {Span<T>::run, at};
  return {};
}

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

// Copies a finished chunk to an output that will not be read again before it leaves the cache,
// with streaming stores: they skip reading the destination's lines first (a third of the
// traffic of a plain store loop) and do not evict the sources.
template <class T>
void stream_out(T* __restrict dst, const T* __restrict src, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  if (reinterpret_cast<uintptr_t>(dst) % 64 == 0)
    for (; i + 64 / int64_t(sizeof(T)) <= n; i += 64 / int64_t(sizeof(T)))
      _mm512_stream_si512(reinterpret_cast<__m512i*>(dst + i),
                          _mm512_loadu_si512(reinterpret_cast<const void*>(src + i)));
#elif defined(__AVX__)
  if (reinterpret_cast<uintptr_t>(dst) % 32 == 0)
    for (; i + 32 / int64_t(sizeof(T)) <= n; i += 32 / int64_t(sizeof(T)))
      _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + i),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

template <class T>
void run_chunks(const FusedProgram& prog, const std::vector<Source>& src,
                const std::vector<T*>& outs, int64_t total) {
  const int64_t chunks = (total + kChunk - 1) / kChunk;
  const int n_src = int(src.size());
  const int n_regs = prog.num_regs, n_out = int(outs.size());
  const bool stream = total * int64_t(sizeof(T)) >= kStreamBytes;
  // One-element sources as values (instructions read them so), also kept filled in a register
  // for the operand positions that read registers.
  std::vector<T> k(std::size_t(n_src), T(0));
  for (int s = 0; s < n_src; ++s)
    if (src[std::size_t(s)].kind == Source::single)
      k[std::size_t(s)] = *reinterpret_cast<const T*>(src[std::size_t(s)].base);
  cpu::parallel_for(
      chunks, std::max<int64_t>(1, cpu::kGrain / kChunk), [&](int64_t c0, int64_t c1) {
        // Scratch registers, one buffer per non-contiguous source, and with streaming stores
        // one buffer per output.
        std::vector<T> buf(std::size_t(n_regs + (stream ? n_out : 0)) * kChunk);
        std::vector<const T*> reg(std::size_t(n_regs + n_out));
        for (int r = n_src; r < n_regs; ++r) reg[std::size_t(r)] = &buf[std::size_t(r) * kChunk];
        std::vector<T> kc = k;  // the scalars, and this chunk's values of uniform sources
        std::vector<uint8_t> uniform(std::size_t(n_src), 0);
        for (int s = 0; s < n_src; ++s)
          if (src[std::size_t(s)].kind == Source::single)
            std::fill_n(&buf[std::size_t(s) * kChunk], kChunk, k[std::size_t(s)]);
        if (stream)
          for (int j = 0; j < n_out; ++j)
            reg[std::size_t(n_regs + j)] = &buf[std::size_t(n_regs + j) * kChunk];
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t begin = c * kChunk, n = std::min(kChunk, total - begin);
          for (int s = 0; s < n_src; ++s) {
            const Source& so = src[std::size_t(s)];
            T* own = &buf[std::size_t(s) * kChunk];
            uniform[std::size_t(s)] = 0;
            if (so.kind == Source::contiguous) {
              reg[std::size_t(s)] = reinterpret_cast<const T*>(so.base) + begin;
            } else if (so.kind == Source::single) {
              reg[std::size_t(s)] = own;
            } else {
              // A broadcast source is often one value (a row's mean) or one contiguous run (a
              // per-feature scale) across the whole chunk: read it so, without a copy.
              const Span<T> sp = span_of<T>(so, begin, n);
              if (sp.kind == Span<T>::one_value) {
                kc[std::size_t(s)] = *sp.at;
                uniform[std::size_t(s)] = 1;
                reg[std::size_t(s)] = nullptr;  // filled only if read as a register
              } else if (sp.kind == Span<T>::run) {
                reg[std::size_t(s)] = sp.at;
              } else {
                gather(so, begin, n, own);
                reg[std::size_t(s)] = own;
              }
            }
          }
          if (!stream)
            for (int j = 0; j < n_out; ++j)
              reg[std::size_t(n_regs + j)] = outs[std::size_t(j)] + begin;
          for (FusedProgram::Instr in : prog.code) {
            if (in.code <= kMin && !in.b_scalar) {  // a uniform operand read as a value
              if (in.b < n_src && uniform[in.b]) {
                in.b_scalar = 1;
              } else if ((in.code == kAdd || in.code == kMul) && in.a < n_src && uniform[in.a]) {
                std::swap(in.a, in.b);
                in.b_scalar = 1;
              }
            }
            auto fill = [&](uint8_t r) {
              if (r < n_src && uniform[r] && !reg[r]) {
                T* own = &buf[std::size_t(r) * kChunk];
                std::fill_n(own, n, kc[r]);
                reg[r] = own;
              }
            };
            fill(in.a);
            if (!in.b_scalar) fill(in.b);
            run_instr<T>(in, const_cast<T*>(reg[in.dst]), reg[in.a], reg[in.b], kc.data(), n);
          }
          if (stream)
            for (int j = 0; j < n_out; ++j)
              stream_out(outs[std::size_t(j)] + begin, reg[std::size_t(n_regs + j)], n);
        }
#if defined(__AVX__)
        if (stream) _mm_sfence();  // streaming stores are weakly ordered: publish them
#endif
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
  auto in_group = [&](int node) { return plan.group_of[std::size_t(node)] == group; };
  // A one-element source (a literal, a scalar weight) is read as a value, not a register.
  auto scalar = [&](int node) {
    return !in_group(node) && numel_of(g.nodes[std::size_t(node)].shape) == 1;
  };
  // Each member's code, then `x * c`, `x + c`, `x - c` with a one-element c folded into the
  // instruction computing x (x read by nothing else, not an output): one pass less per chunk.
  std::vector<uint8_t> code(g.nodes.size(), 0);
  for (int m : grp.members) {
    const GraphNode& n = g.nodes[std::size_t(m)];
    if (n.dtype != root.dtype || !code_of(n.op->name, code[std::size_t(m)])) return nullptr;
    if (int(n.inputs.size()) != (code[std::size_t(m)] <= kMin ? 2 : 1)) return nullptr;
  }
  std::vector<int> folded_into(g.nodes.size(), -1), folds(g.nodes.size(), -1);
  for (int m : grp.members) {
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
  for (int m : grp.members) {
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
    // Merge neighbouring dims that step as one (both broadcast, or contiguous across them):
    // longer rows are read as one value or one run more often.
    int nd = 0;
    for (int d = 0; d < so.ndim; ++d) {
      if (nd > 0 && so.strides[nd - 1] == so.strides[d] * so.shape[d]) {
        so.shape[nd - 1] *= so.shape[d];
        so.strides[nd - 1] = so.strides[d];
        continue;
      }
      so.shape[nd] = so.shape[d];
      so.strides[nd] = so.strides[d];
      ++nd;
    }
    so.ndim = nd;
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
