// Rows for convolution and pooling: direct float64 references written as plain loops over
// every (output, tap) pair, scattering where the kernels gather and vice versa.
#include <algorithm>
#include <cmath>
#include <limits>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kFloats = {float32, float64, float16, bfloat16};

struct ConvCfg {
  Shape stride{1, 1}, pad{0, 0, 0, 0}, dil{1, 1};  // pad: top, left, bottom, right
  int64_t groups = 1;
  Conv2dOptions options() const {
    return {.stride = stride, .padding = pad, .dilation = dil, .groups = groups};
  }
};

int64_t at4(const Shape& s, int64_t a, int64_t b, int64_t c, int64_t d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}

Shape conv_out(const Shape& x, const Shape& w, const ConvCfg& c) {
  auto o = [&](int i) {
    return (x[2 + i] + c.pad[i] + c.pad[2 + i] - c.dil[i] * (w[2 + i] - 1) - 1) / c.stride[i] + 1;
  };
  return {x[0], w[0], o(0), o(1)};
}

// Visits every (input element, weight element, output element) triple that the convolution
// multiplies together, as flat indices.
template <class F>
void conv_triples(const Shape& x, const Shape& w, const ConvCfg& c, F&& f) {
  Shape y = conv_out(x, w, c);
  int64_t cpg = x[1] / c.groups, opg = w[0] / c.groups;
  for (int64_t n = 0; n < y[0]; ++n)
    for (int64_t o = 0; o < y[1]; ++o)
      for (int64_t oh = 0; oh < y[2]; ++oh)
        for (int64_t ow = 0; ow < y[3]; ++ow)
          for (int64_t ci = 0; ci < cpg; ++ci)
            for (int64_t kh = 0; kh < w[2]; ++kh)
              for (int64_t kw = 0; kw < w[3]; ++kw) {
                int64_t ih = oh * c.stride[0] - c.pad[0] + kh * c.dil[0];
                int64_t iw = ow * c.stride[1] - c.pad[1] + kw * c.dil[1];
                if (ih < 0 || ih >= x[2] || iw < 0 || iw >= x[3]) continue;
                int64_t ch = (o / opg) * cpg + ci;
                f(at4(x, n, ch, ih, iw), at4(w, o, ci, kh, kw), at4(y, n, o, oh, ow));
              }
}

Ref zeros_ref(const Shape& s) { return Ref{s, std::vector<double>(std::size_t(numel_of(s)), 0.0)}; }

Ref conv_ref(const Ref& x, const Ref& w, const ConvCfg& c) {
  Ref y = zeros_ref(conv_out(x.shape, w.shape, c));
  conv_triples(x.shape, w.shape, c,
               [&](int64_t i, int64_t k, int64_t o) { y.v[o] += x.v[i] * w.v[k]; });
  return y;
}

Ref conv_input_grad_ref(const Ref& g, const Ref& w, const Shape& xs, const ConvCfg& c) {
  Ref gx = zeros_ref(xs);
  conv_triples(xs, w.shape, c,
               [&](int64_t i, int64_t k, int64_t o) { gx.v[i] += g.v[o] * w.v[k]; });
  return gx;
}

Ref conv_weight_grad_ref(const Ref& x, const Ref& g, const Shape& ws, const ConvCfg& c) {
  Ref gw = zeros_ref(ws);
  conv_triples(x.shape, ws, c,
               [&](int64_t i, int64_t k, int64_t o) { gw.v[k] += x.v[i] * g.v[o]; });
  return gw;
}

Row conv_row(std::string variant, ConvCfg c, std::vector<std::vector<Arg>> samples,
             bool second = false) {
  return Row{
      .op = "conv2d",
      .variant = std::move(variant),
      .samples = std::move(samples),
      .run = [c](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], {}, c.options()); },
      .ref = [c](const std::vector<Ref>& in) { return conv_ref(in[0], in[1], c); },
      .dtypes = kFloats,
      .second_order = second,
      .tol_scale = 10};
}

