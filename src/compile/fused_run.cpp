// Running a fused program: chunk by chunk over the group's result, each chunk's sources read in
// place where their layout allows (contiguous, one value, one run), gathered otherwise; the
// chunk's registers stay in L1 and only the group's inputs and its outputs touch memory. A
// reducing group folds each chunk into the reduction's output instead of storing it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "backend/cpu/parallel.h"
#include "compile/fused_instructions.h"
#include "compile/graph.h"
#include "ir/node.h"

namespace nabla::compile_detail {
namespace {

using namespace fused;

// Results at least this large go out with streaming stores: they cannot stay in the last-level
// cache for the next op anyway, and a plain store first reads each line it writes.
constexpr int64_t kStreamBytes = int64_t(32) << 20;

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

// One thread's machinery for running the program over chunks: scratch registers, one buffer per
// non-contiguous source, with streaming stores one buffer per output, and the scalars.
template <class T>
class ChunkRunner {
 public:
  ChunkRunner(const FusedProgram& prog, const std::vector<Source>& src, const std::vector<T*>& outs,
              const std::vector<T>& k, bool stream)
      : prog_(prog),
        src_(src),
        outs_(outs),
        n_src_(int(src.size())),
        n_regs_(prog.num_regs),
        n_out_(int(outs.size())),
        stream_(stream),
        buf_(std::size_t(n_regs_ + (stream ? n_out_ : 0)) * kChunk),
        reg_(std::size_t(n_regs_ + n_out_)),
        kc_(k),
        uniform_(std::size_t(n_src_), 0) {
    for (int r = n_src_; r < n_regs_; ++r) reg_[std::size_t(r)] = own(r);
    for (int s = 0; s < n_src_; ++s)
      if (src[std::size_t(s)].kind == Source::single)
        std::fill_n(own(s), kChunk, k[std::size_t(s)]);
    if (stream)
      for (int j = 0; j < n_out_; ++j) reg_[std::size_t(n_regs_ + j)] = own(n_regs_ + j);
  }
  ChunkRunner(const ChunkRunner&) = delete;
  ChunkRunner& operator=(const ChunkRunner&) = delete;
  ~ChunkRunner() {
#if defined(__AVX__)
    if (stream_) _mm_sfence();  // streaming stores are weakly ordered: publish them
#endif
  }

  // Runs the program over elements [begin, begin + n), n <= kChunk: outputs (those not null)
  // are written, other values stay in their registers (value()).
  void run(int64_t begin, int64_t n) {
    for (int s = 0; s < n_src_; ++s) {
      const Source& so = src_[std::size_t(s)];
      uniform_[std::size_t(s)] = 0;
      if (so.kind == Source::contiguous) {
        reg_[std::size_t(s)] = reinterpret_cast<const T*>(so.base) + begin;
      } else if (so.kind == Source::single) {
        reg_[std::size_t(s)] = own(s);
      } else {
        // A broadcast source is often one value (a row's mean) or one contiguous run (a
        // per-feature scale) across the whole chunk: read it so, without a copy.
        const Span<T> sp = span_of<T>(so, begin, n);
        if (sp.kind == Span<T>::one_value) {
          kc_[std::size_t(s)] = *sp.at;
          uniform_[std::size_t(s)] = 1;
          reg_[std::size_t(s)] = nullptr;  // filled only if read as a register
        } else if (sp.kind == Span<T>::run) {
          reg_[std::size_t(s)] = sp.at;
        } else {
          gather(so, begin, n, own(s));
          reg_[std::size_t(s)] = own(s);
        }
      }
    }
    if (!stream_)
      for (int j = 0; j < n_out_; ++j)
        reg_[std::size_t(n_regs_ + j)] =
            outs_[std::size_t(j)] ? outs_[std::size_t(j)] + begin : nullptr;
    for (FusedProgram::Instr in : prog_.code) {
      if (in.code <= kMin && !in.b_scalar) {  // a uniform operand read as a value
        if (in.b < n_src_ && uniform_[in.b]) {
          in.b_scalar = 1;
        } else if ((in.code == kAdd || in.code == kMul) && in.a < n_src_ && uniform_[in.a]) {
          std::swap(in.a, in.b);
          in.b_scalar = 1;
        }
      }
      fill(in.a, n);
      if (!in.b_scalar) fill(in.b, n);
      run_instr<T>(in, const_cast<T*>(reg_[in.dst]), reg_[in.a], reg_[in.b], kc_.data(), n);
    }
    if (stream_)
      for (int j = 0; j < n_out_; ++j)
        if (outs_[std::size_t(j)])
          stream_out(outs_[std::size_t(j)] + begin, reg_[std::size_t(n_regs_ + j)], n);
  }
  const T* value(int reg) const { return reg_[std::size_t(reg)]; }

