// CPU kernels of the pools and their gradients, over 2 or 3 spatial dims (a 2-d input is a
// 3-d one of depth 1). float32 average pooling and its gradient run on oneDNN; the rest are
// direct loops over (N, C) planes, one plane per task, with each output's window precomputed
// per dim. The max gradient recomputes each window's first maximum from x: deterministic,
// and no workspace has to live between forward and backward.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <vector>

#include "backend/cpu/conv_common.h"
#include "backend/cpu/dnnl_engine.h"
#include "backend/cpu/dtype_switch.h"

namespace nabla::cpu {
namespace {

// One spatial dim: for output o, the input range [lo[o], hi[o]) its window covers (clamped to
// the input).
struct Axis {
  int64_t in = 1, out = 1, k = 1, s = 1, p = 0;
  std::vector<int64_t> lo{0}, hi{1};
  std::vector<double> inv{1};  // 1 / the average's divisor along this dim, per output
};

struct PoolGeom {
  int64_t planes = 0;
  std::array<Axis, 3> d;  // depth, height, width
  int64_t kernel_volume = 1;
  bool include_pad = true;
  bool fixed = true;  // kernel/stride windows (not adaptive)
  int64_t in_plane() const { return d[0].in * d[1].in * d[2].in; }
  int64_t out_plane() const { return d[0].out * d[1].out * d[2].out; }
};

// x is the image side (input of the forward), y the pooled side.
PoolGeom geometry(const Shape& x, const Shape& y, const Attrs& a) {
  PoolGeom g;
  g.planes = x[0] * x[1];
  std::size_t n = x.size() - 2, first = 3 - n;
  g.fixed = !a.has("output_size");
  g.include_pad = g.fixed && a.get_or<bool>("count_include_pad", true);
  for (std::size_t i = 0; i < n; ++i) {
    Axis& ax = g.d[first + i];
    ax.inv.resize(std::size_t(y[2 + i]));
    ax.in = x[2 + i];
    ax.out = y[2 + i];
    ax.lo.resize(std::size_t(ax.out));
    ax.hi.resize(std::size_t(ax.out));
    if (g.fixed) {
      ax.k = a.get<Shape>("kernel")[i];
      ax.s = a.get<Shape>("stride")[i];
      ax.p = a.get<Shape>("padding")[i];
      g.kernel_volume *= ax.k;
    }
    for (int64_t o = 0; o < ax.out; ++o) {
      if (g.fixed) {
        int64_t lo = o * ax.s - ax.p;
        ax.lo[o] = std::max<int64_t>(lo, 0);
        ax.hi[o] = std::min(lo + ax.k, ax.in);
      } else {  // PyTorch's adaptive windows
        ax.lo[o] = o * ax.in / ax.out;
        ax.hi[o] = ((o + 1) * ax.in + ax.out - 1) / ax.out;
      }
      ax.inv[o] = 1.0 / double(g.include_pad ? ax.k : ax.hi[o] - ax.lo[o]);
    }
  }
  return g;
}

struct Box {
  int64_t d0, d1, h0, h1, w0, w1;
};

// Calls f(output index, window box, divisor) for each output of a plane, in order.
template <class F>
inline void windows(const PoolGeom& g, F&& f) {
  const Axis &D = g.d[0], &H = g.d[1], &W = g.d[2];
  int64_t o = 0;
  for (int64_t od = 0; od < D.out; ++od)
    for (int64_t oh = 0; oh < H.out; ++oh)
      for (int64_t ow = 0; ow < W.out; ++ow) {
        Box b{D.lo[od], D.hi[od], H.lo[oh], H.hi[oh], W.lo[ow], W.hi[ow]};
        int64_t div =
            g.include_pad ? g.kernel_volume : (b.d1 - b.d0) * (b.h1 - b.h0) * (b.w1 - b.w0);
        f(o++, b, div);
      }
}

// Calls f(flat index in the plane) for each input of the box.
template <class F>
inline void each_in(const PoolGeom& g, const Box& b, F&& f) {
  int64_t H = g.d[1].in, W = g.d[2].in;
  for (int64_t id = b.d0; id < b.d1; ++id)
    for (int64_t ih = b.h0; ih < b.h1; ++ih) {
      int64_t row = (id * H + ih) * W;
      for (int64_t iw = b.w0; iw < b.w1; ++iw) f(row + iw);
    }
}

template <class F>
void for_planes(const PoolGeom& g, F&& f) {
  int64_t work = std::max(g.out_plane() * g.kernel_volume, g.in_plane());
  parallel_for(g.planes, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, work)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) f(p);
               });
}

