// Reductions over any set of axes into a contiguous output. A reducer R provides
//   Acc init(); Acc step(Acc, C value, int64_t index); Acc merge(Acc, Acc); Out finish(Acc, n)
// where C is the input's compute type and index the row-major position among the reduced
// elements. A reducer may instead provide Acc init(int64_t out_index) to start each output
// from per-output state (a precomputed mean or maximum), and Out finish(Acc, n, out_index).
// Optional fast forms: Acc span(start, q, b, e) reduces a unit-stride range; rows4(acc, r0..r3,
// cb, ce) folds four rows into acc[0 .. ce - cb) from columns [cb, ce).
// Paths: innermost reduced dim contiguous (row reduction, independent lane accumulators so
// the loop vectorises), innermost kept dim contiguous (column reduction: rows streamed into
// a block of accumulators), and a general strided walk. All split their work over threads.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend/cpu/loops.h"
#include "backend/cpu/unary_functors.h"

namespace nabla::cpu {

struct DimList {
  int n = 0;
  int64_t size[16];
  int64_t stride[16];
  int64_t numel() const {
    int64_t p = 1;
    for (int i = 0; i < n; ++i) p *= size[i];
    return p;
  }
  void add(int64_t sz, int64_t st) {
    if (sz == 1) return;
    if (n > 0 && stride[n - 1] == st * sz) {  // merge with the previous dim
      size[n - 1] *= sz;
      stride[n - 1] = st;
      return;
    }
    size[n] = sz;
    stride[n] = st;
    ++n;
  }
  // Offset of the flat index i (row-major over this list).
  int64_t offset(int64_t i) const {
    int64_t off = 0;
    for (int d = n - 1; d >= 0; --d) {
      off += (i % size[d]) * stride[d];
      i /= size[d];
    }
    return off;
  }
  DimList without_last() const {
    DimList d = *this;
    if (d.n > 0) --d.n;
    return d;
  }
};

// exp in the reductions (softmax, logsumexp): the unary family's vectorisable float exp.
[[gnu::always_inline]] inline float fast_exp(float x) { return exp_float(x); }
inline double fast_exp(double x) { return std::exp(x); }

namespace detail {
template <class R>
auto init_at(const R& r, int64_t i) {
  if constexpr (requires { r.init(i); })
    return r.init(i);
  else
    return r.init();
}
template <class R, class Acc>
auto finish_at(const R& r, Acc a, int64_t n, int64_t i) {
  if constexpr (requires { r.finish(a, n, i); })
    return r.finish(a, n, i);
  else
    return r.finish(a, n);
}
}  // namespace detail

template <class In, class Out, class R>
void reduce(Node& out, const Node& in, const std::vector<bool>& reduced, R r) {
  using C = compute_t<In>;
  using Acc = decltype(detail::init_at(r, 0));
  constexpr int kLanes = int(std::clamp<std::size_t>(64 / sizeof(Acc), 8, 16));
  DimList kept, red;
  for (std::size_t d = 0; d < in.shape.size(); ++d)
    (reduced[d] ? red : kept).add(in.shape[d], in.strides[d]);
  const In* p = in.ptr<In>();
  Out* o = out.ptr<Out>();
  const int64_t nout = kept.numel(), nred = red.numel();
  if (nout == 0) return;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();

  // Reduces q[b..e) (unit stride) into `start`; `idx` is the flat reduced index of q[0].
  auto reduce_contiguous = [&](Acc start, const In* q, int64_t b, int64_t e, int64_t idx) {
    if constexpr (requires { r.span(start, q, b, e); }) return r.span(start, q, b, e);
    Acc lanes[kLanes];
    for (Acc& a : lanes) a = start;
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes)
      for (int l = 0; l < kLanes; ++l) lanes[l] = r.step(lanes[l], C(q[i + l]), idx + i + l);
    for (; i < e; ++i) lanes[0] = r.step(lanes[0], C(q[i]), idx + i);
    Acc acc = lanes[0];
    for (int l = 1; l < kLanes; ++l) acc = r.merge(acc, lanes[l]);
    return acc;
  };

