// Reductions over any set of axes into a contiguous output. A reducer R provides
//   Acc init(); Acc step(Acc, C value, int64_t index); Acc merge(Acc, Acc); Out finish(Acc, n)
// where C is the input's compute type and index the position along the reduced elements.
// Paths: reduced elements contiguous (row reduction, 8 independent accumulators so the
// loop vectorises), kept elements contiguous (column reduction), and a general strided walk.
#pragma once
#include <vector>

#include "backend/cpu/loops.h"

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
};

template <class In, class Out, class R>
void reduce(Node& out, const Node& in, const std::vector<bool>& reduced, R r) {
  using C = compute_t<In>;
  using Acc = decltype(r.init());
  DimList kept, red;
  for (std::size_t d = 0; d < in.shape.size(); ++d)
    (reduced[d] ? red : kept).add(in.shape[d], in.strides[d]);
  const In* p = in.ptr<In>();
  Out* o = out.ptr<Out>();
  const int64_t nout = kept.numel(), nred = red.numel();
  if (nout == 0) return;

  auto reduce_contiguous = [&](const In* q, int64_t b, int64_t e) {  // over q[b..e)
    Acc lanes[8];
    for (Acc& a : lanes) a = r.init();
    int64_t i = b;
    for (; i + 8 <= e; i += 8)
      for (int l = 0; l < 8; ++l) lanes[l] = r.step(lanes[l], C(q[i + l]), i + l);
    for (; i < e; ++i) lanes[0] = r.step(lanes[0], C(q[i]), i);
    Acc acc = lanes[0];
    for (int l = 1; l < 8; ++l) acc = r.merge(acc, lanes[l]);
    return acc;
  };

  if (red.n <= 1 && (red.n == 0 || red.stride[0] == 1)) {
    if (nout == 1) {  // full reduction: partial results per thread, merged in order
      int threads = omp_get_max_threads();
      std::vector<Acc> part(std::size_t(threads), r.init());
      int64_t chunks = std::min<int64_t>(threads, std::max<int64_t>(1, nred / kGrain));
      parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
        for (int64_t c = cb; c < ce; ++c)
          part[std::size_t(c)] = reduce_contiguous(p, nred * c / chunks, nred * (c + 1) / chunks);
      });
      Acc acc = part[0];
      for (int64_t c = 1; c < chunks; ++c) acc = r.merge(acc, part[std::size_t(c)]);
      o[0] = r.finish(acc, nred);
      return;
    }
    parallel_for(nout, std::max<int64_t>(1, kGrain / std::max<int64_t>(nred, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t i = b; i < e; ++i)
                     o[i] = r.finish(reduce_contiguous(p + kept.offset(i), 0, nred), nred);
                 });
    return;
  }

  if (kept.n == 1 && kept.stride[0] == 1) {  // column reduction: stream rows into accumulators
    parallel_for(nout, kGrain / 8, [&](int64_t b, int64_t e) {
      std::vector<Acc> acc(std::size_t(e - b), r.init());
      for (int64_t j = 0; j < nred; ++j) {
        const In* row = p + red.offset(j);
        for (int64_t i = b; i < e; ++i) acc[std::size_t(i - b)] = r.step(acc[std::size_t(i - b)], C(row[i]), j);
      }
      for (int64_t i = b; i < e; ++i) o[i] = r.finish(acc[std::size_t(i - b)], nred);
    });
    return;
  }

  parallel_for(nout, std::max<int64_t>(1, kGrain / std::max<int64_t>(nred, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const In* base = p + kept.offset(i);
                   Acc acc = r.init();
                   for (int64_t j = 0; j < nred; ++j) acc = r.step(acc, C(base[red.offset(j)]), j);
                   o[i] = r.finish(acc, nred);
                 }
               });
}

}  // namespace nabla::cpu
