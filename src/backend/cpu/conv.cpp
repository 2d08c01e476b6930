// CPU kernels of conv2d and its gradients: oneDNN primitives for float32 (and, converted,
// float16/bfloat16), direct loops for float64 (the precision the gradient checks run in).
#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "backend/cpu/conv_common.h"
#include "backend/cpu/dnnl_engine.h"
#include "backend/cpu/dtype_switch.h"

namespace nabla::cpu {
namespace {

enum class ConvKind : int64_t { forward, backward_input, backward_weight };

// Everything about one convolution, whichever of its three ops runs.
struct ConvGeom {
  Shape x, w, y;           // input (N, C, H, W), weight (O, C / G, KH, KW), output (N, O, HO, WO)
  Shape stride, pad, dil;  // pad: {top, left, bottom, right}
  int64_t groups = 1;
};

ConvGeom geometry(const KernelArgs& a, ConvKind kind) {
  ConvGeom g;
  const Shape &i0 = a.inputs[0]->shape, &i1 = a.inputs[1]->shape;
  switch (kind) {
    case ConvKind::forward:
      g.x = i0, g.w = i1, g.y = a.out.shape;
      break;
    case ConvKind::backward_input:
      g.y = i0, g.w = i1, g.x = a.out.shape;
      break;
    case ConvKind::backward_weight:
      g.x = i0, g.y = i1, g.w = a.out.shape;
      break;
  }
  g.stride = a.attrs.get<Shape>("stride");
  g.pad = a.attrs.get<Shape>("padding");
  g.dil = a.attrs.get<Shape>("dilation");
  g.groups = a.attrs.get<int64_t>("groups");
  return g;
}

// ---- float64: direct loops over output planes, each written by one thread.

// Calls f(oh, ih) for the output rows whose tap kh lands inside the input.
template <class F>
inline void taps(int64_t out_n, int64_t in_n, int64_t stride, int64_t offset, F&& f) {
  for (int64_t o = 0; o < out_n; ++o) {
    int64_t i = o * stride + offset;
    if (i >= 0 && i < in_n) f(o, i);
  }
}

struct Dims {
  int64_t N, C, H, W, O, KH, KW, HO, WO, G, cpg, opg;
  explicit Dims(const ConvGeom& g)
      : N(g.x[0]),
        C(g.x[1]),
        H(g.x[2]),
        W(g.x[3]),
        O(g.w[0]),
        KH(g.w[2]),
        KW(g.w[3]),
        HO(g.y[2]),
        WO(g.y[3]),
        G(g.groups),
        cpg(C / G),
        opg(O / G) {}
};

template <class T>
void conv_forward_direct(const ConvGeom& g, const T* x, const T* w, T* y) {
  Dims d(g);
  parallel_for(
      d.N * d.O,
      std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.HO * d.WO * d.cpg * d.KH * d.KW)),
      [&](int64_t b, int64_t e) {
        for (int64_t item = b; item < e; ++item) {
          int64_t n = item / d.O, o = item % d.O, grp = o / d.opg;
          T* yp = y + item * d.HO * d.WO;
          std::fill(yp, yp + d.HO * d.WO, T(0));
          for (int64_t ci = 0; ci < d.cpg; ++ci) {
            const T* xp = x + (n * d.C + grp * d.cpg + ci) * d.H * d.W;
            const T* wk = w + (o * d.cpg + ci) * d.KH * d.KW;
            for (int64_t kh = 0; kh < d.KH; ++kh)
              for (int64_t kw = 0; kw < d.KW; ++kw) {
                T wv = wk[kh * d.KW + kw];
                taps(d.HO, d.H, g.stride[0], kh * g.dil[0] - g.pad[0], [&](int64_t oh, int64_t ih) {
                  taps(d.WO, d.W, g.stride[1], kw * g.dil[1] - g.pad[1],
                       [&](int64_t ow, int64_t iw) {
                         yp[oh * d.WO + ow] += wv * xp[ih * d.W + iw];
                       });
                });
              }
          }
        }
      });
}