 private:
  T* own(int r) { return &buf_[std::size_t(r) * kChunk]; }
  void fill(uint8_t r, int64_t n) {
    if (r < n_src_ && uniform_[r] && !reg_[r]) {
      std::fill_n(own(r), n, kc_[r]);
      reg_[r] = own(r);
    }
  }

  const FusedProgram& prog_;
  const std::vector<Source>& src_;
  const std::vector<T*>& outs_;
  const int n_src_, n_regs_, n_out_;
  const bool stream_;
  std::vector<T> buf_;
  std::vector<const T*> reg_;
  std::vector<T> kc_;  // the scalars, and this chunk's values of uniform sources
  std::vector<uint8_t> uniform_;
};

// One-element sources as values (instructions read them so).
template <class T>
std::vector<T> scalars_of(const std::vector<Source>& src) {
  std::vector<T> k(src.size(), T(0));
  for (std::size_t s = 0; s < src.size(); ++s)
    if (src[s].kind == Source::single) k[s] = *reinterpret_cast<const T*>(src[s].base);
  return k;
}

template <class T>
void run_chunks(const FusedProgram& prog, const std::vector<Source>& src,
                const std::vector<T*>& outs, int64_t total) {
  const int64_t chunks = (total + kChunk - 1) / kChunk;
  const bool stream = total * int64_t(sizeof(T)) >= kStreamBytes;
  const std::vector<T> k = scalars_of<T>(src);
  cpu::parallel_for(chunks, std::max<int64_t>(1, cpu::kGrain / kChunk),
                    [&](int64_t c0, int64_t c1) {
                      ChunkRunner<T> runner(prog, src, outs, k, stream);
                      for (int64_t c = c0; c < c1; ++c)
                        runner.run(c * kChunk, std::min(kChunk, total - c * kChunk));
                    });
}

// The reduction's fold: sum, or max/min where NaN wins (as the reduce kernels).
template <class T>
struct Fold {
  FusedProgram::Reduce kind;
  T identity() const {
    if (kind == FusedProgram::sum) return T(0);
    return kind == FusedProgram::max ? -std::numeric_limits<T>::infinity()
                                     : std::numeric_limits<T>::infinity();
  }
  // acc[i] = acc[i] (+) v[i] for i < n, vectorised.
  void into(T* __restrict acc, const T* __restrict v, int64_t n) const {
    if (kind == FusedProgram::sum)
      for (int64_t i = 0; i < n; ++i) acc[i] += v[i];
    else if (kind == FusedProgram::max)
      for (int64_t i = 0; i < n; ++i) acc[i] = (v[i] > acc[i] || v[i] != v[i]) ? v[i] : acc[i];
    else
      for (int64_t i = 0; i < n; ++i) acc[i] = (v[i] < acc[i] || v[i] != v[i]) ? v[i] : acc[i];
  }
  T merge(T a, T b) const {
    T acc[1] = {a}, v[1] = {b};
    into(acc, v, 1);
    return acc[0];
  }
};

// A reducing group: every chunk of the elementwise result is folded as soon as it is made.
// Work is split the same way whatever the thread count, and partial results are merged in a
// fixed order, so results do not depend on the number of threads.
template <class T>
void run_reduce(const FusedProgram& prog, const std::vector<Source>& src,
                const std::vector<T*>& outs, T* result) {
  constexpr int64_t kSegment = 16 * kChunk;  // elements per task
  constexpr int kLanes = 16;
  const Fold<T> fold{prog.reduce};
  const int64_t outer = prog.outer, red = prog.red, inner = prog.inner;
  const std::vector<T> k = scalars_of<T>(src);
  auto value = [&](ChunkRunner<T>& runner) { return runner.value(prog.reduce_reg); };
  if (inner == 1) {  // rows: lanes of accumulators per segment of a row
    const int64_t segs = (red + kSegment - 1) / kSegment;
    std::vector<T> part(std::size_t(outer * segs));
    cpu::parallel_for(outer * segs, 1, [&](int64_t t0, int64_t t1) {
      ChunkRunner<T> runner(prog, src, outs, k, false);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / segs, b = (t % segs) * kSegment, e = std::min(red, b + kSegment);
        T lanes[kLanes];
        std::fill_n(lanes, kLanes, fold.identity());
        for (int64_t c = b; c < e; c += kChunk) {
          const int64_t n = std::min(kChunk, e - c);
          runner.run(o * red + c, n);
          const T* v = value(runner);
          int64_t i = 0;
          for (; i + kLanes <= n; i += kLanes) fold.into(lanes, v + i, kLanes);
          for (; i < n; ++i) lanes[0] = fold.merge(lanes[0], v[i]);
        }
        T acc = lanes[0];
        for (int l = 1; l < kLanes; ++l) acc = fold.merge(acc, lanes[l]);
        part[std::size_t(t)] = acc;
      }
    });
    for (int64_t o = 0; o < outer; ++o) {
      T acc = part[std::size_t(o * segs)];
      for (int64_t s = 1; s < segs; ++s) acc = fold.merge(acc, part[std::size_t(o * segs + s)]);
      result[o] = acc;
    }
    return;
  }
  if (inner >= kChunk) {  // wide rows: a task owns a block of output columns
    const int64_t blocks = (inner + kChunk - 1) / kChunk;
    cpu::parallel_for(outer * blocks, 1, [&](int64_t t0, int64_t t1) {
      ChunkRunner<T> runner(prog, src, outs, k, false);
      T acc[kChunk];
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / blocks, cb = (t % blocks) * kChunk, w = std::min(kChunk, inner - cb);
        std::fill_n(acc, w, fold.identity());
        for (int64_t r = 0; r < red; ++r) {
          runner.run((o * red + r) * inner + cb, w);
          fold.into(acc, value(runner), w);
        }
        std::copy_n(acc, w, result + o * inner + cb);
      }
    });
    return;
  }
  // Narrow rows: a task folds a slice of rows into its own partial row, merged in order.
  const int64_t rows = std::max<int64_t>(1, kSegment / inner), slices = (red + rows - 1) / rows;
  std::vector<T> part(std::size_t(outer * slices * inner), fold.identity());
  cpu::parallel_for(outer * slices, 1, [&](int64_t t0, int64_t t1) {
    ChunkRunner<T> runner(prog, src, outs, k, false);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / slices, r0 = (t % slices) * rows, r1 = std::min(red, r0 + rows);
      T* acc = &part[std::size_t(t * inner)];
      const int64_t first = (o * red + r0) * inner, last = (o * red + r1) * inner;
      for (int64_t c = first; c < last; c += kChunk) {
        const int64_t n = std::min(kChunk, last - c);
        runner.run(c, n);
        const T* v = value(runner);
        for (int64_t i = 0, col = (c - first) % inner; i < n;) {
          const int64_t len = std::min(n - i, inner - col);
          fold.into(acc + col, v + i, len);
          i += len;
          col = 0;
        }
      }
    }
  });
  for (int64_t o = 0; o < outer; ++o) {
    T* dst = result + o * inner;
    std::copy_n(&part[std::size_t(o * slices * inner)], inner, dst);
    for (int64_t s = 1; s < slices; ++s)
      fold.into(dst, &part[std::size_t((o * slices + s) * inner)], inner);
  }
}

}  // namespace

