// CPU kernels of the pools and their gradients. float32 average pooling and its gradient
// run on oneDNN; the rest are direct loops over (N, C) planes, one plane per task.
// The max gradient recomputes each window's first maximum from x: deterministic, and no
// workspace has to live between forward and backward.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "backend/cpu/conv_common.h"
#include "backend/cpu/dnnl_engine.h"
#include "backend/cpu/dtype_switch.h"

namespace nabla::cpu {
namespace {

struct PoolGeom {
  int64_t planes, H, W, HO, WO, kh, kw, sh, sw, ph, pw;
  bool include_pad;
};

// x is the image side (input of the forward), y the pooled side.
PoolGeom geometry(const Shape& x, const Shape& y, const Attrs& a) {
  const Shape &k = a.get<Shape>("kernel"), &s = a.get<Shape>("stride"),
              &p = a.get<Shape>("padding");
  return {x[0] * x[1], x[2], x[3], y[2], y[3], k[0],
          k[1],        s[0], s[1], p[0], p[1], a.get_or<bool>("count_include_pad", true)};
}

// Calls f(lo_h, hi_h, lo_w, hi_w, divisor) for each output (in order) of one plane.
template <class F>
inline void windows(const PoolGeom& g, F&& f) {
  for (int64_t oh = 0; oh < g.HO; ++oh) {
    int64_t h0 = oh * g.sh - g.ph, h1 = std::min(h0 + g.kh, g.H);
    int64_t hc = std::max<int64_t>(h0, 0);
    for (int64_t ow = 0; ow < g.WO; ++ow) {
      int64_t w0 = ow * g.sw - g.pw, w1 = std::min(w0 + g.kw, g.W);
      int64_t wc = std::max<int64_t>(w0, 0);
      int64_t div = g.include_pad ? g.kh * g.kw : (h1 - hc) * (w1 - wc);
      f(oh * g.WO + ow, hc, h1, wc, w1, div);
    }
  }
}

template <class F>
void for_planes(const PoolGeom& g, int64_t work_per_plane, F&& f) {
  parallel_for(g.planes, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, work_per_plane)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) f(p);
               });
}

// Index in the plane of the window's first maximum (NaN counts as the largest).
template <class C>
inline int64_t argmax(const C* xp, int64_t W, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
  int64_t best = h0 * W + w0;
  C bv = xp[best];
  for (int64_t ih = h0; ih < h1; ++ih)
    for (int64_t iw = w0; iw < w1; ++iw) {
      C v = xp[ih * W + iw];
      if (v > bv || (std::isnan(v) && !std::isnan(bv))) bv = v, best = ih * W + iw;
    }
  return best;
}

// max that propagates NaN (a NaN in b wins; one in a stays).
template <class C>
inline C nan_max(C a, C b) {
  return (b > a || b != b) ? b : a;
}

// The CNN's usual 2x2 window, stride 2, no padding: branch-free, vectorisable rows.
inline bool is_2x2(const PoolGeom& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
}

template <class C>
void max_forward(const PoolGeom& g, const C* x, C* y) {
  for_planes(g, g.HO * g.WO * g.kh * g.kw, [&](int64_t p) {
    const C* xp = x + p * g.H * g.W;
    C* yp = y + p * g.HO * g.WO;
    if (is_2x2(g)) {
      for (int64_t oh = 0; oh < g.HO; ++oh) {
        const C *r0 = xp + 2 * oh * g.W, *r1 = r0 + g.W;
        C* yr = yp + oh * g.WO;
        for (int64_t ow = 0; ow < g.WO; ++ow)
          yr[ow] =
              nan_max(nan_max(nan_max(r0[2 * ow], r0[2 * ow + 1]), r1[2 * ow]), r1[2 * ow + 1]);
      }
      return;
    }
    windows(g, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t) {
      C m = xp[h0 * g.W + w0];
      for (int64_t ih = h0; ih < h1; ++ih)
        for (int64_t iw = w0; iw < w1; ++iw) m = nan_max(m, xp[ih * g.W + iw]);
      yp[o] = m;
    });
  });
}