// Index in the plane of the window's first element equal to its maximum m (the first NaN
// when m is NaN): the window's first maximum. Finding m first (separably) and then scanning
// beats tracking the index through the comparisons, a serial chain per tap.
template <class C>
inline int64_t first_at(const PoolGeom& g, const C* xp, const Box& b, C m) {
  const int64_t H = g.d[1].in, W = g.d[2].in;
  bool nan = m != m;
  for (int64_t id = b.d0; id < b.d1; ++id)
    for (int64_t ih = b.h0; ih < b.h1; ++ih) {
      const int64_t row = (id * H + ih) * W;
      for (int64_t iw = b.w0; iw < b.w1; ++iw) {
        C v = xp[row + iw];
        if (nan ? v != v : v == m) return row + iw;
      }
    }
  return (b.d0 * H + b.h0) * W + b.w0;  // not reached: m is in the window
}

// max that propagates NaN (a NaN in b wins; one in a stays).
template <class C>
inline C nan_max(C a, C b) {
  bool take = (b > a) | (b != b);  // branch-free: random data mispredicts
  return take ? b : a;
}

// The CNN's usual 2x2 window, stride 2, no padding, on a 2-d input: branch-free rows.
inline bool is_2x2(const PoolGeom& g) {
  const Axis &D = g.d[0], &H = g.d[1], &W = g.d[2];
  return g.fixed && D.in == 1 && D.k == 1 && H.k == 2 && W.k == 2 && H.s == 2 && W.s == 2 &&
         H.p == 0 && W.p == 0;
}

// Box windows are separable: a max (or sum) over a box is a max (sum) along W, then H, then
// D. One pass per dim costs k per output instead of the box's volume, and the passes along H
// and D run over contiguous rows the compiler vectorises. Averages divide in each pass, by the
// kernel size (count_include_pad) or by the window's clipped size.

// Maxima of n whole windows (no padding inside) starting at src, one output each, written
// tap by tap so the compiler vectorises across outputs; stride 1 and 2 get contiguous loads.
template <class C, int S>
void max_row_strided(const C* src, C* r, int64_t n, int64_t k, int64_t s) {
  const int64_t stride = S ? S : s;
  for (int64_t o = 0; o < n; ++o) r[o] = src[o * stride];
  for (int64_t j = 1; j < k; ++j)
    for (int64_t o = 0; o < n; ++o) r[o] = nan_max(r[o], src[o * stride + j]);
}

template <class C>
void max_row(const Axis& ax, const C* src, C* r, int64_t n) {
  if (ax.s == 1) return max_row_strided<C, 1>(src, r, n, ax.k, 1);
  if (ax.s == 2) return max_row_strided<C, 2>(src, r, n, ax.k, 2);
  max_row_strided<C, 0>(src, r, n, ax.k, ax.s);
}

