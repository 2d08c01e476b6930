// CPU kernels of conv2d, conv3d and their gradients: oneDNN primitives for float32 (and, converted,
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

// Everything about one convolution, whichever of its three ops runs, with 2 or 3 spatial dims.
struct ConvGeom {
  Shape x, w, y;           // input (N, C, ...), weight (O, C / G, ...), output (N, O, ...)
  Shape stride, pad, dil;  // pad: all leading pads, then all trailing ones
  int64_t groups = 1;
  std::size_t rank() const { return stride.size(); }
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

// ---- float64: direct loops over output planes, each written by one thread. A 2-d
// convolution runs as a 3-d one of depth 1.

// Calls f(o, i) for the outputs o whose tap lands on input i = o * stride + offset inside.
template <class F>
inline void taps(int64_t out_n, int64_t in_n, int64_t stride, int64_t offset, F&& f) {
  for (int64_t o = 0; o < out_n; ++o) {
    int64_t i = o * stride + offset;
    if (i >= 0 && i < in_n) f(o, i);
  }
}

struct Dims {
  int64_t N, C, O, G, cpg, opg;
  std::array<int64_t, 3> in, k, out, s, p, d;  // per spatial dim (depth, height, width)
  int64_t in_size, k_size, out_size;

  explicit Dims(const ConvGeom& g) : N(g.x[0]), C(g.x[1]), O(g.w[0]), G(g.groups) {
    cpg = C / G, opg = O / G;
    std::size_t r = g.rank(), lead = 3 - r;
    for (std::size_t i = 0; i < 3; ++i) {
      bool real = i >= lead;
      std::size_t j = i - lead;
      in[i] = real ? g.x[2 + j] : 1;
      k[i] = real ? g.w[2 + j] : 1;
      out[i] = real ? g.y[2 + j] : 1;
      s[i] = real ? g.stride[j] : 1;
      p[i] = real ? g.pad[j] : 0;
      d[i] = real ? g.dil[j] : 1;
    }
    in_size = in[0] * in[1] * in[2];
    k_size = k[0] * k[1] * k[2];
    out_size = out[0] * out[1] * out[2];
  }

  // Calls f(flat output index, flat input index) for every pair that kernel tap kk (flat)
  // connects.
  template <class F>
  void pairs(int64_t kk, F&& f) const {
    int64_t kd = kk / (k[1] * k[2]), kh = kk / k[2] % k[1], kw = kk % k[2];
    taps(out[0], in[0], s[0], kd * d[0] - p[0], [&](int64_t od, int64_t id) {
      taps(out[1], in[1], s[1], kh * d[1] - p[1], [&](int64_t oh, int64_t ih) {
        int64_t orow = (od * out[1] + oh) * out[2], irow = (id * in[1] + ih) * in[2];
        taps(out[2], in[2], s[2], kw * d[2] - p[2],
             [&](int64_t ow, int64_t iw) { f(orow + ow, irow + iw); });
      });
    });
  }
};

// bias: null or one value per output channel.
template <class T>
void conv_forward_direct(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  Dims d(g);
  parallel_for(d.N * d.O,
               std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.out_size * d.cpg * d.k_size)),
               [&](int64_t b, int64_t e) {
                 for (int64_t item = b; item < e; ++item) {
                   int64_t n = item / d.O, o = item % d.O, grp = o / d.opg;
                   T* yp = y + item * d.out_size;
                   std::fill(yp, yp + d.out_size, bias ? bias[o] : T(0));
                   for (int64_t ci = 0; ci < d.cpg; ++ci) {
                     const T* xp = x + (n * d.C + grp * d.cpg + ci) * d.in_size;
                     const T* wk = w + (o * d.cpg + ci) * d.k_size;
                     for (int64_t kk = 0; kk < d.k_size; ++kk) {
                       T wv = wk[kk];
                       d.pairs(kk, [&](int64_t oi, int64_t ii) { yp[oi] += wv * xp[ii]; });
                     }
                   }
                 }
               });
}