template <class T>
void conv_backward_input_direct(const ConvGeom& g, const T* gy, const T* w, T* gx) {
  Dims d(g);
  parallel_for(
      d.N * d.C,
      std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.HO * d.WO * d.opg * d.KH * d.KW)),
      [&](int64_t b, int64_t e) {
        for (int64_t item = b; item < e; ++item) {
          int64_t n = item / d.C, c = item % d.C, grp = c / d.cpg, ci = c % d.cpg;
          T* xp = gx + item * d.H * d.W;
          std::fill(xp, xp + d.H * d.W, T(0));
          for (int64_t o = grp * d.opg; o < (grp + 1) * d.opg; ++o) {
            const T* gp = gy + (n * d.O + o) * d.HO * d.WO;
            const T* wk = w + (o * d.cpg + ci) * d.KH * d.KW;
            for (int64_t kh = 0; kh < d.KH; ++kh)
              for (int64_t kw = 0; kw < d.KW; ++kw) {
                T wv = wk[kh * d.KW + kw];
                taps(d.HO, d.H, g.stride[0], kh * g.dil[0] - g.pad[0], [&](int64_t oh, int64_t ih) {
                  taps(d.WO, d.W, g.stride[1], kw * g.dil[1] - g.pad[1],
                       [&](int64_t ow, int64_t iw) {
                         xp[ih * d.W + iw] += wv * gp[oh * d.WO + ow];
                       });
                });
              }
          }
        }
      });
}

template <class T>
void conv_backward_weight_direct(const ConvGeom& g, const T* x, const T* gy, T* gw) {
  Dims d(g);
  parallel_for(d.O * d.cpg,
               std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.N * d.HO * d.WO * d.KH * d.KW)),
               [&](int64_t b, int64_t e) {
                 for (int64_t item = b; item < e; ++item) {
                   int64_t o = item / d.cpg, ci = item % d.cpg, c = (o / d.opg) * d.cpg + ci;
                   T* wk = gw + item * d.KH * d.KW;
                   for (int64_t kh = 0; kh < d.KH; ++kh)
                     for (int64_t kw = 0; kw < d.KW; ++kw) {
                       T acc = 0;
                       for (int64_t n = 0; n < d.N; ++n) {
                         const T* xp = x + (n * d.C + c) * d.H * d.W;
                         const T* gp = gy + (n * d.O + o) * d.HO * d.WO;
                         taps(d.HO, d.H, g.stride[0], kh * g.dil[0] - g.pad[0],
                              [&](int64_t oh, int64_t ih) {
                                taps(d.WO, d.W, g.stride[1], kw * g.dil[1] - g.pad[1],
                                     [&](int64_t ow, int64_t iw) {
                                       acc += xp[ih * d.W + iw] * gp[oh * d.WO + ow];
                                     });
                              });
                       }
                       wk[kh * d.KW + kw] = acc;
                     }
                 }
               });
}

// ---- float32: oneDNN, in the layouts its fastest implementation picks (format "any"),
// with reorders from and to the plain NCHW/OIHW tensors when they differ.

using md = dnnl::memory::desc;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::memory::dims dims_of(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

// Weights are 5-d (G, O / G, C / G, KH, KW) when grouped; the same bytes as OIHW.
dnnl::memory::dims weight_dims(const ConvGeom& g) {
  if (g.groups == 1) return dims_of(g.w);
  return {g.groups, g.w[0] / g.groups, g.w[1], g.w[2], g.w[3]};
}

// A primitive with two inputs and one output, each maybe reordered from/to the user layout.
struct DnnlCall {
  dnnl::primitive prim;
  std::array<int, 3> arg{};
  std::array<md, 3> user, want;
  std::array<std::optional<dnnl::reorder>, 3> reorder;  // inputs: user->want; output: want->user
};

DnnlCall make_conv_call(const ConvGeom& g, ConvKind kind) {
  dnnl::engine& eng = dnnl_engine();
  md x_user(dims_of(g.x), dt::f32, tag::nchw), y_user(dims_of(g.y), dt::f32, tag::nchw);
  md w_user(weight_dims(g), dt::f32, g.groups == 1 ? tag::oihw : tag::goihw);
  md x_any(dims_of(g.x), dt::f32, tag::any), y_any(dims_of(g.y), dt::f32, tag::any);
  md w_any(weight_dims(g), dt::f32, tag::any);
  dnnl::memory::dims strides = dims_of(g.stride), dil{g.dil[0] - 1, g.dil[1] - 1};
  dnnl::memory::dims pl{g.pad[0], g.pad[1]}, pr{g.pad[2], g.pad[3]};
  auto fwd_desc = [&](dnnl::prop_kind prop) {
    return dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, x_any, w_any,
                                           y_any, strides, dil, pl, pr);
  };
  DnnlCall c;
  if (kind == ConvKind::forward) {
    dnnl::convolution_forward::primitive_desc pd(fwd_desc(dnnl::prop_kind::forward_inference), eng);
    c.prim = dnnl::convolution_forward(pd);
    c.arg = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    c.user = {x_user, w_user, y_user};
    c.want = {pd.src_desc(), pd.weights_desc(), pd.dst_desc()};
  } else {
    dnnl::convolution_forward::primitive_desc hint(fwd_desc(dnnl::prop_kind::forward_training),
                                                   eng);
    if (kind == ConvKind::backward_input) {
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, x_any, w_any,
                                              y_any, strides, dil, pl, pr);
      dnnl::convolution_backward_data::primitive_desc pd(d, eng, hint);
      c.prim = dnnl::convolution_backward_data(pd);
      c.arg = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
      c.user = {y_user, w_user, x_user};
      c.want = {pd.diff_dst_desc(), pd.weights_desc(), pd.diff_src_desc()};
    } else {
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, x_any, w_any,
                                                 y_any, strides, dil, pl, pr);
      dnnl::convolution_backward_weights::primitive_desc pd(d, eng, hint);
      c.prim = dnnl::convolution_backward_weights(pd);
      c.arg = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS};
      c.user = {x_user, y_user, w_user};
      c.want = {pd.src_desc(), pd.diff_dst_desc(), pd.diff_weights_desc()};
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (c.user[i] == c.want[i]) continue;
    if (i < 2)
      c.reorder[i] = dnnl::reorder(dnnl::reorder::primitive_desc(eng, c.user[i], eng, c.want[i]));
    else
      c.reorder[i] = dnnl::reorder(dnnl::reorder::primitive_desc(eng, c.want[i], eng, c.user[i]));
  }
  return c;
}

