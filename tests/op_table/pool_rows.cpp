// Rows for the 1-d and 3-d pools, the adaptive pools' 1-d forms and max, and upsampling
// (the 2-d window pools are in conv_rows.cpp). float64 references are plain loops over
// every output and the input positions it reads, for any number of spatial dims.
#include <algorithm>
#include <cmath>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kFloats = {float32, float64, float16, bfloat16};

std::vector<int64_t> unravel(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (std::size_t d = s.size(); d-- > 0;) {
    idx[d] = flat % s[d];
    flat /= s[d];
  }
  return idx;
}

int64_t ravel(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t flat = 0;
  for (std::size_t d = 0; d < s.size(); ++d) flat = flat * s[d] + idx[d];
  return flat;
}

Ref zero_ref(const Shape& s) { return Ref{s, std::vector<double>(std::size_t(numel_of(s)), 0.0)}; }

// ---- pooling

// Per spatial dim: kernel, stride, padding; or (adaptive) an output size.
struct Pool {
  Shape k, s, p;
  bool include_pad = true;
  Shape adaptive;
};

Shape pooled(const Shape& x, const Pool& c) {
  Shape y{x[0], x[1]};
  for (std::size_t d = 0; d + 2 < x.size(); ++d)
    y.push_back(c.adaptive.empty() ? (x[2 + d] + 2 * c.p[d] - c.k[d]) / c.s[d] + 1 : c.adaptive[d]);
  return y;
}

// f(output flat index, input flat indices of its window, divisor) for each output.
template <class F>
void each_window(const Shape& x, const Pool& c, F&& f) {
  Shape y = pooled(x, c);
  std::size_t n = x.size() - 2;
  for (int64_t o = 0; o < numel_of(y); ++o) {
    std::vector<int64_t> oi = unravel(o, y);
    Shape lo, len;  // the window before clipping to the input
    for (std::size_t d = 0; d < n; ++d) {
      if (c.adaptive.empty()) {
        lo.push_back(oi[2 + d] * c.s[d] - c.p[d]);
        len.push_back(c.k[d]);
      } else {
        double in = double(x[2 + d]), out = double(y[2 + d]);
        int64_t a = int64_t(std::floor(double(oi[2 + d]) * in / out));
        int64_t b = int64_t(std::ceil(double(oi[2 + d] + 1) * in / out));
        lo.push_back(a);
        len.push_back(b - a);
      }
    }
    std::vector<int64_t> in;
    for (int64_t t = 0; t < numel_of(len); ++t) {
      std::vector<int64_t> ti = unravel(t, len), xi{oi[0], oi[1]};
      bool inside = true;
      for (std::size_t d = 0; d < n; ++d) {
        int64_t v = lo[d] + ti[d];
        inside = inside && v >= 0 && v < x[2 + d];
        xi.push_back(v);
      }
      if (inside) in.push_back(ravel(xi, x));
    }
    double div = c.adaptive.empty() && c.include_pad ? double(numel_of(len)) : double(in.size());
    f(o, in, div);
  }
}

int64_t first_max(const Ref& x, const std::vector<int64_t>& in) {
  int64_t best = in[0];
  for (int64_t i : in)
    if (x.v[i] > x.v[best]) best = i;
  return best;
}

Ref max_ref(const Ref& x, const Pool& c) {
  Ref y = zero_ref(pooled(x.shape, c));
  each_window(x.shape, c, [&](int64_t o, const std::vector<int64_t>& in, double) {
    y.v[o] = x.v[first_max(x, in)];
  });
  return y;
}

Ref avg_ref(const Ref& x, const Pool& c) {
  Ref y = zero_ref(pooled(x.shape, c));
  each_window(x.shape, c, [&](int64_t o, const std::vector<int64_t>& in, double div) {
    for (int64_t i : in) y.v[o] += x.v[i];
    y.v[o] /= div;
  });
  return y;
}

using Run = std::function<Tensor(const Tensor&)>;