  if (red.n == 0 || red.stride[red.n - 1] == 1) {  // innermost reduced dim is contiguous
    const int64_t inner = red.n == 0 ? 1 : red.size[red.n - 1];
    const DimList outer = red.without_last();
    // Reduces flat reduced indices [jb, je) of the output whose first element is `base`.
    auto reduce_range = [&](Acc start, const In* base, int64_t jb, int64_t je) {
      Acc acc = start;
      bool first = true;
      while (jb < je) {
        int64_t seg = jb / inner, k = jb % inner, end = std::min(inner, k + (je - jb));
        Acc part = reduce_contiguous(start, base + outer.offset(seg), k, end, seg * inner);
        acc = first ? part : r.merge(acc, part);
        first = false;
        jb += end - k;
      }
      return acc;
    };
    if (nout < threads && nred >= 2 * kGrain) {  // few long reductions: split each over threads
      for (int64_t i = 0; i < nout; ++i) {
        const In* base = p + kept.offset(i);
        Acc start = detail::init_at(r, i);
        int64_t chunks = std::min<int64_t>(threads, nred / kGrain);
        std::vector<Acc> part(std::size_t(chunks), start);
        parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
          for (int64_t c = cb; c < ce; ++c)
            part[std::size_t(c)] =
                reduce_range(start, base, nred * c / chunks, nred * (c + 1) / chunks);
        });
        Acc acc = part[0];
        for (int64_t c = 1; c < chunks; ++c) acc = r.merge(acc, part[std::size_t(c)]);
        o[i] = detail::finish_at(r, acc, nred, i);
      }
      return;
    }
    parallel_for(
        nout, std::max<int64_t>(1, kGrain / std::max<int64_t>(nred, 1)), [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i)
            o[i] = detail::finish_at(
                r, reduce_range(detail::init_at(r, i), p + kept.offset(i), 0, nred), nred, i);
        });
    return;
  }

  if (kept.n >= 1 && kept.stride[kept.n - 1] == 1) {  // innermost kept dim is contiguous
    const int64_t inner = kept.size[kept.n - 1], nouter = nout / inner;
    const DimList outer = kept.without_last();
    // Column blocks: enough tasks to feed every thread, wide enough to stream rows.
    int64_t splits = std::max<int64_t>(1, (threads + nouter - 1) / nouter);
    if (nout * nred < 2 * kGrain) splits = 1;
    int64_t block = std::max<int64_t>(16, ((inner + splits - 1) / splits + 15) / 16 * 16);
    block = std::min<int64_t>(block, 4096);
    const int64_t nblocks = (inner + block - 1) / block, tasks = nouter * nblocks;
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, block * nred));
    parallel_for(tasks, grain, [&](int64_t tb, int64_t te) {
      std::unique_ptr<Acc[]> acc(new Acc[std::size_t(block)]);  // not vector<bool>
      for (int64_t t = tb; t < te; ++t) {
        int64_t ob = t / nblocks, cb = (t % nblocks) * block, ce = std::min(inner, cb + block);
        const In* base = p + outer.offset(ob);
        Out* dst = o + ob * inner;
        Acc* a = acc.get();
        for (int64_t c = cb; c < ce; ++c) a[c - cb] = detail::init_at(r, ob * inner + c);
        int64_t j = 0;
        for (; j + 4 <= nred; j += 4) {  // four rows per pass: a quarter of the accumulator traffic
          const In *r0 = base + red.offset(j), *r1 = base + red.offset(j + 1),
                   *r2 = base + red.offset(j + 2), *r3 = base + red.offset(j + 3);
          if constexpr (requires { r.rows4(a, r0, r1, r2, r3, cb, ce); }) {
            r.rows4(a, r0, r1, r2, r3, cb, ce);  // the reducer's own vector code
            continue;
          }
          for (int64_t c = cb; c < ce; ++c) {
            Acc v = r.step(a[c - cb], C(r0[c]), j);
            v = r.step(v, C(r1[c]), j + 1);
            v = r.step(v, C(r2[c]), j + 2);
            a[c - cb] = r.step(v, C(r3[c]), j + 3);
          }
        }
        for (; j < nred; ++j) {
          const In* row = base + red.offset(j);
          for (int64_t c = cb; c < ce; ++c) a[c - cb] = r.step(a[c - cb], C(row[c]), j);
        }
        for (int64_t c = cb; c < ce; ++c)
          dst[c] = detail::finish_at(r, a[c - cb], nred, ob * inner + c);
      }
    });
    return;
  }

  parallel_for(nout, std::max<int64_t>(1, kGrain / std::max<int64_t>(nred, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const In* base = p + kept.offset(i);
                   Acc acc = detail::init_at(r, i);
                   for (int64_t j = 0; j < nred; ++j) acc = r.step(acc, C(base[red.offset(j)]), j);
                   o[i] = detail::finish_at(r, acc, nred, i);
                 }
               });
}

}  // namespace nabla::cpu
