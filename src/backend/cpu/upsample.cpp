// CPU kernels of upsampling and its gradients. Resizing is separable: along each spatial dim,
// output o reads input i0[o] with weight l0[o] and i1[o] with l1[o] (nearest: one source,
// weight 1). The tables are computed with PyTorch's formulas and precision, so outputs match
// torch.nn.functional.interpolate. The forward runs over output rows in parallel; the gradient
// scatters into one (N, C) plane per task, so it stays deterministic.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/conv_common.h"
#include "backend/cpu/dtype_switch.h"

namespace nabla::cpu {
namespace {

constexpr const char* kScaleNames[] = {"scale0", "scale1", "scale2"};

template <class C>
struct Axis {
  int64_t in = 1, out = 1;
  int taps = 1;  // 2 for a linear dim, 1 for a nearest or absent one
  std::vector<int64_t> i0{0}, i1{0};
  std::vector<C> l0{C(1)}, l1{C(0)};
};

// PyTorch's nearest_idx: the scale is float, from the user's factor when one was given.
int64_t nearest_source(int64_t o, int64_t in, int64_t out, double user_scale) {
  if (out == in) return o;
  if (out == 2 * in) return o >> 1;
  float scale = user_scale > 0 ? float(1.0 / user_scale) : float(in) / float(out);
  return std::min(int64_t(std::floor(float(o) * scale)), in - 1);
}

// PyTorch's area_pixel_compute_scale / _source_index and linear weights, in C (float for
// float32, float16 and bfloat16, double for float64).
template <class C>
void linear_table(Axis<C>& ax, bool align_corners, double user_scale) {
  C scale = align_corners ? (ax.out > 1 ? C(ax.in - 1) / C(ax.out - 1) : C(0))
                          : (user_scale > 0 ? C(1.0 / user_scale) : C(ax.in) / C(ax.out));
  for (int64_t o = 0; o < ax.out; ++o) {
    C src = align_corners ? scale * C(o) : C(double(scale) * (double(o) + 0.5) - 0.5);
    if (src < C(0)) src = C(0);
    int64_t i0 = std::min(int64_t(std::floor(src)), ax.in - 1);
    C lambda = std::min(std::max(src - C(i0), C(0)), C(1));
    ax.i0[o] = i0;
    ax.i1[o] = i0 + (i0 < ax.in - 1 ? 1 : 0);
    ax.l0[o] = C(1) - lambda;
    ax.l1[o] = lambda;
  }
}

template <class C>
struct Resize {
  int64_t planes = 0;
  bool nearest = true;
  std::array<Axis<C>, 3> d;  // depth, height, width (leading ones absent for fewer dims)
  int64_t in_plane() const { return d[0].in * d[1].in * d[2].in; }
  int64_t out_plane() const { return d[0].out * d[1].out * d[2].out; }
};

// x: the input side of the forward; y: the resized side.
template <class C>
Resize<C> geometry(const Shape& x, const Shape& y, const Attrs& a, bool nearest) {
  Resize<C> r;
  r.planes = x[0] * x[1];
  r.nearest = nearest;
  std::size_t n = x.size() - 2, first = 3 - n;
  bool align = a.get_or<bool>("align_corners", false);
  for (std::size_t i = 0; i < n; ++i) {
    Axis<C>& ax = r.d[first + i];
    ax.in = x[2 + i];
    ax.out = y[2 + i];
    ax.taps = nearest ? 1 : 2;
    ax.i0.assign(std::size_t(ax.out), 0);
    ax.i1.assign(std::size_t(ax.out), 0);
    ax.l0.assign(std::size_t(ax.out), C(1));
    ax.l1.assign(std::size_t(ax.out), C(0));
    double user_scale = a.get_or<double>(kScaleNames[i], 0.0);
    if (nearest) {
      for (int64_t o = 0; o < ax.out; ++o)
        ax.i0[o] = ax.i1[o] = nearest_source(o, ax.in, ax.out, user_scale);
    } else {
      linear_table(ax, align, user_scale);
    }
  }
  return r;
}

// The (up to 4) input rows that output row (od, oh) reads, with their weights.
template <class C>
int source_rows(const Resize<C>& r, int64_t od, int64_t oh, std::array<int64_t, 4>& row,
                std::array<C, 4>& weight) {
  const Axis<C>&D = r.d[0], &H = r.d[1];
  int n = 0;
  for (int a = 0; a < D.taps; ++a)
    for (int b = 0; b < H.taps; ++b) {
      int64_t id = a ? D.i1[od] : D.i0[od], ih = b ? H.i1[oh] : H.i0[oh];
      row[n] = (id * H.in + ih) * r.d[2].in;
      weight[n++] = (a ? D.l1[od] : D.l0[od]) * (b ? H.l1[oh] : H.l0[oh]);
    }
  return n;
}

template <class C>
void resize_forward(const Resize<C>& r, const C* x, C* y) {
  const Axis<C>&D = r.d[0], &H = r.d[1], &W = r.d[2];
  const int64_t rows = r.planes * D.out * H.out;
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, W.out * 4)),
               [&](int64_t b, int64_t e) {
                 std::array<int64_t, 4> src;
                 std::array<C, 4> wt;
                 for (int64_t row = b; row < e; ++row) {
                   int64_t p = row / (D.out * H.out), od = row / H.out % D.out, oh = row % H.out;
                   const C* xp = x + p * r.in_plane();
                   C* yr = y + row * W.out;
                   int n = source_rows(r, od, oh, src, wt);
                   if (r.nearest) {
                     const C* s = xp + src[0];
                     for (int64_t ow = 0; ow < W.out; ++ow) yr[ow] = s[W.i0[ow]];
                     continue;
                   }
                   for (int64_t ow = 0; ow < W.out; ++ow) {
                     int64_t w0 = W.i0[ow], w1 = W.i1[ow];
                     C acc = 0;
                     for (int k = 0; k < n; ++k) {
                       const C* s = xp + src[k];
                       acc += wt[k] * (W.l0[ow] * s[w0] + W.l1[ow] * s[w1]);
                     }
                     yr[ow] = acc;
                   }
                 }
               });
}