// Pools the middle axis of in [A][ax.in][B] into out [A][ax.out][B].
template <bool Max, class C>
void pool_axis(const Axis& ax, int64_t A, int64_t B, const C* in, C* out) {
  // Outputs [o_first, o_last) have whole, unclipped windows o * s - p + [0, k).
  int64_t o_first = ax.out, o_last;
  for (int64_t o = 0; o < ax.out && o_first == ax.out; ++o)
    if (ax.lo[o] == o * ax.s - ax.p && ax.hi[o] - ax.lo[o] == ax.k) o_first = o;
  o_last = o_first;
  while (o_last < ax.out && ax.hi[o_last] - ax.lo[o_last] == ax.k &&
         ax.lo[o_last] == o_last * ax.s - ax.p)
    ++o_last;
  for (int64_t a = 0; a < A; ++a) {
    const C* ia = in + a * ax.in * B;
    C* oa = out + a * ax.out * B;
    for (int64_t o = 0; o < ax.out; ++o) {
      const int64_t n = ax.hi[o] - ax.lo[o];
      const C* src = ia + ax.lo[o] * B;
      C* r = oa + o * B;
      C inv = C(ax.inv[o]);
      if (B == 1 && Max && o >= o_first && o < o_last) {  // the run of whole windows, at once
        max_row<C>(ax, src, r, o_last - o);
        o = o_last - 1;
        continue;
      }
      if (B == 1) {
        if constexpr (Max) {  // a NaN flag beside maxss, where a select would branch
          C m = src[0];
          bool nan = m != m;
          for (int64_t i = 1; i < n; ++i) {
            m = src[i] > m ? src[i] : m;
            nan |= src[i] != src[i];
          }
          r[0] = nan ? std::numeric_limits<C>::quiet_NaN() : m;
        } else {
          C m = src[0];
          for (int64_t i = 1; i < n; ++i) m += src[i];
          r[0] = m * inv;
        }
        continue;
      }
      std::copy(src, src + B, r);
      for (int64_t i = 1; i < n; ++i) {
        const C* t = src + i * B;
        if constexpr (Max)
          for (int64_t b = 0; b < B; ++b) r[b] = nan_max(r[b], t[b]);
        else
          for (int64_t b = 0; b < B; ++b) r[b] += t[b];
      }
      if constexpr (!Max)
        for (int64_t b = 0; b < B; ++b) r[b] *= inv;
    }
  }
}

// The adjoint of the average pass: in [A][ax.out][B] spread into out [A][ax.in][B].
template <class C>
void spread_axis(const Axis& ax, int64_t A, int64_t B, const C* in, C* out) {
  std::fill(out, out + A * ax.in * B, C(0));
  for (int64_t a = 0; a < A; ++a) {
    const C* ia = in + a * ax.out * B;
    C* oa = out + a * ax.in * B;
    for (int64_t o = 0; o < ax.out; ++o) {
      C inv = C(ax.inv[o]);
      const C* v = ia + o * B;
      for (int64_t l = ax.lo[o]; l < ax.hi[o]; ++l) {
        C* r = oa + l * B;
        for (int64_t b = 0; b < B; ++b) r[b] += v[b] * inv;
      }
    }
  }
}

// A dim whose pass would copy its input (absent, or a unit input and output with divisor 1).
inline bool trivial(const PoolGeom& g, const Axis& ax) {
  return ax.in == 1 && ax.out == 1 && (!g.include_pad || ax.k == 1);
}

// x's plane [D][H][W] pooled into y's [DO][HO][WO], through scratch planes.
template <bool Max, class C>
void separable_plane(const PoolGeom& g, const C* src, C* yp) {
  const Axis &D = g.d[0], &H = g.d[1], &W = g.d[2];
  thread_local std::vector<C> scratch[2];
  bool h = !trivial(g, H), d = !trivial(g, D);
  // W pass: [D*H][W] -> [D*H][WO]
  C* dst = h || d ? (scratch[0].resize(std::size_t(D.in * H.in * W.out)), scratch[0].data()) : yp;
  pool_axis<Max>(W, D.in * H.in, 1, src, dst);
  src = dst;
  if (h) {  // [D][H][WO] -> [D][HO][WO]
    dst = d ? (scratch[1].resize(std::size_t(D.in * H.out * W.out)), scratch[1].data()) : yp;
    pool_axis<Max>(H, D.in, W.out, src, dst);
    src = dst;
  }
  if (d) pool_axis<Max>(D, 1, H.out * W.out, src, yp);
}