void run_call(const DnnlCall& c, const float* in0, const float* in1, float* out) {
  dnnl::engine& eng = dnnl_engine();
  dnnl::stream& s = dnnl_stream();
  std::unordered_map<int, dnnl::memory> args;
  const float* ins[2] = {in0, in1};
  for (int i = 0; i < 2; ++i) {
    dnnl::memory user(c.user[i], eng, const_cast<float*>(ins[i]));
    if (!c.reorder[i]) {
      args.emplace(c.arg[i], user);
      continue;
    }
    dnnl::memory m(c.want[i], eng);
    c.reorder[i]->execute(s, user, m);
    args.emplace(c.arg[i], m);
  }
  dnnl::memory out_user(c.user[2], eng, out);
  dnnl::memory out_mem = c.reorder[2] ? dnnl::memory(c.want[2], eng) : out_user;
  args.emplace(c.arg[2], out_mem);
  c.prim.execute(s, args);
  if (c.reorder[2]) c.reorder[2]->execute(s, out_mem, out_user);
  s.wait();
}

void conv_dnnl(const ConvGeom& g, ConvKind kind, const float* in0, const float* in1, float* out) {
  static PrimitiveCache<DnnlCall> cache;
  std::vector<int64_t> key{int64_t(kind), g.groups};
  for (const Shape* s : {&g.x, &g.w, &g.y, &g.stride, &g.pad, &g.dil}) append(key, *s);
  run_call(*cache.get(key, [&] { return make_conv_call(g, kind); }), in0, in1, out);
}

template <class T, ConvKind kKind>
void conv_kernel(const KernelArgs& a) {
  ConvGeom g = geometry(a, kKind);
  if (a.out.numel() == 0) return;
  if (a.inputs[0]->numel() == 0 || a.inputs[1]->numel() == 0) {  // an empty sum
    std::memset(a.out.data(), 0, std::size_t(a.out.numel()) * sizeof(T));
    return;
  }
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    using C = std::remove_cv_t<std::remove_pointer_t<decltype(out)>>;
    if constexpr (std::is_same_v<C, float>) {
      conv_dnnl(g, kKind, in[0], in[1], out);
    } else if constexpr (kKind == ConvKind::forward) {
      conv_forward_direct<C>(g, in[0], in[1], out);
    } else if constexpr (kKind == ConvKind::backward_input) {
      conv_backward_input_direct<C>(g, in[0], in[1], out);
    } else {
      conv_backward_weight_direct<C>(g, in[0], in[1], out);
    }
  });
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    register_kernel("conv2d", DeviceType::cpu, dtype_of_v<T>, conv_kernel<T, ConvKind::forward>);
    register_kernel("conv2d_backward_input", DeviceType::cpu, dtype_of_v<T>,
                    conv_kernel<T, ConvKind::backward_input>);
    register_kernel("conv2d_backward_weight", DeviceType::cpu, dtype_of_v<T>,
                    conv_kernel<T, ConvKind::backward_weight>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
