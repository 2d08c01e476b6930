// CPU kernels of softmax, log_softmax and logsumexp. softmax fuses its three passes (max,
// sum of exp, scale) per line: unit-stride lines vectorise along the line, lines across
// contiguous columns (softmax over channels of NCHW) vectorise across the columns.
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/reduce_loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

// Dims with input and (contiguous) output strides, merged only where both allow.
struct PairDims {
  int n = 0;
  int64_t size[16], in[16], out[16];
  void add(int64_t sz, int64_t si, int64_t so) {
    if (sz == 1) return;
    if (n > 0 && in[n - 1] == si * sz && out[n - 1] == so * sz) {
      size[n - 1] *= sz;
      in[n - 1] = si;
      out[n - 1] = so;
      return;
    }
    size[n] = sz, in[n] = si, out[n] = so;
    ++n;
  }
  int64_t numel() const {
    int64_t p = 1;
    for (int i = 0; i < n; ++i) p *= size[i];
    return p;
  }
  void offsets(int64_t i, int64_t& oi, int64_t& oo) const {
    oi = oo = 0;
    for (int d = n - 1; d >= 0; --d) {
      int64_t k = i % size[d];
      oi += k * in[d], oo += k * out[d];
      i /= size[d];
    }
  }
};

constexpr int kL = 16;

// The a > v ? a : v form maps to vmaxps (NaN rows give NaN through the exp sum anyway).
template <class T, class C = compute_t<T>>
C line_max(const T* q, int64_t n) {
  C lanes[kL];
  for (C& l : lanes) l = -std::numeric_limits<C>::infinity();
  int64_t i = 0;
  for (; i + kL <= n; i += kL)
    for (int l = 0; l < kL; ++l) lanes[l] = lanes[l] > C(q[i + l]) ? lanes[l] : C(q[i + l]);
  for (; i < n; ++i) lanes[0] = lanes[0] > C(q[i]) ? lanes[0] : C(q[i]);
  C m = lanes[0];
  for (int l = 1; l < kL; ++l) m = m > lanes[l] ? m : lanes[l];
  return m;
}

template <class C>
C line_sum(const C* w, int64_t n) {
  C lanes[kL] = {};
  int64_t i = 0;
  for (; i + kL <= n; i += kL)
    for (int l = 0; l < kL; ++l) lanes[l] += w[i + l];
  for (; i < n; ++i) lanes[0] += w[i];
  C s = 0;
  for (int l = 0; l < kL; ++l) s += lanes[l];
  return s;
}

// w[i] = exp(q[i] - m) as a plain map loop (which vectorises where a fused sum does not).
template <class T, class C>
void line_exp(const T* q, int64_t n, C m, C* w) {
  for (int64_t i = 0; i < n; ++i) w[i] = fast_exp(C(C(q[i]) - m));
}

// Sum of exp(q - m), also stored into w when Write (w then has the compute type).
template <bool Write, class T, class C = compute_t<T>>
C line_exp_sum(const T* q, int64_t n, C m, T* w) {
  if constexpr (Write) {
    line_exp(q, n, m, w);
    return line_sum(w, n);
  } else {
    constexpr int64_t kChunk = 1024;
    C buf[kChunk];
    C s = 0;
    for (int64_t b = 0; b < n; b += kChunk) {
      int64_t len = std::min(kChunk, n - b);
      line_exp(q + b, len, m, buf);
      s += line_sum(buf, len);
    }
    return s;
  }
}