template <bool Max, class C>
void separable_forward(const PoolGeom& g, const C* x, C* y) {
  for_planes(
      g, [&](int64_t p) { separable_plane<Max>(g, x + p * g.in_plane(), y + p * g.out_plane()); });
}

// Calls f(output index, index of its window's first maximum) for each output of plane xp.
template <class C, class F>
void each_first_max(const PoolGeom& g, const C* xp, F&& f) {
  thread_local std::vector<C> maxima;
  maxima.resize(std::size_t(g.out_plane()));
  separable_plane<true>(g, xp, maxima.data());
  windows(g, [&](int64_t o, const Box& b, int64_t) { f(o, first_at(g, xp, b, maxima[o])); });
}

template <class C>
void max_forward(const PoolGeom& g, const C* x, C* y) {
  const int64_t W = g.d[2].in, WO = g.d[2].out;
  if (!is_2x2(g)) return separable_forward<true>(g, x, y);
  for_planes(g, [&](int64_t p) {
    const C* xp = x + p * g.in_plane();
    C* yp = y + p * g.out_plane();
    for (int64_t oh = 0; oh < g.d[1].out; ++oh) {
      const C *r0 = xp + 2 * oh * W, *r1 = r0 + W;
      C* yr = yp + oh * WO;
      for (int64_t ow = 0; ow < WO; ++ow)
        yr[ow] = nan_max(nan_max(nan_max(r0[2 * ow], r0[2 * ow + 1]), r1[2 * ow]), r1[2 * ow + 1]);
    }
  });
}

template <class C>
void max_backward(const PoolGeom& g, const C* gy, const C* x, C* gx) {
  const int64_t W = g.d[2].in, WO = g.d[2].out;
  for_planes(g, [&](int64_t p) {
    const C* xp = x + p * g.in_plane();
    const C* gp = gy + p * g.out_plane();
    C* out = gx + p * g.in_plane();
    std::fill(out, out + g.in_plane(), C(0));
    if (is_2x2(g)) {  // windows do not overlap: write each one's four gradients at once
      for (int64_t oh = 0; oh < g.d[1].out; ++oh) {
        const C *r0 = xp + 2 * oh * W, *r1 = r0 + W;
        C *o0 = out + 2 * oh * W, *o1 = o0 + W;
        for (int64_t ow = 0; ow < WO; ++ow) {
          C v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
          int best = 0;
          for (int k = 1; k < 4; ++k)
            if (v[k] > v[best] || (v[k] != v[k] && v[best] == v[best])) best = k;
          C gv = gp[oh * WO + ow];
          o0[2 * ow] = best == 0 ? gv : C(0);
          o0[2 * ow + 1] = best == 1 ? gv : C(0);
          o1[2 * ow] = best == 2 ? gv : C(0);
          o1[2 * ow + 1] = best == 3 ? gv : C(0);
        }
      }
      return;
    }
    each_first_max(g, xp, [&](int64_t o, int64_t i) { out[i] += gp[o]; });
  });
}

template <class C>
void max_select(const PoolGeom& g, const C* t, const C* x, C* y) {
  for_planes(g, [&](int64_t p) {
    const C* xp = x + p * g.in_plane();
    const C* tp = t + p * g.in_plane();
    C* yp = y + p * g.out_plane();
    each_first_max(g, xp, [&](int64_t o, int64_t i) { yp[o] = tp[i]; });
  });
}

template <class C>
void avg_forward(const PoolGeom& g, const C* x, C* y) {
  separable_forward<false>(g, x, y);
}