// Rows of the gradient ops, over (g, w) and (x, g) samples made for input x and weight w.
Row input_grad_row(std::string variant, ConvCfg c, Shape xs, Shape ws, Shape big_x, Shape big_w) {
  auto sample = [&](const Shape& x, const Shape& w) {
    return std::vector<Arg>{Arg{.shape = conv_out(x, w, c)}, Arg{.shape = w}};
  };
  return Row{
      .op = "conv2d_backward_input",
      .variant = std::move(variant),
      .samples = {sample(xs, ws), sample(big_x, big_w)},
      .run =
          [c](const std::vector<Tensor>& in) {
            const Shape &g = in[0].shape(), &w = in[1].shape();
            // The input's size is the one the forward would have taken (no leftover rows).
            Shape x{g[0], w[1] * c.groups,
                    (g[2] - 1) * c.stride[0] - c.pad[0] - c.pad[2] + c.dil[0] * (w[2] - 1) + 1,
                    (g[3] - 1) * c.stride[1] - c.pad[1] - c.pad[3] + c.dil[1] * (w[3] - 1) + 1};
            return conv2d_backward_input(in[0], in[1], x, c.options());
          },
      .ref =
          [c](const std::vector<Ref>& in) {
            const Shape &g = in[0].shape, &w = in[1].shape;
            Shape x{g[0], w[1] * c.groups,
                    (g[2] - 1) * c.stride[0] - c.pad[0] - c.pad[2] + c.dil[0] * (w[2] - 1) + 1,
                    (g[3] - 1) * c.stride[1] - c.pad[1] - c.pad[3] + c.dil[1] * (w[3] - 1) + 1};
            return conv_input_grad_ref(in[0], in[1], x, c);
          },
      .dtypes = kFloats,
      .second_order = true,
      .tol_scale = 10};
}

Row weight_grad_row(std::string variant, ConvCfg c, Shape xs, Shape ws, Shape big_x, Shape big_w) {
  auto sample = [&](const Shape& x, const Shape& w) {
    return std::vector<Arg>{Arg{.shape = x}, Arg{.shape = conv_out(x, w, c)}};
  };
  // The kernel size is what maps x's size to g's (the samples use no leftover rows).
  auto wshape = [c](const Shape& x, const Shape& g) {
    return Shape{g[1], x[1] / c.groups,
                 (x[2] + c.pad[0] + c.pad[2] - (g[2] - 1) * c.stride[0] - 1) / c.dil[0] + 1,
                 (x[3] + c.pad[1] + c.pad[3] - (g[3] - 1) * c.stride[1] - 1) / c.dil[1] + 1};
  };
  return Row{.op = "conv2d_backward_weight",
             .variant = std::move(variant),
             .samples = {sample(xs, ws), sample(big_x, big_w)},
             .run =
                 [c, wshape](const std::vector<Tensor>& in) {
                   return conv2d_backward_weight(in[0], in[1], wshape(in[0].shape(), in[1].shape()),
                                                 c.options());
                 },
             .ref =
                 [c, wshape](const std::vector<Ref>& in) {
                   return conv_weight_grad_ref(in[0], in[1], wshape(in[0].shape, in[1].shape), c);
                 },
             .dtypes = kFloats,
             .second_order = true,
             .tol_scale = 20};
}

// ---- pooling

struct PoolCfg {
  Shape k, s, p;
  bool include_pad = true;
};

Shape pool_out(const Shape& x, const PoolCfg& c) {
  return {x[0], x[1], (x[2] + 2 * c.p[0] - c.k[0]) / c.s[0] + 1,
          (x[3] + 2 * c.p[1] - c.k[1]) / c.s[1] + 1};
}

// f(output flat index, list of input flat indices in the window) for each output.
template <class F>
void pool_windows(const Shape& x, const PoolCfg& c, F&& f) {
  Shape y = pool_out(x, c);
  for (int64_t n = 0; n < y[0]; ++n)
    for (int64_t ch = 0; ch < y[1]; ++ch)
      for (int64_t oh = 0; oh < y[2]; ++oh)
        for (int64_t ow = 0; ow < y[3]; ++ow) {
          std::vector<int64_t> in;
          for (int64_t kh = 0; kh < c.k[0]; ++kh)
            for (int64_t kw = 0; kw < c.k[1]; ++kw) {
              int64_t ih = oh * c.s[0] - c.p[0] + kh, iw = ow * c.s[1] - c.p[1] + kw;
              if (ih >= 0 && ih < x[2] && iw >= 0 && iw < x[3]) in.push_back(at4(x, n, ch, ih, iw));
            }
          f(at4(y, n, ch, oh, ow), in);
        }
}

int64_t first_max(const Ref& x, const std::vector<int64_t>& in) {
  int64_t best = in[0];
  for (int64_t i : in)
    if (x.v[i] > x.v[best]) best = i;
  return best;
}

Ref max_pool_ref(const Ref& x, const PoolCfg& c) {
  Ref y = zeros_ref(pool_out(x.shape, c));
  pool_windows(x.shape, c,
               [&](int64_t o, const std::vector<int64_t>& in) { y.v[o] = x.v[first_max(x, in)]; });
  return y;
}

Ref max_pool_backward_ref(const Ref& g, const Ref& x, const PoolCfg& c) {
  Ref gx = zeros_ref(x.shape);
  pool_windows(x.shape, c, [&](int64_t o, const std::vector<int64_t>& in) {
    gx.v[first_max(x, in)] += g.v[o];
  });
  return gx;
}