template <class T, bool Log>
void softmax_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  constexpr bool kDirect = std::is_same_v<T, C>;  // float/double: exp values staged in out
  const Node& in = *a.inputs[0];
  const int64_t nd = int64_t(in.shape.size());
  if (in.numel() == 0) return;
  std::vector<bool> red_mask(std::size_t(nd), false);
  for (int64_t ax : a.attrs.get<Shape>("axes")) red_mask[std::size_t(ax)] = true;
  Strides os = contiguous_strides(in.shape);
  PairDims kept, red;
  for (int64_t d = 0; d < nd; ++d)
    (red_mask[std::size_t(d)] ? red : kept)
        .add(in.shape[std::size_t(d)], in.strides[std::size_t(d)], os[std::size_t(d)]);
  const T* p = in.ptr<T>();
  T* o = a.out.ptr<T>();
  const int64_t nout = kept.numel(), nred = red.numel();
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();

  if (red.n <= 1 && (red.n == 0 || (red.in[0] == 1 && red.out[0] == 1))) {  // unit-stride lines
    parallel_for(nout, std::max<int64_t>(1, kGrain / nred), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t oi, oo;
        kept.offsets(i, oi, oo);
        const T* q = p + oi;
        T* w = o + oo;
        C m = line_max(q, nred);
        if (std::isinf(m)) m = m > 0 ? m : C(0);  // all -inf: exp(-inf) = 0 below
        if constexpr (Log) {
          // (x - m) - log(s), not x - (m + log s): the latter rounds at the scale of m.
          C ls = std::log(line_exp_sum<false>(q, nred, m, w));
          for (int64_t k = 0; k < nred; ++k) w[k] = T((C(q[k]) - m) - ls);
        } else if constexpr (kDirect) {
          C inv = C(1) / line_exp_sum<true>(q, nred, m, w);
          for (int64_t k = 0; k < nred; ++k) w[k] = w[k] * inv;
        } else {
          C inv = C(1) / line_exp_sum<false>(q, nred, m, w);
          for (int64_t k = 0; k < nred; ++k) w[k] = T(fast_exp(C(C(q[k]) - m)) * inv);
        }
      }
    });
    return;
  }

  if (red.n == 1 && kept.n >= 1 && kept.in[kept.n - 1] == 1 && kept.out[kept.n - 1] == 1) {
    // Lines across contiguous columns: blocks of columns, each pass vectorised over them.
    const int64_t inner = kept.size[kept.n - 1], nouter = nout / inner;
    PairDims outer = kept;
    --outer.n;
    const int64_t si = red.in[0], so = red.out[0];
    int64_t splits = std::max<int64_t>(1, (threads + nouter - 1) / nouter);
    int64_t block = std::min<int64_t>(
        1024, std::max<int64_t>(16, ((inner + splits - 1) / splits + 15) / 16 * 16));
    const int64_t nblocks = (inner + block - 1) / block;
    parallel_for(nouter * nblocks, std::max<int64_t>(1, kGrain / (block * nred)),
                 [&](int64_t tb, int64_t te) {
                   std::vector<C> mx(static_cast<std::size_t>(block)),
                       sm(static_cast<std::size_t>(block));
                   for (int64_t t = tb; t < te; ++t) {
                     int64_t ob = t / nblocks, cb = (t % nblocks) * block,
                             w = std::min(inner, cb + block) - cb;
                     int64_t oi, oo;
                     outer.offsets(ob, oi, oo);
                     const T* q = p + oi + cb;
                     T* dst = o + oo + cb;
                     std::fill(mx.begin(), mx.begin() + w, -std::numeric_limits<C>::infinity());
                     std::fill(sm.begin(), sm.begin() + w, C(0));
                     for (int64_t k = 0; k < nred; ++k)
                       for (int64_t c = 0; c < w; ++c)
                         mx[c] = C(q[k * si + c]) > mx[c] ? C(q[k * si + c]) : mx[c];
                     for (int64_t c = 0; c < w; ++c)
                       if (std::isinf(mx[c])) mx[c] = mx[c] > 0 ? mx[c] : C(0);
                     for (int64_t k = 0; k < nred; ++k)
                       for (int64_t c = 0; c < w; ++c) {
                         C e = fast_exp(C(C(q[k * si + c]) - mx[c]));
                         if constexpr (kDirect && !Log) dst[k * so + c] = e;
                         sm[c] += e;
                       }
                     if constexpr (Log) {
                       for (int64_t c = 0; c < w; ++c) sm[c] = std::log(sm[c]);
                       for (int64_t k = 0; k < nred; ++k)
                         for (int64_t c = 0; c < w; ++c)
                           dst[k * so + c] = T((C(q[k * si + c]) - mx[c]) - sm[c]);
                     } else {
                       for (int64_t c = 0; c < w; ++c) sm[c] = C(1) / sm[c];
                       for (int64_t k = 0; k < nred; ++k)
                         for (int64_t c = 0; c < w; ++c) {
                           if constexpr (kDirect)
                             dst[k * so + c] = dst[k * so + c] * sm[c];
                           else
                             dst[k * so + c] = T(fast_exp(C(C(q[k * si + c]) - mx[c])) * sm[c]);
                         }
                     }
                   }
                 });
    return;
  }

  parallel_for(nout, std::max<int64_t>(1, kGrain / nred), [&](int64_t b, int64_t e) {  // general
    for (int64_t i = b; i < e; ++i) {
      int64_t bi, bo, ri, ro;
      kept.offsets(i, bi, bo);
      C m = -std::numeric_limits<C>::infinity(), s = 0;
      for (int64_t j = 0; j < nred; ++j) {
        red.offsets(j, ri, ro);
        C v = C(p[bi + ri]);
        m = v > m ? v : m;
      }
      if (std::isinf(m)) m = m > 0 ? m : C(0);
      for (int64_t j = 0; j < nred; ++j) {
        red.offsets(j, ri, ro);
        s += fast_exp(C(C(p[bi + ri]) - m));
      }
      C ls = std::log(s), inv = C(1) / s;
      for (int64_t j = 0; j < nred; ++j) {
        red.offsets(j, ri, ro);
        C v = C(p[bi + ri]);
        o[bo + ro] = Log ? T((v - m) - ls) : T(fast_exp(C(v - m)) * inv);
      }
    }
  });
}