// The adjoint of separable_forward<false>: D, then H, then W.
template <class C>
void avg_backward(const PoolGeom& g, const C* gy, C* gx) {
  const Axis &D = g.d[0], &H = g.d[1], &W = g.d[2];
  for_planes(g, [&](int64_t p) {
    thread_local std::vector<C> scratch[2];
    const C* src = gy + p * g.out_plane();
    C* out = gx + p * g.in_plane();
    if (!trivial(g, D)) {  // [DO][HO*WO] -> [D][HO*WO]
      scratch[0].resize(std::size_t(D.in * H.out * W.out));
      spread_axis(D, 1, H.out * W.out, src, scratch[0].data());
      src = scratch[0].data();
    }
    if (!trivial(g, H)) {  // [D][HO][WO] -> [D][H][WO]
      scratch[1].resize(std::size_t(D.in * H.in * W.out));
      spread_axis(H, D.in, W.out, src, scratch[1].data());
      src = scratch[1].data();
    }
    spread_axis(W, D.in * H.in, 1, src, out);
  });
}

// ---- float32 on oneDNN, plain NCHW / NCDHW in and out (a reorder would cost more than the
// pool).

using md = dnnl::memory::desc;

struct PoolCall {
  dnnl::primitive prim;
  int in_arg, out_arg;
  md in, out;
  // Scratch memory allocated per call (user mode): the cached primitive may run on several
  // threads at once, and oneDNN's library-owned scratchpad would be shared between them.
  md scratch;
};

enum class PoolKind : int64_t { avg_forward, avg_backward };

PoolCall make_pool_call(PoolKind kind, const Shape& xs, const Shape& ys, const Attrs& a,
                        bool include_pad) {
  dnnl::engine& eng = dnnl_engine();
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  tag layout = xs.size() == 5 ? tag::ncdhw : tag::nchw;
  md x(dnnl::memory::dims(xs.begin(), xs.end()), dt::f32, layout);
  md y(dnnl::memory::dims(ys.begin(), ys.end()), dt::f32, layout);
  auto dims = [&](const char* name) {
    const Shape& s = a.get<Shape>(name);
    return dnnl::memory::dims(s.begin(), s.end());
  };
  dnnl::memory::dims strides = dims("stride"), kernel = dims("kernel"), pad = dims("padding");
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::algorithm alg = include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                    : dnnl::algorithm::pooling_avg_exclude_padding;
  if (kind != PoolKind::avg_backward) {
    dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, alg, x, y, strides, kernel,
                                  pad, pad);
    dnnl::pooling_forward::primitive_desc pd(d, attr, eng);
    return {dnnl::pooling_forward(pd), DNNL_ARG_SRC, DNNL_ARG_DST, x, y, pd.scratchpad_desc()};
  }
  dnnl::pooling_forward::desc fd(dnnl::prop_kind::forward_training, alg, x, y, strides, kernel, pad,
                                 pad);
  dnnl::pooling_forward::primitive_desc hint(fd, eng);
  dnnl::pooling_backward::desc d(alg, x, y, strides, kernel, pad, pad);
  dnnl::pooling_backward::primitive_desc pd(d, attr, eng, hint);
  return {dnnl::pooling_backward(pd), DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC, y, x, pd.scratchpad_desc()};
}

void pool_dnnl(PoolKind kind, const Shape& xs, const Shape& ys, const Attrs& a, bool include_pad,
               const float* in, float* out) {
  static PrimitiveCache<PoolCall> cache;
  std::vector<int64_t> key{int64_t(kind), include_pad};
  append(key, xs);
  append(key, ys);
  for (const char* name : {"kernel", "stride", "padding"}) append(key, a.get<Shape>(name));
  std::shared_ptr<const PoolCall> c =
      cache.get(key, [&] { return make_pool_call(kind, xs, ys, a, include_pad); });
  dnnl::engine& eng = dnnl_engine();
  dnnl::stream& s = dnnl_stream();
  std::unordered_map<int, dnnl::memory> args{
      {c->in_arg, dnnl::memory(c->in, eng, const_cast<float*>(in))},
      {c->out_arg, dnnl::memory(c->out, eng, out)}};
  if (c->scratch.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(c->scratch, eng));
  c->prim.execute(s, args);
  s.wait();
}