double divisor(const PoolCfg& c, const std::vector<int64_t>& in) {
  return c.include_pad ? double(c.k[0] * c.k[1]) : double(in.size());
}

Ref avg_pool_ref(const Ref& x, const PoolCfg& c) {
  Ref y = zeros_ref(pool_out(x.shape, c));
  pool_windows(x.shape, c, [&](int64_t o, const std::vector<int64_t>& in) {
    for (int64_t i : in) y.v[o] += x.v[i] / divisor(c, in);
  });
  return y;
}

Ref avg_pool_backward_ref(const Ref& g, const Shape& xs, const PoolCfg& c) {
  Ref gx = zeros_ref(xs);
  pool_windows(xs, c, [&](int64_t o, const std::vector<int64_t>& in) {
    for (int64_t i : in) gx.v[i] += g.v[o] / divisor(c, in);
  });
  return gx;
}

// PyTorch's adaptive windows: [floor(i * n / m), ceil((i + 1) * n / m)).
Ref adaptive_ref(const Ref& x, int64_t oh, int64_t ow) {
  const Shape& s = x.shape;
  Ref y = zeros_ref({s[0], s[1], oh, ow});
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t ch = 0; ch < s[1]; ++ch)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          int64_t h0 = int64_t(std::floor(double(i * s[2]) / double(oh)));
          int64_t h1 = int64_t(std::ceil(double((i + 1) * s[2]) / double(oh)));
          int64_t w0 = int64_t(std::floor(double(j * s[3]) / double(ow)));
          int64_t w1 = int64_t(std::ceil(double((j + 1) * s[3]) / double(ow)));
          double sum = 0;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) sum += x.v[std::size_t(at4(s, n, ch, h, w))];
          y.v[std::size_t(at4(y.shape, n, ch, i, j))] = sum / double((h1 - h0) * (w1 - w0));
        }
  return y;
}

Row max_pool_row(std::string variant, PoolCfg c, std::vector<std::vector<Arg>> samples) {
  return Row{.op = "max_pool2d",
             .variant = std::move(variant),
             .samples = std::move(samples),
             .run = [c](const std::vector<Tensor>& in) { return max_pool2d(in[0], c.k, c.s, c.p); },
             .ref = [c](const std::vector<Ref>& in) { return max_pool_ref(in[0], c); },
             .dtypes = kFloats};
}

Row avg_pool_row(std::string variant, PoolCfg c, std::vector<std::vector<Arg>> samples) {
  return Row{.op = "avg_pool2d",
             .variant = std::move(variant),
             .samples = std::move(samples),
             .run =
                 [c](const std::vector<Tensor>& in) {
                   return avg_pool2d(in[0], c.k, c.s, c.p, c.include_pad);
                 },
             .ref = [c](const std::vector<Ref>& in) { return avg_pool_ref(in[0], c); },
             .dtypes = kFloats,
             .second_order = true,
             .tol_scale = 5};
}

const PoolCfg kPool2{{2, 2}, {2, 2}, {0, 0}};
const PoolCfg kPool3s2p1{{3, 3}, {2, 2}, {1, 1}};
const PoolCfg kPool3s2p1Exclude{{3, 2}, {2, 1}, {1, 1}, false};