template <class T>
void conv_backward_input_direct(const ConvGeom& g, const T* gy, const T* w, T* gx) {
  Dims d(g);
  parallel_for(d.N * d.C,
               std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.out_size * d.opg * d.k_size)),
               [&](int64_t b, int64_t e) {
                 for (int64_t item = b; item < e; ++item) {
                   int64_t n = item / d.C, c = item % d.C, grp = c / d.cpg, ci = c % d.cpg;
                   T* xp = gx + item * d.in_size;
                   std::fill(xp, xp + d.in_size, T(0));
                   for (int64_t o = grp * d.opg; o < (grp + 1) * d.opg; ++o) {
                     const T* gp = gy + (n * d.O + o) * d.out_size;
                     const T* wk = w + (o * d.cpg + ci) * d.k_size;
                     for (int64_t kk = 0; kk < d.k_size; ++kk) {
                       T wv = wk[kk];
                       d.pairs(kk, [&](int64_t oi, int64_t ii) { xp[ii] += wv * gp[oi]; });
                     }
                   }
                 }
               });
}

template <class T>
void conv_backward_weight_direct(const ConvGeom& g, const T* x, const T* gy, T* gw) {
  Dims d(g);
  parallel_for(d.O * d.cpg,
               std::max<int64_t>(1, kGrain / std::max<int64_t>(1, d.N * d.out_size * d.k_size)),
               [&](int64_t b, int64_t e) {
                 for (int64_t item = b; item < e; ++item) {
                   int64_t o = item / d.cpg, ci = item % d.cpg, c = (o / d.opg) * d.cpg + ci;
                   T* wk = gw + item * d.k_size;
                   for (int64_t kk = 0; kk < d.k_size; ++kk) {
                     T acc = 0;
                     for (int64_t n = 0; n < d.N; ++n) {
                       const T* xp = x + (n * d.C + c) * d.in_size;
                       const T* gp = gy + (n * d.O + o) * d.out_size;
                       d.pairs(kk, [&](int64_t oi, int64_t ii) { acc += xp[ii] * gp[oi]; });
                     }
                     wk[kk] = acc;
                   }
                 }
               });
}

// ---- float32: oneDNN, in the layouts its fastest implementation picks (format "any"),
// with reorders from and to the plain NC(D)HW/OI(D)HW tensors when they differ.

using md = dnnl::memory::desc;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::memory::dims dims_of(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

// Weights get a leading group dim (G, O / G, C / G, kernel...) when grouped; the same bytes.
dnnl::memory::dims weight_dims(const ConvGeom& g) {
  if (g.groups == 1) return dims_of(g.w);
  dnnl::memory::dims d{g.groups, g.w[0] / g.groups};
  d.insert(d.end(), g.w.begin() + 1, g.w.end());
  return d;
}

// A primitive with two inputs and one output, each maybe reordered from/to the user layout,
// and for the forward maybe a bias (plain, one value per output channel).
struct DnnlCall {
  dnnl::primitive prim;
  std::optional<md> bias;
  std::array<int, 3> arg{};
  std::array<md, 3> user, want;
  std::array<std::optional<dnnl::reorder>, 3> reorder;  // inputs: user->want; output: want->user
  // The primitive's scratch memory, allocated per call: with oneDNN's default (library-owned)
  // scratchpad, one cached primitive run from two threads at once shares it and races.
  md scratch;
};

DnnlCall make_conv_call(const ConvGeom& g, ConvKind kind, bool with_bias) {
  dnnl::engine& eng = dnnl_engine();
  bool vol = g.rank() == 3;
  tag act = vol ? tag::ncdhw : tag::nchw;
  tag wt = g.groups == 1 ? (vol ? tag::oidhw : tag::oihw) : (vol ? tag::goidhw : tag::goihw);
  md x_user(dims_of(g.x), dt::f32, act), y_user(dims_of(g.y), dt::f32, act);
  md w_user(weight_dims(g), dt::f32, wt);
  md x_any(dims_of(g.x), dt::f32, tag::any), y_any(dims_of(g.y), dt::f32, tag::any);
  md w_any(weight_dims(g), dt::f32, tag::any);
  std::size_t r = g.rank();
  dnnl::memory::dims strides = dims_of(g.stride), dil, pl, pr;
  for (std::size_t i = 0; i < r; ++i) {
    dil.push_back(g.dil[i] - 1);  // oneDNN counts the gaps
    pl.push_back(g.pad[i]);
    pr.push_back(g.pad[r + i]);
  }
  auto fwd_desc = [&](dnnl::prop_kind prop) {
    return dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, x_any, w_any,
                                           y_any, strides, dil, pl, pr);
  };
  DnnlCall c;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (kind == ConvKind::forward) {
    auto desc = fwd_desc(dnnl::prop_kind::forward_inference);
    if (with_bias) {
      c.bias = md({g.w[0]}, dt::f32, tag::a);
      desc = dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                             dnnl::algorithm::convolution_direct, x_any, w_any,
                                             *c.bias, y_any, strides, dil, pl, pr);
    }
    dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
    c.prim = dnnl::convolution_forward(pd);
    c.scratch = pd.scratchpad_desc();
    c.arg = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    c.user = {x_user, w_user, y_user};
    c.want = {pd.src_desc(), pd.weights_desc(), pd.dst_desc()};
  } else {
    dnnl::convolution_forward::primitive_desc hint(fwd_desc(dnnl::prop_kind::forward_training),
                                                   eng);
    if (kind == ConvKind::backward_input) {
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, x_any, w_any,
                                              y_any, strides, dil, pl, pr);
      dnnl::convolution_backward_data::primitive_desc pd(d, attr, eng, hint);
      c.prim = dnnl::convolution_backward_data(pd);
      c.scratch = pd.scratchpad_desc();
      c.arg = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
      c.user = {y_user, w_user, x_user};
      c.want = {pd.diff_dst_desc(), pd.weights_desc(), pd.diff_src_desc()};
    } else {
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, x_any, w_any,
                                                 y_any, strides, dil, pl, pr);
      dnnl::convolution_backward_weights::primitive_desc pd(d, attr, eng, hint);
      c.prim = dnnl::convolution_backward_weights(pd);
      c.scratch = pd.scratchpad_desc();
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