Row pool_row(std::string op, std::string variant, bool max, Pool c, Run run,
             std::vector<Shape> shapes, bool second_order = false,
             std::vector<std::string> also = {}) {
  std::vector<std::vector<Arg>> samples;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    samples.push_back({Arg{.shape = shapes[i], .non_contiguous = i == 1}});
  return Row{.op = std::move(op),
             .variant = std::move(variant),
             .samples = std::move(samples),
             .run = [run](const std::vector<Tensor>& in) { return run(in[0]); },
             .ref =
                 [c, max](const std::vector<Ref>& in) {
                   return max ? max_ref(in[0], c) : avg_ref(in[0], c);
                 },
             .dtypes = kFloats,
             .second_order = second_order,
             .tol_scale = 5,
             .also_covers = std::move(also)};
}

// ---- upsampling

// Per spatial dim: the output size and the user's scale factor (0: none given).
struct Resize {
  Shape size;
  std::vector<double> scale;
  bool linear = false, align_corners = false;
  UpsampleOptions options() const {
    return scale.empty() ? UpsampleOptions{.size = size, .align_corners = align_corners}
                         : UpsampleOptions{.scale_factor = scale, .align_corners = align_corners};
  }
};

Shape resized(const Shape& x, const Resize& r) {
  Shape y{x[0], x[1]};
  for (std::size_t d = 0; d + 2 < x.size(); ++d)
    y.push_back(r.scale.empty() ? r.size[d] : int64_t(std::floor(double(x[2 + d]) * r.scale[d])));
  return y;
}

// The (index, weight) pairs output o reads along one dim. PyTorch computes nearest source
// indices in float; linear positions follow its half-pixel (or aligned corners) convention.
std::vector<std::pair<int64_t, double>> taps(int64_t o, int64_t in, int64_t out, double scale,
                                             const Resize& r) {
  if (!r.linear) {
    float f = scale > 0 ? float(1.0 / scale) : float(in) / float(out);
    return {{std::min(int64_t(std::floor(float(o) * f)), in - 1), 1.0}};
  }
  double pos;
  if (r.align_corners) {
    pos = out > 1 ? double(o) * double(in - 1) / double(out - 1) : 0.0;
  } else {
    double ratio = scale > 0 ? 1.0 / scale : double(in) / double(out);
    pos = std::max((double(o) + 0.5) * ratio - 0.5, 0.0);
  }
  int64_t i0 = std::min(int64_t(std::floor(pos)), in - 1);
  int64_t i1 = std::min(i0 + 1, in - 1);
  double t = std::clamp(pos - double(i0), 0.0, 1.0);
  return {{i0, 1 - t}, {i1, t}};
}

Ref resize_ref(const Ref& x, const Resize& r) {
  Shape ys = resized(x.shape, r);
  Ref y = zero_ref(ys);
  std::size_t n = ys.size() - 2;
  for (int64_t o = 0; o < numel_of(ys); ++o) {
    std::vector<int64_t> oi = unravel(o, ys);
    std::vector<std::vector<std::pair<int64_t, double>>> per_dim;
    for (std::size_t d = 0; d < n; ++d)
      per_dim.push_back(
          taps(oi[2 + d], x.shape[2 + d], ys[2 + d], r.scale.empty() ? 0.0 : r.scale[d], r));
    // Every combination of one tap per dim.
    int64_t combos = 1;
    for (const auto& t : per_dim) combos *= int64_t(t.size());
    for (int64_t c = 0; c < combos; ++c) {
      std::vector<int64_t> xi{oi[0], oi[1]};
      double w = 1;
      int64_t rest = c;
      for (const auto& t : per_dim) {
        const auto& [i, wt] = t[std::size_t(rest % int64_t(t.size()))];
        rest /= int64_t(t.size());
        xi.push_back(i);
        w *= wt;
      }
      y.v[o] += w * x.v[ravel(xi, x.shape)];
    }
  }
  return y;
}