NABLA_OP_ROWS(
    conv_row("plain", {},
             {{Arg{.shape = {2, 2, 5, 5}}, Arg{.shape = {3, 2, 3, 3}}},
              {Arg{.shape = {1, 3, 6, 5}, .non_contiguous = true}, Arg{.shape = {2, 3, 2, 2}}},
              {Arg{.shape = {4, 8, 20, 20}}, Arg{.shape = {16, 8, 3, 3}}},
              {Arg{.shape = {0, 2, 5, 5}}, Arg{.shape = {3, 2, 3, 3}}},
              {Arg{.shape = {2, 0, 5, 5}}, Arg{.shape = {3, 0, 3, 3}}}}),
    conv_row("second_order", {.stride = {2, 1}, .pad = {1, 0, 1, 0}},
             {{Arg{.shape = {1, 1, 4, 3}}, Arg{.shape = {2, 1, 2, 2}}}}, true),
    conv_row("stride2_pad", {.stride = {2, 2}, .pad = {1, 2, 1, 2}},
             {{Arg{.shape = {1, 2, 6, 7}}, Arg{.shape = {2, 2, 3, 3}}},
              {Arg{.shape = {2, 16, 15, 15}},
               Arg{.shape = {8, 16, 5, 5}, .non_contiguous = true}}}),
    conv_row("dilation", {.pad = {2, 1, 2, 1}, .dil = {2, 1}},
             {{Arg{.shape = {1, 2, 6, 6}}, Arg{.shape = {2, 2, 3, 2}}},
              {Arg{.shape = {2, 8, 17, 13}}, Arg{.shape = {4, 8, 3, 3}}}}),
    conv_row("groups2", {.stride = {2, 2}, .pad = {1, 1, 1, 1}, .dil = {1, 2}, .groups = 2},
             {{Arg{.shape = {1, 4, 5, 6}}, Arg{.shape = {4, 2, 3, 2}}},
              {Arg{.shape = {2, 16, 19, 19}}, Arg{.shape = {8, 8, 3, 3}}}}),
    conv_row("asymmetric_pad", {.pad = {0, 1, 2, 0}},
             {{Arg{.shape = {1, 2, 4, 5}}, Arg{.shape = {2, 2, 4, 2}}}}),
    Row{.op = "conv2d",
        .variant = "bias_same",
        .samples = {{Arg{.shape = {1, 2, 5, 4}}, Arg{.shape = {3, 2, 4, 3}}, Arg{.shape = {3}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return conv2d(in[0], in[1], in[2], {.same = true});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              // "same" with a 4x3 kernel pads 1 on top, 2 at the bottom, 1 on each side.
              Ref y = conv_ref(in[0], in[1], {.pad = {1, 1, 2, 1}});
              int64_t plane = y.shape[2] * y.shape[3];
              for (std::size_t i = 0; i < y.v.size(); ++i)
                y.v[i] += in[2].v[(int64_t(i) / plane) % y.shape[1]];
              return y;
            },
        .dtypes = kFloats,
        .tol_scale = 10},
    Row{.op = "conv2d",
        .variant = "conv1d",
        .samples = {{Arg{.shape = {2, 4, 9}}, Arg{.shape = {6, 2, 3}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return conv1d(in[0], in[1], {},
                            {.stride = 2, .padding = 1, .dilation = 2, .groups = 2});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              Shape x{in[0].shape[0], in[0].shape[1], 1, in[0].shape[2]};
              Shape w{in[1].shape[0], in[1].shape[1], 1, in[1].shape[2]};
              Ref y = conv_ref(Ref{x, in[0].v}, Ref{w, in[1].v},
                               {.stride = {1, 2}, .pad = {0, 1, 0, 1}, .dil = {1, 2}, .groups = 2});
              return Ref{{y.shape[0], y.shape[1], y.shape[3]}, y.v};
            },
        .dtypes = kFloats,
        .tol_scale = 10},
    input_grad_row("plain", {}, {1, 2, 4, 4}, {2, 2, 3, 3}, {4, 8, 20, 20}, {16, 8, 3, 3}),
    input_grad_row("stride2_groups2",
                   {.stride = {2, 2}, .pad = {1, 1, 1, 1}, .dil = {1, 2}, .groups = 2},
                   {1, 4, 5, 7}, {2, 2, 3, 2}, {2, 16, 15, 15}, {8, 8, 5, 5}),
    weight_grad_row("plain", {}, {1, 2, 4, 4}, {2, 2, 3, 3}, {4, 8, 20, 20}, {16, 8, 3, 3}),
    weight_grad_row("stride2_groups2",
                    {.stride = {2, 2}, .pad = {1, 1, 1, 1}, .dil = {2, 1}, .groups = 2},
                    {1, 4, 7, 5}, {2, 2, 2, 3}, {2, 16, 15, 15}, {8, 8, 5, 5}),

    max_pool_row("k2", kPool2,
                 {{Arg{.shape = {2, 3, 4, 4}}},
                  {Arg{.shape = {1, 2, 5, 6}, .non_contiguous = true}},
                  {Arg{.shape = {8, 16, 32, 32}}},
                  {Arg{.shape = {0, 2, 4, 4}}}}),
    max_pool_row("k3_s2_p1", kPool3s2p1,
                 {{Arg{.shape = {1, 2, 7, 7}}}, {Arg{.shape = {4, 8, 30, 30}}}}),
    Row{.op = "max_pool2d_backward",
        .samples =
            {{Arg{.shape = {1, 2, 2, 2}}, Arg{.shape = {1, 2, 4, 4}, .differentiable = false}},
             {Arg{.shape = {1, 2, 3, 3}}, Arg{.shape = {1, 2, 5, 5}, .differentiable = false}},
             {Arg{.shape = {4, 8, 15, 15}}, Arg{.shape = {4, 8, 30, 30}, .differentiable = false}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return max_pool2d_backward(in[0], in[1], {3, 3}, {2, 2}, {1, 1});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return max_pool_backward_ref(in[0], in[1], kPool3s2p1);
            },
        .dtypes = kFloats,
        .second_order = true,
        .also_covers = {"max_pool2d_select"}},
    avg_pool_row("k2", kPool2,
                 {{Arg{.shape = {2, 3, 4, 4}}},
                  {Arg{.shape = {1, 2, 5, 6}, .non_contiguous = true}},
                  {Arg{.shape = {8, 16, 32, 32}}},
                  {Arg{.shape = {0, 2, 4, 4}}}}),
    avg_pool_row("k3_s2_p1", kPool3s2p1,
                 {{Arg{.shape = {1, 2, 5, 5}}}, {Arg{.shape = {4, 8, 30, 30}}}}),
    avg_pool_row("exclude_pad", kPool3s2p1Exclude,
                 {{Arg{.shape = {1, 2, 5, 4}}}, {Arg{.shape = {4, 8, 30, 30}}}}),
    Row{.op = "avg_pool2d_backward",
        .samples = {{Arg{.shape = {1, 2, 3, 3}}}, {Arg{.shape = {4, 8, 15, 15}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              const Shape& g = in[0].shape();
              return avg_pool2d_backward(in[0], {g[0], g[1], g[2] * 2, g[3] * 2}, {3, 3}, {2, 2},
                                         {1, 1});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              const Shape& g = in[0].shape;
              return avg_pool_backward_ref(in[0], {g[0], g[1], g[2] * 2, g[3] * 2}, kPool3s2p1);
            },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5},
    Row{.op = "adaptive_avg_pool2d",
        .variant = "uneven",
        .samples = {{Arg{.shape = {1, 2, 5, 7}}},
                    {Arg{.shape = {2, 3, 4, 4}, .non_contiguous = true}},
                    {Arg{.shape = {8, 16, 31, 29}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return adaptive_avg_pool2d(in[0], {3, 3});
            },
        .ref = [](const std::vector<Ref>& in) { return adaptive_ref(in[0], 3, 3); },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5,
        .also_covers = {"adaptive_avg_pool2d_backward"}},
    Row{.op = "adaptive_avg_pool2d",
        .variant = "divisible",
        .samples = {{Arg{.shape = {1, 2, 4, 6}}}, {Arg{.shape = {8, 16, 28, 28}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return adaptive_avg_pool2d(in[0], {2, 1});
            },
        .ref = [](const std::vector<Ref>& in) { return adaptive_ref(in[0], 2, 1); },
        .dtypes = kFloats,
        .tol_scale = 5});

// ---- conv3d and the transposed convolutions

struct Conv3Cfg {
  Shape stride{1, 1, 1}, pad{0, 0, 0, 0, 0, 0}, dil{1, 1, 1};  // pad: front, top, left, back...
  int64_t groups = 1;
  Conv3dOptions options() const {
    return {.stride = stride, .padding = pad, .dilation = dil, .groups = groups};
  }
};

int64_t at5(const Shape& s, int64_t a, int64_t b, int64_t c, int64_t d, int64_t e) {
  return (((a * s[1] + b) * s[2] + c) * s[3] + d) * s[4] + e;
}

Shape conv3_out(const Shape& x, const Shape& w, const Conv3Cfg& c) {
  Shape y{x[0], w[0]};
  for (int i = 0; i < 3; ++i)
    y.push_back((x[2 + i] + c.pad[i] + c.pad[3 + i] - c.dil[i] * (w[2 + i] - 1) - 1) / c.stride[i] +
                1);
  return y;
}

// The input size a gradient g of a conv3d by w came from (no leftover rows).
Shape conv3_in(const Shape& g, const Shape& w, const Conv3Cfg& c) {
  Shape x{g[0], w[1] * c.groups};
  for (int i = 0; i < 3; ++i)
    x.push_back((g[2 + i] - 1) * c.stride[i] - c.pad[i] - c.pad[3 + i] + c.dil[i] * (w[2 + i] - 1) +
                1);
  return x;
}

// The kernel size that maps input x to gradient g.
Shape conv3_kernel(const Shape& x, const Shape& g, const Conv3Cfg& c) {
  Shape w{g[1], x[1] / c.groups};
  for (int i = 0; i < 3; ++i)
    w.push_back((x[2 + i] + c.pad[i] + c.pad[3 + i] - (g[2 + i] - 1) * c.stride[i] - 1) / c.dil[i] +
                1);
  return w;
}

template <class F>
void conv3_triples(const Shape& x, const Shape& w, const Conv3Cfg& c, F&& f) {
  Shape y = conv3_out(x, w, c);
  int64_t cpg = x[1] / c.groups, opg = w[0] / c.groups;
  for (int64_t n = 0; n < y[0]; ++n)
    for (int64_t o = 0; o < y[1]; ++o)
      for (int64_t od = 0; od < y[2]; ++od)
        for (int64_t oh = 0; oh < y[3]; ++oh)
          for (int64_t ow = 0; ow < y[4]; ++ow)
            for (int64_t ci = 0; ci < cpg; ++ci)
              for (int64_t kd = 0; kd < w[2]; ++kd)
                for (int64_t kh = 0; kh < w[3]; ++kh)
                  for (int64_t kw = 0; kw < w[4]; ++kw) {
                    int64_t id = od * c.stride[0] - c.pad[0] + kd * c.dil[0];
                    int64_t ih = oh * c.stride[1] - c.pad[1] + kh * c.dil[1];
                    int64_t iw = ow * c.stride[2] - c.pad[2] + kw * c.dil[2];
                    if (id < 0 || id >= x[2] || ih < 0 || ih >= x[3] || iw < 0 || iw >= x[4])
                      continue;
                    int64_t ch = (o / opg) * cpg + ci;
                    f(at5(x, n, ch, id, ih, iw), at5(w, o, ci, kd, kh, kw),
                      at5(y, n, o, od, oh, ow));
                  }
}

Row conv3d_row(std::string variant, Conv3Cfg c, std::vector<std::vector<Arg>> samples,
               bool second = false) {
  return Row{
      .op = "conv3d",
      .variant = std::move(variant),
      .samples = std::move(samples),
      .run = [c](const std::vector<Tensor>& in) { return conv3d(in[0], in[1], {}, c.options()); },
      .ref =
          [c](const std::vector<Ref>& in) {
            Ref y = zeros_ref(conv3_out(in[0].shape, in[1].shape, c));
            conv3_triples(in[0].shape, in[1].shape, c, [&](int64_t i, int64_t k, int64_t o) {
              y.v[o] += in[0].v[i] * in[1].v[k];
            });
            return y;
          },
      .dtypes = kFloats,
      .second_order = second,
      .tol_scale = 10};
}

// Samples (g, w) for inputs x and weights w.
Row conv3d_input_grad_row(std::string variant, Conv3Cfg c,
                          std::vector<std::pair<Shape, Shape>> xw) {
  std::vector<std::vector<Arg>> samples;
  for (auto& [x, w] : xw) samples.push_back({Arg{.shape = conv3_out(x, w, c)}, Arg{.shape = w}});
  return Row{.op = "conv3d_backward_input",
             .variant = std::move(variant),
             .samples = std::move(samples),
             .run =
                 [c](const std::vector<Tensor>& in) {
                   return conv3d_backward_input(
                       in[0], in[1], conv3_in(in[0].shape(), in[1].shape(), c), c.options());
                 },
             .ref =
                 [c](const std::vector<Ref>& in) {
                   Shape xs = conv3_in(in[0].shape, in[1].shape, c);
                   Ref gx = zeros_ref(xs);
                   conv3_triples(xs, in[1].shape, c, [&](int64_t i, int64_t k, int64_t o) {
                     gx.v[i] += in[0].v[o] * in[1].v[k];
                   });
                   return gx;
                 },
             .dtypes = kFloats,
             .second_order = true,
             .tol_scale = 10};
}

// Samples (x, g) for inputs x and weights w.
Row conv3d_weight_grad_row(std::string variant, Conv3Cfg c,
                           std::vector<std::pair<Shape, Shape>> xw) {
  std::vector<std::vector<Arg>> samples;
  for (auto& [x, w] : xw) samples.push_back({Arg{.shape = x}, Arg{.shape = conv3_out(x, w, c)}});
  return Row{.op = "conv3d_backward_weight",
             .variant = std::move(variant),
             .samples = std::move(samples),
             .run =
                 [c](const std::vector<Tensor>& in) {
                   return conv3d_backward_weight(
                       in[0], in[1], conv3_kernel(in[0].shape(), in[1].shape(), c), c.options());
                 },
             .ref =
                 [c](const std::vector<Ref>& in) {
                   Shape ws = conv3_kernel(in[0].shape, in[1].shape, c);
                   Ref gw = zeros_ref(ws);
                   conv3_triples(in[0].shape, ws, c, [&](int64_t i, int64_t k, int64_t o) {
                     gw.v[k] += in[0].v[i] * in[1].v[o];
                   });
                   return gw;
                 },
             .dtypes = kFloats,
             .second_order = true,
             .tol_scale = 20};
}

// The transposed convolution as PyTorch defines it: every input element scatters
// x * w into the output at i * stride - padding + k * dilation.
Ref conv_transpose_ref(const Ref& x, const Ref& w, const ConvTranspose2dOptions& o) {
  const Shape &xs = x.shape, &ws = w.shape;
  int64_t opg = ws[1], ipg = xs[1] / o.groups;
  Shape ys{xs[0], opg * o.groups};
  for (int i = 0; i < 2; ++i)
    ys.push_back((xs[2 + i] - 1) * o.stride[i] - 2 * o.padding[i] +
                 o.dilation[i] * (ws[2 + i] - 1) + o.output_padding[i] + 1);
  Ref y = zeros_ref(ys);
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t c = 0; c < xs[1]; ++c)
      for (int64_t h = 0; h < xs[2]; ++h)
        for (int64_t v = 0; v < xs[3]; ++v)
          for (int64_t oc = 0; oc < opg; ++oc)
            for (int64_t kh = 0; kh < ws[2]; ++kh)
              for (int64_t kw = 0; kw < ws[3]; ++kw) {
                int64_t oh = h * o.stride[0] - o.padding[0] + kh * o.dilation[0];
                int64_t ow = v * o.stride[1] - o.padding[1] + kw * o.dilation[1];
                if (oh < 0 || oh >= ys[2] || ow < 0 || ow >= ys[3]) continue;
                y.v[at4(ys, n, (c / ipg) * opg + oc, oh, ow)] +=
                    x.v[at4(xs, n, c, h, v)] * w.v[at4(ws, c, oc, kh, kw)];
              }
  return y;
}

Row conv_transpose_row(std::string variant, ConvTranspose2dOptions o,
                       std::vector<std::vector<Arg>> samples, bool second = false) {
  return Row{.op = "conv2d_backward_input",
             .variant = "conv_transpose2d_" + variant,
             .samples = std::move(samples),
             .run =
                 [o](const std::vector<Tensor>& in) {
                   return conv_transpose2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), o);
                 },
             .ref =
                 [o](const std::vector<Ref>& in) {
                   Ref y = conv_transpose_ref(in[0], in[1], o);
                   if (in.size() > 2) {
                     int64_t plane = y.shape[2] * y.shape[3];
                     for (std::size_t i = 0; i < y.v.size(); ++i)
                       y.v[i] += in[2].v[std::size_t((int64_t(i) / plane) % y.shape[1])];
                   }
                   return y;
                 },
             .dtypes = kFloats,
             .second_order = second,
             .tol_scale = 10};
}

NABLA_OP_ROWS(
    conv3d_row("plain", {},
               {{Arg{.shape = {1, 2, 3, 4, 4}}, Arg{.shape = {2, 2, 2, 2, 2}}},
                {Arg{.shape = {1, 2, 4, 3, 5}, .non_contiguous = true},
                 Arg{.shape = {3, 2, 2, 1, 2}}},
                {Arg{.shape = {2, 4, 8, 12, 12}}, Arg{.shape = {8, 4, 3, 3, 3}}},
                {Arg{.shape = {0, 2, 4, 4, 4}}, Arg{.shape = {3, 2, 2, 2, 2}}},
                {Arg{.shape = {1, 0, 4, 4, 4}}, Arg{.shape = {3, 0, 2, 2, 2}}}}),
    conv3d_row(
        "stride_pad_dilation", {.stride = {2, 1, 2}, .pad = {1, 0, 1, 0, 2, 1}, .dil = {1, 2, 1}},
        {{Arg{.shape = {1, 1, 4, 5, 4}}, Arg{.shape = {2, 1, 2, 2, 3}}},
         {Arg{.shape = {2, 4, 9, 11, 10}}, Arg{.shape = {6, 4, 3, 3, 3}, .non_contiguous = true}}},
        true),
    conv3d_row("groups2", {.stride = {1, 2, 2}, .pad = {1, 1, 1, 1, 1, 1}, .groups = 2},
               {{Arg{.shape = {1, 4, 3, 4, 3}}, Arg{.shape = {4, 2, 2, 2, 2}}},
                {Arg{.shape = {2, 8, 8, 13, 13}}, Arg{.shape = {6, 4, 3, 3, 3}}}}),
    Row{.op = "conv3d",
        .variant = "bias_same",
        .samples =
            {{Arg{.shape = {1, 2, 3, 4, 3}}, Arg{.shape = {2, 2, 2, 3, 2}}, Arg{.shape = {2}}},
             {Arg{.shape = {2, 4, 6, 9, 7}}, Arg{.shape = {8, 4, 2, 3, 2}}, Arg{.shape = {8}}},
             // no input channels: the output is the bias
             {Arg{.shape = {1, 0, 3, 4, 3}}, Arg{.shape = {2, 0, 2, 3, 2}}, Arg{.shape = {2}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return conv3d(in[0], in[1], in[2], {.same = true});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              // "same" pads a 2-wide kernel by 0 in front and 1 behind, a 3-wide one by 1 and 1.
              Conv3Cfg c{.pad = {0, 1, 0, 1, 1, 1}};
              Ref y = zeros_ref(conv3_out(in[0].shape, in[1].shape, c));
              conv3_triples(in[0].shape, in[1].shape, c, [&](int64_t i, int64_t k, int64_t o) {
                y.v[o] += in[0].v[i] * in[1].v[k];
              });
              int64_t vol = y.shape[2] * y.shape[3] * y.shape[4];
              for (std::size_t i = 0; i < y.v.size(); ++i)
                y.v[i] += in[2].v[std::size_t((int64_t(i) / vol) % y.shape[1])];
              return y;
            },
        .dtypes = kFloats,
        .tol_scale = 10},
    conv3d_input_grad_row("plain", {},
                          {{{1, 2, 3, 4, 3}, {2, 2, 2, 2, 2}},
                           {{2, 4, 8, 12, 12}, {8, 4, 3, 3, 3}}}),
    conv3d_input_grad_row(
        "stride2_groups2",
        {.stride = {2, 1, 2}, .pad = {1, 0, 1, 1, 0, 1}, .dil = {1, 2, 1}, .groups = 2},
        {{{1, 4, 5, 5, 3}, {2, 2, 3, 2, 2}}, {{2, 8, 9, 11, 11}, {4, 4, 3, 3, 3}}}),
    conv3d_weight_grad_row("plain", {},
                           {{{1, 2, 3, 4, 3}, {2, 2, 2, 2, 2}},
                            {{2, 4, 8, 12, 12}, {8, 4, 3, 3, 3}}}),
    conv3d_weight_grad_row(
        "stride2_groups2",
        {.stride = {2, 1, 2}, .pad = {1, 0, 1, 1, 0, 1}, .dil = {2, 1, 1}, .groups = 2},
        {{{1, 4, 5, 4, 5}, {2, 2, 2, 2, 3}}, {{2, 8, 9, 11, 11}, {4, 4, 3, 3, 3}}}),

    conv_transpose_row("plain", {},
                       {{Arg{.shape = {2, 2, 3, 3}}, Arg{.shape = {2, 3, 2, 2}}},
                        {Arg{.shape = {1, 3, 4, 5}, .non_contiguous = true},
                         Arg{.shape = {3, 2, 3, 2}}},
                        {Arg{.shape = {4, 16, 14, 14}}, Arg{.shape = {16, 8, 3, 3}}},
                        {Arg{.shape = {0, 2, 3, 3}}, Arg{.shape = {2, 3, 2, 2}}}},
                       true),
    conv_transpose_row("stride2_pad_output_padding",
                       {.stride = {2, 3}, .padding = {1, 0}, .output_padding = {1, 2}},
                       {{Arg{.shape = {1, 2, 3, 3}}, Arg{.shape = {2, 2, 3, 2}}},
                        {Arg{.shape = {2, 8, 12, 11}}, Arg{.shape = {8, 4, 4, 4}}}},
                       true),
    conv_transpose_row("groups_dilation",
                       {.stride = {2, 1}, .padding = {1, 1}, .groups = 2, .dilation = {1, 2}},
                       {{Arg{.shape = {1, 4, 3, 4}}, Arg{.shape = {4, 3, 2, 3}}},
                        {Arg{.shape = {2, 16, 13, 13}}, Arg{.shape = {16, 4, 3, 3}}}}),
    // output_padding 1 with stride 1 is allowed below dilation 2: the output gains a row
    // no input reaches.
    conv_transpose_row("output_padding_below_dilation",
                       {.output_padding = {1, 0}, .dilation = {2, 1}},
                       {{Arg{.shape = {1, 2, 3, 3}}, Arg{.shape = {2, 2, 2, 2}}}}),
    conv_transpose_row("bias", {.stride = {2, 2}, .padding = {1, 1}, .output_padding = {1, 1}},
                       {{Arg{.shape = {2, 3, 3, 2}}, Arg{.shape = {3, 2, 3, 3}},
                         Arg{.shape = {2}}}}),
    Row{.op = "conv2d_backward_input",
        .variant = "conv_transpose1d",
        .samples = {{Arg{.shape = {2, 4, 5}}, Arg{.shape = {4, 3, 3}}, Arg{.shape = {6}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return conv_transpose1d(
                  in[0], in[1], in[2],
                  {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2, .dilation = 2});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              Shape x{in[0].shape[0], in[0].shape[1], 1, in[0].shape[2]};
              Shape w{in[1].shape[0], in[1].shape[1], 1, in[1].shape[2]};
              Ref y = conv_transpose_ref(Ref{x, in[0].v}, Ref{w, in[1].v},
                                         {.stride = {1, 2},
                                          .padding = {0, 1},
                                          .output_padding = {0, 1},
                                          .groups = 2,
                                          .dilation = {1, 2}});
              for (std::size_t i = 0; i < y.v.size(); ++i)
                y.v[i] += in[2].v[std::size_t((int64_t(i) / y.shape[3]) % y.shape[1])];
              return Ref{{y.shape[0], y.shape[1], y.shape[3]}, y.v};
            },
        .dtypes = kFloats,
        .tol_scale = 10});

}  // namespace
}  // namespace nabla::optable