// oneDNN's plain-layout average pooling beats the separable loops on real 2-d images only
// (measured: 1-d forms, as height-1 images, and 3-d ones run faster on the loops).
bool use_dnnl(const PoolGeom& g, const Shape& xs) { return g.fixed && xs.size() == 4 && xs[2] > 1; }

bool empty_io(const KernelArgs& a) {
  if (a.out.numel() == 0) return true;
  for (const Node* n : a.inputs)
    if (n->numel() == 0) {
      std::memset(a.out.data(), 0, std::size_t(a.out.numel()) * itemsize(a.out.dtype));
      return true;
    }
  return false;
}

template <class T>
void max_pool_kernel(const KernelArgs& a) {
  if (empty_io(a)) return;
  PoolGeom g = geometry(a.inputs[0]->shape, a.out.shape, a.attrs);
  // Not oneDNN: its max pooling drops NaNs, which PyTorch (and this op) propagate.
  with_contiguous<T>(a, [&](const auto& in, auto* out) { max_forward(g, in[0], out); });
}

template <class T>
void max_pool_backward_kernel(const KernelArgs& a) {  // (g, x)
  if (empty_io(a)) return;
  PoolGeom g = geometry(a.inputs[1]->shape, a.inputs[0]->shape, a.attrs);
  with_contiguous<T>(a, [&](const auto& in, auto* out) { max_backward(g, in[0], in[1], out); });
}

template <class T>
void max_pool_select_kernel(const KernelArgs& a) {  // (t, x)
  if (empty_io(a)) return;
  PoolGeom g = geometry(a.inputs[1]->shape, a.out.shape, a.attrs);
  with_contiguous<T>(a, [&](const auto& in, auto* out) { max_select(g, in[0], in[1], out); });
}

template <class T>
void avg_pool_kernel(const KernelArgs& a) {
  if (empty_io(a)) return;
  const Shape &xs = a.inputs[0]->shape, &ys = a.out.shape;
  PoolGeom g = geometry(xs, ys, a.attrs);
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    if constexpr (std::is_same_v<std::remove_pointer_t<decltype(out)>, float>)
      if (use_dnnl(g, xs))
        return pool_dnnl(PoolKind::avg_forward, xs, ys, a.attrs, g.include_pad, in[0], out);
    avg_forward(g, in[0], out);
  });
}

template <class T>
void avg_pool_backward_kernel(const KernelArgs& a) {
  if (empty_io(a)) return;
  const Shape &ys = a.inputs[0]->shape, &xs = a.out.shape;
  PoolGeom g = geometry(xs, ys, a.attrs);
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    if constexpr (std::is_same_v<std::remove_pointer_t<decltype(out)>, float>)
      if (use_dnnl(g, xs))
        return pool_dnnl(PoolKind::avg_backward, xs, ys, a.attrs, g.include_pad, in[0], out);
    avg_backward(g, in[0], out);
  });
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    DType t = dtype_of_v<T>;
    for (const char* max : {"max_pool2d", "max_pool3d", "adaptive_max_pool2d"}) {
      std::string name = max;
      register_kernel(name, DeviceType::cpu, t, max_pool_kernel<T>);
      register_kernel(name + "_backward", DeviceType::cpu, t, max_pool_backward_kernel<T>);
      register_kernel(name + "_select", DeviceType::cpu, t, max_pool_select_kernel<T>);
    }
    for (const char* avg : {"avg_pool2d", "avg_pool3d", "adaptive_avg_pool2d"}) {
      std::string name = avg;
      register_kernel(name, DeviceType::cpu, t, avg_pool_kernel<T>);
      register_kernel(name + "_backward", DeviceType::cpu, t, avg_pool_backward_kernel<T>);
    }
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