template <class C>
void max_backward(const PoolGeom& g, const C* gy, const C* x, C* gx) {
  for_planes(g, g.HO * g.WO * g.kh * g.kw, [&](int64_t p) {
    const C* xp = x + p * g.H * g.W;
    const C* gp = gy + p * g.HO * g.WO;
    C* out = gx + p * g.H * g.W;
    std::fill(out, out + g.H * g.W, C(0));
    if (is_2x2(g)) {  // windows do not overlap: write each one's four gradients at once
      for (int64_t oh = 0; oh < g.HO; ++oh) {
        const C *r0 = xp + 2 * oh * g.W, *r1 = r0 + g.W;
        C *o0 = out + 2 * oh * g.W, *o1 = o0 + g.W;
        for (int64_t ow = 0; ow < g.WO; ++ow) {
          C v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
          int best = 0;
          for (int k = 1; k < 4; ++k)
            if (v[k] > v[best] || (v[k] != v[k] && v[best] == v[best])) best = k;
          C gv = gp[oh * g.WO + ow];
          o0[2 * ow] = best == 0 ? gv : C(0);
          o0[2 * ow + 1] = best == 1 ? gv : C(0);
          o1[2 * ow] = best == 2 ? gv : C(0);
          o1[2 * ow + 1] = best == 3 ? gv : C(0);
        }
      }
      return;
    }
    windows(g, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t) {
      out[argmax(xp, g.W, h0, h1, w0, w1)] += gp[o];
    });
  });
}

template <class C>
void max_select(const PoolGeom& g, const C* t, const C* x, C* y) {
  for_planes(g, g.HO * g.WO * g.kh * g.kw, [&](int64_t p) {
    const C* xp = x + p * g.H * g.W;
    const C* tp = t + p * g.H * g.W;
    C* yp = y + p * g.HO * g.WO;
    windows(g, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t) {
      yp[o] = tp[argmax(xp, g.W, h0, h1, w0, w1)];
    });
  });
}

template <class C>
void avg_forward(const PoolGeom& g, const C* x, C* y) {
  for_planes(g, g.HO * g.WO * g.kh * g.kw, [&](int64_t p) {
    const C* xp = x + p * g.H * g.W;
    C* yp = y + p * g.HO * g.WO;
    windows(g, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t div) {
      C s = 0;
      for (int64_t ih = h0; ih < h1; ++ih)
        for (int64_t iw = w0; iw < w1; ++iw) s += xp[ih * g.W + iw];
      yp[o] = s / C(div);
    });
  });
}

template <class C>
void avg_backward(const PoolGeom& g, const C* gy, C* gx) {
  for_planes(g, g.HO * g.WO * g.kh * g.kw, [&](int64_t p) {
    const C* gp = gy + p * g.HO * g.WO;
    C* out = gx + p * g.H * g.W;
    std::fill(out, out + g.H * g.W, C(0));
    windows(g, [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t div) {
      C v = gp[o] / C(div);
      for (int64_t ih = h0; ih < h1; ++ih)
        for (int64_t iw = w0; iw < w1; ++iw) out[ih * g.W + iw] += v;
    });
  });
}

// Adaptive windows: output i of n over an input of size len covers [i*len/n, ceil((i+1)*len/n)).
inline int64_t start_of(int64_t i, int64_t n, int64_t len) { return i * len / n; }
inline int64_t end_of(int64_t i, int64_t n, int64_t len) { return ((i + 1) * len + n - 1) / n; }

// f(output index, h0, h1, w0, w1) for each output of a plane.
template <class F>
inline void adaptive_windows(int64_t H, int64_t W, int64_t HO, int64_t WO, F&& f) {
  for (int64_t oh = 0; oh < HO; ++oh)
    for (int64_t ow = 0; ow < WO; ++ow)
      f(oh * WO + ow, start_of(oh, HO, H), end_of(oh, HO, H), start_of(ow, WO, W),
        end_of(ow, WO, W));
}

template <class C>
void adaptive_forward(const Shape& xs, const Shape& ys, const C* x, C* y) {
  int64_t H = xs[2], W = xs[3], HO = ys[2], WO = ys[3];
  parallel_for(xs[0] * xs[1], std::max<int64_t>(1, kGrain / std::max<int64_t>(1, H * W)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   const C* xp = x + p * H * W;
                   adaptive_windows(H, W, HO, WO,
                                    [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                                      C s = 0;
                                      for (int64_t ih = h0; ih < h1; ++ih)
                                        for (int64_t iw = w0; iw < w1; ++iw) s += xp[ih * W + iw];
                                      y[p * HO * WO + o] = s / C((h1 - h0) * (w1 - w0));
                                    });
                 }
               });
}