Row resize_row(std::string variant, Resize r, std::vector<Shape> shapes) {
  std::vector<std::vector<Arg>> samples;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    samples.push_back({Arg{.shape = shapes[i], .non_contiguous = i == 1}});
  std::string op = r.linear ? "upsample_linear" : "upsample_nearest";
  return Row{.op = op,
             .variant = std::move(variant),
             .samples = std::move(samples),
             .run =
                 [r](const std::vector<Tensor>& in) {
                   const Tensor& x = in[0];
                   if (!r.linear) return upsample_nearest(x, r.options());
                   if (x.ndim() == 3) return upsample_linear(x, r.options());
                   if (x.ndim() == 4) return upsample_bilinear(x, r.options());
                   return upsample_trilinear(x, r.options());
                 },
             .ref = [r](const std::vector<Ref>& in) { return resize_ref(in[0], r); },
             .dtypes = kFloats,
             .second_order = true,
             .tol_scale = 5,
             .also_covers = {op + "_backward"}};
}

NABLA_OP_ROWS(
    // 1-d pools run the 2-d ops on (N, C, 1, L).
    pool_row("max_pool2d", "pool1d_k3_s2_p1", true, {{3}, {2}, {1}},
             [](const Tensor& x) { return max_pool1d(x, 3, 2, 1); },
             {{2, 3, 9}, {1, 4, 10}, {16, 32, 200}, {0, 2, 5}}),
    pool_row("max_pool2d", "pool1d_k2", true, {{2}, {2}, {0}},
             [](const Tensor& x) { return max_pool1d(x, 2); }, {{1, 2, 7}, {2, 3, 8}}),
    pool_row("max_pool2d", "pool1d_k4_s1_p2", true, {{4}, {1}, {2}},
             [](const Tensor& x) { return max_pool1d(x, 4, 1, 2); },
             {{2, 3, 9}, {1, 4, 10}, {16, 32, 200}}),
    pool_row("max_pool2d", "pool1d_k5_s3_p2", true, {{5}, {3}, {2}},
             [](const Tensor& x) { return max_pool1d(x, 5, 3, 2); },
             {{2, 3, 11}, {1, 4, 10}, {16, 32, 200}}),
    pool_row("avg_pool2d", "pool1d_k4_p2_exclude", false, {{4}, {1}, {2}, false},
             [](const Tensor& x) { return avg_pool1d(x, 4, 1, 2, false); },
             {{2, 3, 9}, {1, 4, 10}, {16, 32, 200}}),
    pool_row("avg_pool2d", "pool1d_k3_s2_p1", false, {{3}, {2}, {1}},
             [](const Tensor& x) { return avg_pool1d(x, 3, 2, 1); }, {{1, 2, 7}, {2, 3, 8}}),
    pool_row("max_pool3d", "k2", true, {{2, 2, 2}, {2, 2, 2}, {0, 0, 0}},
             [](const Tensor& x) { return max_pool3d(x, {2}); },
             {{1, 1, 2, 4, 4}, {1, 2, 3, 5, 4}, {2, 8, 16, 16, 16}, {0, 2, 4, 4, 4}}, true,
             {"max_pool3d_backward", "max_pool3d_select"}),
    pool_row("max_pool3d", "k323_s212_p101", true, {{3, 2, 3}, {2, 1, 2}, {1, 0, 1}},
             [](const Tensor& x) {
               return max_pool3d(x, {3, 2, 3}, {2, 1, 2}, {1, 0, 1});
             },
             {{1, 2, 5, 4, 5}, {2, 1, 4, 3, 6}, {2, 4, 17, 12, 19}}),
    pool_row("avg_pool3d", "k2", false, {{2, 2, 2}, {2, 2, 2}, {0, 0, 0}},
             [](const Tensor& x) { return avg_pool3d(x, {2}); },
             {{1, 1, 2, 4, 4}, {1, 2, 3, 5, 4}, {2, 8, 16, 16, 16}, {0, 2, 4, 4, 4}}, true,
             {"avg_pool3d_backward"}),
    pool_row("avg_pool3d", "k332_s221_p110", false, {{3, 3, 2}, {2, 2, 1}, {1, 1, 0}},
             [](const Tensor& x) {
               return avg_pool3d(x, {3, 3, 2}, {2, 2, 1}, {1, 1, 0});
             },
             {{1, 2, 5, 4, 5}, {2, 1, 4, 3, 6}, {2, 4, 17, 12, 19}}),
    pool_row(
        "avg_pool3d", "exclude_pad", false, {{3, 3, 2}, {2, 2, 1}, {1, 1, 0}, false},
        [](const Tensor& x) {
          return avg_pool3d(x, {3, 3, 2}, {2, 2, 1}, {1, 1, 0}, false);
        },
        {{1, 2, 5, 4, 5}, {2, 1, 4, 3, 6}, {2, 4, 17, 12, 19}}, true),
    pool_row("adaptive_avg_pool2d", "pool1d", false, {.adaptive = {3}},
             [](const Tensor& x) { return adaptive_avg_pool1d(x, 3); },
             {{2, 3, 7}, {1, 4, 10}, {16, 32, 201}}),
    pool_row("adaptive_max_pool2d", "uneven", true, {.adaptive = {3, 3}},
             [](const Tensor& x) { return adaptive_max_pool2d(x, {3}); },
             {{1, 1, 5, 7}, {2, 3, 4, 4}, {8, 16, 31, 29}}, true,
             {"adaptive_max_pool2d_backward", "adaptive_max_pool2d_select"}),
    pool_row("adaptive_max_pool2d", "divisible", true, {.adaptive = {2, 1}},
             [](const Tensor& x) {
               return adaptive_max_pool2d(x, {2, 1});
             },
             {{1, 2, 4, 6}, {2, 3, 6, 3}, {8, 16, 28, 28}}),
    pool_row("adaptive_max_pool2d", "pool1d", true, {.adaptive = {4}},
             [](const Tensor& x) { return adaptive_max_pool1d(x, 4); },
             {{2, 3, 7}, {1, 4, 10}, {16, 32, 201}}),

    resize_row("scale2", {.scale = {2, 2}},
               {{1, 1, 3, 4}, {2, 3, 4, 5}, {4, 8, 64, 64}, {0, 2, 3, 3}}),
    resize_row("size_up", {.size = {5, 7}}, {{1, 1, 3, 4}, {2, 3, 3, 4}, {4, 8, 3, 4}}),
    resize_row("size_down", {.size = {2, 3}}, {{1, 1, 5, 7}, {2, 3, 5, 7}}),
    resize_row("pool1d_scale2_5", {.scale = {2.5}}, {{1, 2, 5}, {2, 3, 7}, {64, 64, 20}}),
    resize_row("pool3d_scale", {.scale = {2, 1.5, 3}}, {{1, 1, 2, 3, 2}, {2, 2, 3, 3, 4}}),
    resize_row("bilinear_size", {.size = {5, 7}, .linear = true},
               {{1, 1, 3, 4}, {2, 3, 3, 4}, {4, 8, 60, 40}, {0, 2, 3, 3}}),
    resize_row("bilinear_down", {.size = {2, 3}, .linear = true}, {{1, 1, 5, 7}, {2, 3, 5, 7}}),
    resize_row("bilinear_scale", {.scale = {2, 1.5}, .linear = true},
               {{1, 1, 3, 4}, {2, 3, 3, 5}, {4, 8, 50, 41}}),
    resize_row("bilinear_align", {.size = {5, 7}, .linear = true, .align_corners = true},
               {{1, 1, 3, 4}, {2, 3, 3, 4}, {4, 8, 60, 40}}),
    resize_row("bilinear_align_one", {.size = {1, 3}, .linear = true, .align_corners = true},
               {{1, 1, 3, 4}, {2, 3, 2, 5}}),
    resize_row("linear_scale2_5", {.scale = {2.5}, .linear = true}, {{1, 2, 5}, {2, 3, 7}}),
    resize_row("trilinear", {.size = {3, 5, 4}, .linear = true},
               {{1, 1, 2, 3, 2}, {2, 2, 3, 3, 4}, {2, 4, 16, 16, 16}}),
    resize_row("trilinear_align", {.size = {3, 5, 4}, .linear = true, .align_corners = true},
               {{1, 1, 2, 3, 2}, {2, 2, 3, 3, 4}}));

}  // namespace
}  // namespace nabla::optable
