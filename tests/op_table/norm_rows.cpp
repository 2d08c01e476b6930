// Rows for batch, layer and group norm: float64 references by plain loops over groups of
// elements (per channel, per trailing block, per sample and channel group).
#include <cmath>
#include <functional>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kFloats = {float32, float64, float16, bfloat16};
constexpr double kEps = 1e-5;

using IndexMap = std::function<int64_t(int64_t)>;

// y[i] = (x[i] - mean[g]) / sqrt(var[g] + eps) * w[p] + b[p], with g = group(i) and
// p = param(i); mean and biased var computed over each group unless given.
Ref normalize_ref(const Ref& x, int64_t groups, const IndexMap& group, const IndexMap& param,
                  const Ref* w, const Ref* b, const Ref* given_mean = nullptr,
                  const Ref* given_var = nullptr) {
  std::vector<double> mean(std::size_t(groups), 0), var(std::size_t(groups), 0),
      count(std::size_t(groups), 0);
  for (std::size_t i = 0; i < x.v.size(); ++i) {
    mean[std::size_t(group(int64_t(i)))] += x.v[i];
    count[std::size_t(group(int64_t(i)))] += 1;
  }
  for (std::size_t g = 0; g < mean.size(); ++g) mean[g] /= count[g];
  for (std::size_t i = 0; i < x.v.size(); ++i) {
    double d = x.v[i] - mean[std::size_t(group(int64_t(i)))];
    var[std::size_t(group(int64_t(i)))] += d * d;
  }
  for (std::size_t g = 0; g < var.size(); ++g) var[g] /= count[g];
  if (given_mean) mean = given_mean->v, var = given_var->v;
  Ref y = x;
  for (std::size_t i = 0; i < x.v.size(); ++i) {
    std::size_t g = std::size_t(group(int64_t(i))), p = std::size_t(param(int64_t(i)));
    double v = (x.v[i] - mean[g]) / std::sqrt(var[g] + kEps);
    if (w) v *= w->v[p];
    if (b) v += b->v[p];
    y.v[i] = v;
  }
  return y;
}

int64_t inner_size(const Shape& s, std::size_t from) {
  int64_t n = 1;
  for (std::size_t d = from; d < s.size(); ++d) n *= s[d];
  return n;
}

IndexMap channel_of(const Shape& s) {
  int64_t sp = inner_size(s, 2), c = s[1];
  return [=](int64_t i) { return (i / sp) % c; };
}

// x, and (C) weight and bias.
std::vector<Arg> channel_sample(Shape x, bool nc = false) {
  int64_t c = x[1];
  return {Arg{.shape = x, .non_contiguous = nc}, Arg{.shape = {c}}, Arg{.shape = {c}}};
}

std::vector<std::vector<Arg>> channel_samples() {
  return {channel_sample({4, 3}),          channel_sample({2, 3, 4}),
          channel_sample({3, 4, 5}, true), channel_sample({2, 2, 3, 3}),
          channel_sample({0, 3, 2}),       channel_sample({8, 16, 1024}),
          channel_sample({4096, 12}),      channel_sample({64, 8, 70}, true)};
}

Ref batch_norm_train_ref(const std::vector<Ref>& in, bool affine) {
  const Shape& s = in[0].shape;
  IndexMap ch = channel_of(s);
  return normalize_ref(in[0], s[1], ch, ch, affine ? &in[1] : nullptr, affine ? &in[2] : nullptr);
}

// Group count used by the group_norm rows: pairs of channels.
int64_t pair_groups(const Shape& x) { return x[1] / 2; }

Ref group_norm_ref(const std::vector<Ref>& in, int64_t groups, bool affine) {
  const Shape& s = in[0].shape;
  int64_t sp = inner_size(s, 2), per = s[1] / groups * sp;
  return normalize_ref(
      in[0], s[0] * groups, [=](int64_t i) { return i / per; }, channel_of(s),
      affine ? &in[1] : nullptr, affine ? &in[2] : nullptr);
}

// x, and weight and bias of x's last `k` dims.
std::vector<Arg> layer_sample(Shape x, std::size_t k, bool nc = false) {
  Shape p(x.end() - std::ptrdiff_t(k), x.end());
  return {Arg{.shape = x, .non_contiguous = nc}, Arg{.shape = p}, Arg{.shape = p}};
}

Ref layer_norm_ref(const std::vector<Ref>& in, const Shape& normalized) {
  int64_t len = numel_of(normalized);
  return normalize_ref(
      in[0], std::max<int64_t>(1, numel_of(in[0].shape) / std::max<int64_t>(1, len)),
      [=](int64_t i) { return i / len; }, [=](int64_t i) { return i % len; }, &in[1], &in[2]);
}