template <class C>
void adaptive_backward(const Shape& ys, const Shape& xs, const C* gy, C* gx) {
  int64_t H = xs[2], W = xs[3], HO = ys[2], WO = ys[3];
  parallel_for(xs[0] * xs[1], std::max<int64_t>(1, kGrain / std::max<int64_t>(1, H * W)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   C* out = gx + p * H * W;
                   std::fill(out, out + H * W, C(0));
                   adaptive_windows(H, W, HO, WO,
                                    [&](int64_t o, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                                      C v = gy[p * HO * WO + o] / C((h1 - h0) * (w1 - w0));
                                      for (int64_t ih = h0; ih < h1; ++ih)
                                        for (int64_t iw = w0; iw < w1; ++iw) out[ih * W + iw] += v;
                                    });
                 }
               });
}

// ---- float32 on oneDNN, plain NCHW in and out (a reorder would cost more than the pool).

using md = dnnl::memory::desc;

struct PoolCall {
  dnnl::primitive prim;
  int in_arg, out_arg;
  md in, out;
};

enum class PoolKind : int64_t { avg_forward, avg_backward };

PoolCall make_pool_call(PoolKind kind, const Shape& xs, const Shape& ys, const PoolGeom& g) {
  dnnl::engine& eng = dnnl_engine();
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  md x(dnnl::memory::dims(xs.begin(), xs.end()), dt::f32, tag::nchw);
  md y(dnnl::memory::dims(ys.begin(), ys.end()), dt::f32, tag::nchw);
  dnnl::memory::dims strides{g.sh, g.sw}, kernel{g.kh, g.kw}, pad{g.ph, g.pw};
  dnnl::algorithm alg = g.include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                      : dnnl::algorithm::pooling_avg_exclude_padding;
  if (kind != PoolKind::avg_backward) {
    dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, alg, x, y, strides, kernel,
                                  pad, pad);
    return {dnnl::pooling_forward(dnnl::pooling_forward::primitive_desc(d, eng)), DNNL_ARG_SRC,
            DNNL_ARG_DST, x, y};
  }
  dnnl::pooling_forward::desc fd(dnnl::prop_kind::forward_training, alg, x, y, strides, kernel, pad,
                                 pad);
  dnnl::pooling_forward::primitive_desc hint(fd, eng);
  dnnl::pooling_backward::desc d(alg, x, y, strides, kernel, pad, pad);
  return {dnnl::pooling_backward(dnnl::pooling_backward::primitive_desc(d, eng, hint)),
          DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC, y, x};
}

void pool_dnnl(PoolKind kind, const Shape& xs, const Shape& ys, const PoolGeom& g, const float* in,
               float* out) {
  static PrimitiveCache<PoolCall> cache;
  std::vector<int64_t> key{int64_t(kind), g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.include_pad};
  append(key, xs);
  append(key, ys);
  std::shared_ptr<const PoolCall> c =
      cache.get(key, [&] { return make_pool_call(kind, xs, ys, g); });
  dnnl::engine& eng = dnnl_engine();
  dnnl::stream& s = dnnl_stream();
  c->prim.execute(s, {{c->in_arg, dnnl::memory(c->in, eng, const_cast<float*>(in))},
                      {c->out_arg, dnnl::memory(c->out, eng, out)}});
  s.wait();
}

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
  const Shape &xs = a.inputs[0]->shape, &ys = a.out.shape;
  PoolGeom g = geometry(xs, ys, a.attrs);
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
      pool_dnnl(PoolKind::avg_forward, xs, ys, g, in[0], out);
    else
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
      pool_dnnl(PoolKind::avg_backward, xs, ys, g, in[0], out);
    else
      avg_backward(g, in[0], out);
  });
}

template <class T>
void adaptive_kernel(const KernelArgs& a) {
  if (empty_io(a)) return;
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    adaptive_forward(a.inputs[0]->shape, a.out.shape, in[0], out);
  });
}

template <class T>
void adaptive_backward_kernel(const KernelArgs& a) {
  if (empty_io(a)) return;
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    adaptive_backward(a.inputs[0]->shape, a.out.shape, in[0], out);
  });
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    DType t = dtype_of_v<T>;
    register_kernel("max_pool2d", DeviceType::cpu, t, max_pool_kernel<T>);
    register_kernel("max_pool2d_backward", DeviceType::cpu, t, max_pool_backward_kernel<T>);
    register_kernel("max_pool2d_select", DeviceType::cpu, t, max_pool_select_kernel<T>);
    register_kernel("avg_pool2d", DeviceType::cpu, t, avg_pool_kernel<T>);
    register_kernel("avg_pool2d_backward", DeviceType::cpu, t, avg_pool_backward_kernel<T>);
    register_kernel("adaptive_avg_pool2d", DeviceType::cpu, t, adaptive_kernel<T>);
    register_kernel("adaptive_avg_pool2d_backward", DeviceType::cpu, t,
                    adaptive_backward_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