// logsumexp: the maxima first, then sums of exp shifted by them.
template <class C>
struct MaxR {
  C init() const { return -std::numeric_limits<C>::infinity(); }
  C step(C a, C v, int64_t) const { return (v > a || v != v) ? v : a; }
  C merge(C a, C b) const { return (b > a || b != b) ? b : a; }
  C finish(C a, int64_t) const { return a; }
};

template <class T>
void logsumexp_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& in = *a.inputs[0];
  std::vector<bool> mask(in.shape.size(), false);
  for (int64_t ax : a.attrs.get<Shape>("axes")) mask[std::size_t(ax)] = true;
  DimList kept, red;
  for (std::size_t d = 0; d < mask.size(); ++d)
    (mask[d] ? red : kept).add(in.shape[d], in.strides[d]);
  if (red.n == 1 && red.stride[0] == 1 &&
      in.numel() > 0) {  // unit-stride lines: the softmax passes
    const int64_t n = red.size[0];
    const T* p = in.ptr<T>();
    T* o = a.out.ptr<T>();
    parallel_for(kept.numel(), std::max<int64_t>(1, kGrain / n), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* q = p + kept.offset(i);
        C m = line_max(q, n);
        if (m != m) {
          o[i] = T(m);
          continue;
        }
        C shift = std::isinf(m) ? C(0) : m;
        o[i] = T(std::log(line_exp_sum<false>(q, n, shift, static_cast<T*>(nullptr))) + shift);
      }
    });
    return;
  }
  Tensor maxima = make_empty(a.out.shape, dtype_of_v<C>);
  reduce<T, C>(*maxima.node(), in, mask, MaxR<C>{});
  struct State {
    C shift, s;
  };
  struct R {
    const C* m;
    State init(int64_t i) const { return {std::isinf(m[i]) ? C(0) : m[i], C(0)}; }
    State step(State a, C v, int64_t) const { return {a.shift, a.s + fast_exp(C(v - a.shift))}; }
    State merge(State a, State b) const { return {a.shift, a.s + b.s}; }
    T finish(State a, int64_t) const { return T(std::log(a.s) + a.shift); }
  };
  reduce<T, T>(a.out, in, mask, R{maxima.node()->ptr<C>()});
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    register_kernel("softmax", DeviceType::cpu, dtype_of_v<T>, softmax_kernel<T, false>);
    register_kernel("log_softmax", DeviceType::cpu, dtype_of_v<T>, softmax_kernel<T, true>);
    register_kernel("logsumexp", DeviceType::cpu, dtype_of_v<T>, logsumexp_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