void run_call(const DnnlCall& c, const float* in0, const float* in1, const float* bias,
              float* out) {
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
  if (c.bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(*c.bias, eng, const_cast<float*>(bias)));
  dnnl::memory out_user(c.user[2], eng, out);
  dnnl::memory out_mem = c.reorder[2] ? dnnl::memory(c.want[2], eng) : out_user;
  args.emplace(c.arg[2], out_mem);
  if (c.scratch.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(c.scratch, eng));
  c.prim.execute(s, args);
  if (c.reorder[2]) c.reorder[2]->execute(s, out_mem, out_user);
  s.wait();
}

void conv_dnnl(const ConvGeom& g, ConvKind kind, const float* in0, const float* in1,
               const float* bias, float* out) {
  static PrimitiveCache<DnnlCall> cache;
  std::vector<int64_t> key{int64_t(kind), g.groups, bias != nullptr};
  for (const Shape* s : {&g.x, &g.w, &g.y, &g.stride, &g.pad, &g.dil}) append(key, *s);
  run_call(*cache.get(key, [&] { return make_conv_call(g, kind, bias != nullptr); }), in0, in1,
           bias, out);
}

// y (N, O, spatial...) = bias[o] everywhere: a convolution over no input channels.
template <class T>
void fill_bias(const ConvGeom& g, const T* bias, T* y) {
  int64_t plane = numel_of(g.y) / std::max<int64_t>(1, g.y[0] * g.y[1]);
  for (int64_t item = 0; item < g.y[0] * g.y[1]; ++item)
    std::fill(y + item * plane, y + (item + 1) * plane, bias[item % g.y[1]]);
}

template <class T, ConvKind kKind>
void conv_kernel(const KernelArgs& a) {
  ConvGeom g = geometry(a, kKind);
  if (a.out.numel() == 0) return;
  bool empty_sum = a.inputs[0]->numel() == 0 || a.inputs[1]->numel() == 0;
  bool has_bias = kKind == ConvKind::forward && a.inputs.size() > 2;
  if (empty_sum && !has_bias) {
    std::memset(a.out.data(), 0, std::size_t(a.out.numel()) * sizeof(T));
    return;
  }
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    using C = std::remove_cv_t<std::remove_pointer_t<decltype(out)>>;
    const C* bias = has_bias ? in[2] : nullptr;
    if (empty_sum) {
      fill_bias<C>(g, bias, out);
    } else if constexpr (std::is_same_v<C, float>) {
      conv_dnnl(g, kKind, in[0], in[1], bias, out);
    } else if constexpr (kKind == ConvKind::forward) {
      conv_forward_direct<C>(g, in[0], in[1], bias, out);
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
    register_kernel("conv3d", DeviceType::cpu, dtype_of_v<T>, conv_kernel<T, ConvKind::forward>);
    register_kernel("conv3d_backward_input", DeviceType::cpu, dtype_of_v<T>,
                    conv_kernel<T, ConvKind::backward_input>);
    register_kernel("conv3d_backward_weight", DeviceType::cpu, dtype_of_v<T>,
                    conv_kernel<T, ConvKind::backward_weight>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