bool run_program(const Plan& plan, int group, std::vector<Tensor>& value) {
  const FusedGroup& grp = plan.groups[std::size_t(group)];
  if (!grp.program) return false;
  const FusedProgram& prog = *grp.program;
  const GraphNode& root = plan.graph.nodes[std::size_t(grp.members.back())];
  // The loop's shape: the root's, or in a reducing group the shape of what it reduces.
  const Shape& shape =
      plan.graph.nodes[std::size_t(grp.members[grp.members.size() - (grp.reduces ? 2 : 1)])].shape;
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
  for (std::size_t j = 0; j < out_nodes.size(); ++j)
    outs.push_back(make_empty(j == 0 ? root.shape : shape, root.dtype));
  const int64_t total = numel_of(shape);
  auto run = [&]<class T>() {
    std::vector<T*> ptrs;
    for (const Tensor& o : outs) ptrs.push_back(o.node()->ptr<T>());
    if (!grp.reduces) return run_chunks<T>(prog, src, ptrs, total);
    T* result = ptrs[0];
    ptrs[0] = nullptr;  // the reduced values never leave their registers
    run_reduce<T>(prog, src, ptrs, result);
  };
  if (prog.dtype == float32)
    run.template operator()<float>();
  else
    run.template operator()<double>();
  for (std::size_t j = 0; j < out_nodes.size(); ++j) value[std::size_t(out_nodes[j])] = outs[j];
  return true;
}

}  // namespace nabla::compile_detail