template <class C>
void resize_backward(const Resize<C>& r, const C* gy, C* gx) {
  const Axis<C>&D = r.d[0], &H = r.d[1], &W = r.d[2];
  int64_t work = r.out_plane() * (r.nearest ? 1 : 8);
  parallel_for(r.planes, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, work)),
               [&](int64_t b, int64_t e) {
                 std::array<int64_t, 4> src;
                 std::array<C, 4> wt;
                 for (int64_t p = b; p < e; ++p) {
                   C* out = gx + p * r.in_plane();
                   std::fill(out, out + r.in_plane(), C(0));
                   const C* gp = gy + p * r.out_plane();
                   for (int64_t od = 0; od < D.out; ++od)
                     for (int64_t oh = 0; oh < H.out; ++oh) {
                       const C* gr = gp + (od * H.out + oh) * W.out;
                       int n = source_rows(r, od, oh, src, wt);
                       if (r.nearest) {
                         C* s = out + src[0];
                         for (int64_t ow = 0; ow < W.out; ++ow) s[W.i0[ow]] += gr[ow];
                         continue;
                       }
                       for (int k = 0; k < n; ++k) {
                         C* s = out + src[k];
                         for (int64_t ow = 0; ow < W.out; ++ow) {
                           C v = wt[k] * gr[ow];
                           s[W.i0[ow]] += W.l0[ow] * v;
                           s[W.i1[ow]] += W.l1[ow] * v;
                         }
                       }
                     }
                 }
               });
}

bool empty_io(const KernelArgs& a) {
  if (a.out.numel() == 0) return true;
  if (a.inputs[0]->numel() == 0) {
    std::memset(a.out.data(), 0, std::size_t(a.out.numel()) * itemsize(a.out.dtype));
    return true;
  }
  return false;
}

template <class T, bool Nearest>
void forward_kernel(const KernelArgs& a) {
  if (empty_io(a)) return;
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    using C = std::remove_pointer_t<decltype(out)>;
    resize_forward(geometry<C>(a.inputs[0]->shape, a.out.shape, a.attrs, Nearest), in[0], out);
  });
}

template <class T, bool Nearest>
void backward_kernel(const KernelArgs& a) {
  if (empty_io(a)) return;
  with_contiguous<T>(a, [&](const auto& in, auto* out) {
    using C = std::remove_pointer_t<decltype(out)>;
    resize_backward(geometry<C>(a.out.shape, a.inputs[0]->shape, a.attrs, Nearest), in[0], out);
  });
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    DType t = dtype_of_v<T>;
    register_kernel("upsample_nearest", DeviceType::cpu, t, forward_kernel<T, true>);
    register_kernel("upsample_nearest_backward", DeviceType::cpu, t, backward_kernel<T, true>);
    register_kernel("upsample_linear", DeviceType::cpu, t, forward_kernel<T, false>);
    register_kernel("upsample_linear_backward", DeviceType::cpu, t, backward_kernel<T, false>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