NABLA_OP_ROWS(
    Row{.op = "batch_norm_affine",
        .variant = "train",
        .samples = channel_samples(),
        .run =
            [](const std::vector<Tensor>& in) {
              return batch_norm(in[0], {}, {}, in[1], in[2], true);
            },
        .ref = [](const std::vector<Ref>& in) { return batch_norm_train_ref(in, true); },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5,
        .also_covers = {"batch_norm_stats", "batch_norm_sums"}},
    Row{.op = "batch_norm_stats",
        .variant = "no_affine",
        .samples = {{Arg{.shape = {5, 2}}},
                    {Arg{.shape = {3, 2, 7}, .non_contiguous = true}},
                    {Arg{.shape = {2, 3, 40}}},
                    {Arg{.shape = {16, 3, 1000}}}},
        .run =
            [](const std::vector<Tensor>& in) { return batch_norm(in[0], {}, {}, {}, {}, true); },
        .ref = [](const std::vector<Ref>& in) { return batch_norm_train_ref(in, false); },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5,
        .also_covers = {"batch_norm_affine"}},
    Row{.op = "batch_norm_affine",
        .variant = "eval",
        .samples = {{Arg{.shape = {4, 3}}, Arg{.shape = {3}}, Arg{.shape = {3}, .lo = 0.5, .hi = 2},
                     Arg{.shape = {3}}, Arg{.shape = {3}}},
                    {Arg{.shape = {2, 3, 5}, .non_contiguous = true}, Arg{.shape = {3}},
                     Arg{.shape = {3}, .lo = 0.5, .hi = 2}, Arg{.shape = {3}}, Arg{.shape = {3}}},
                    {Arg{.shape = {8, 4, 2048}}, Arg{.shape = {4}},
                     Arg{.shape = {4}, .lo = 0.5, .hi = 2}, Arg{.shape = {4}}, Arg{.shape = {4}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return batch_norm(in[0], in[1], in[2], in[3], in[4], false);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              IndexMap ch = channel_of(in[0].shape);
              return normalize_ref(in[0], in[0].shape[1], ch, ch, &in[3], &in[4], &in[1], &in[2]);
            },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5},
    Row{.op = "layer_norm",
        .samples = {layer_sample({4, 6}, 1), layer_sample({2, 3, 4}, 2),
                    layer_sample({3, 5, 4}, 1, true), layer_sample({5}, 1), layer_sample({0, 4}, 1),
                    layer_sample({64, 1024}, 1), layer_sample({40, 30, 50}, 2, true)},
        .run =
            [](const std::vector<Tensor>& in) {
              return layer_norm(in[0], in[1].shape(), in[1], in[2]);
            },
        .ref = [](const std::vector<Ref>& in) { return layer_norm_ref(in, in[1].shape); },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5,
        .also_covers = {"layer_norm_backward", "layer_norm_param_grads"}},
    Row{.op = "layer_norm",
        .variant = "no_affine",
        .samples = {{Arg{.shape = {3, 7}}},
                    {Arg{.shape = {4, 5}, .non_contiguous = true}},
                    {Arg{.shape = {100, 700}}}},
        .run =
            [](const std::vector<Tensor>& in) { return layer_norm(in[0], {in[0].shape().back()}); },
        .ref =
            [](const std::vector<Ref>& in) {
              int64_t len = in[0].shape.back();
              return normalize_ref(
                  in[0], numel_of(in[0].shape) / len, [=](int64_t i) { return i / len; },
                  [](int64_t) { return int64_t(0); }, nullptr, nullptr);
            },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5},
    Row{.op = "group_norm",
        .samples = {channel_sample({2, 6, 3}), channel_sample({3, 4}),
                    channel_sample({2, 6, 2, 2}, true), channel_sample({0, 4, 3}),
                    channel_sample({4, 32, 1024}), channel_sample({3, 8, 20, 30}, true)},
        .run =
            [](const std::vector<Tensor>& in) {
              return group_norm(in[0], pair_groups(in[0].shape()), in[1], in[2]);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return group_norm_ref(in, pair_groups(in[0].shape), true);
            },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5,
        .also_covers = {"group_norm_backward", "group_norm_param_grads"}},
    Row{.op = "group_norm",
        .variant = "one_group",
        .samples = {{Arg{.shape = {2, 3, 4}}},
                    {Arg{.shape = {3, 2, 5}, .non_contiguous = true}},
                    {Arg{.shape = {2, 3, 20000}}}},
        .run = [](const std::vector<Tensor>& in) { return group_norm(in[0], 1); },
        .ref = [](const std::vector<Ref>& in) { return group_norm_ref(in, 1, false); },
        .dtypes = kFloats,
        .second_order = true,
        .tol_scale = 5});

}  // namespace
}  // namespace nabla::optable
