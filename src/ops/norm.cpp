// Batch, layer and group normalisation. The forward passes are fused kernels; gradient rules
// are written with other ops (recomputing the statistics), so gradients of any order work.
// Batch norm is two ops, as in PyTorch's own CPU path: batch_norm_stats (per-channel mean and
// biased variance, one pass) and batch_norm_affine (x * scale[c] + shift[c]); the tiny
// per-channel algebra between them (rsqrt, weight, bias) is ordinary ops on (C) vectors.
#include "nabla/ops/norm.h"

#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/shape_like.h"
#include "nabla/ops/unary.h"
#include "ops/common.h"

namespace nabla {
namespace {

bool is_half(DType t) { return t == float16 || t == bfloat16; }
DType compute_dtype(DType t) { return is_half(t) ? float32 : t; }
Tensor to_compute(const Tensor& t) { return t.astype(compute_dtype(t.dtype())); }

// (1, C, 1, ...): a (C) vector shaped to broadcast over x's channel dim.
Shape channel_shape(const Shape& x) {
  Shape s(x.size(), 1);
  s[1] = x[1];
  return s;
}

// Every axis but the channel axis 1.
Shape non_channel_axes(int64_t ndim) {
  Shape axes;
  for (int64_t d = 0; d < ndim; ++d)
    if (d != 1) axes.push_back(d);
  return axes;
}

// Normalised x and 1/std over `axes`, built from ops for the gradient rules.
struct Normalized {
  Tensor xhat, rstd;
};
Normalized normalize_with_ops(const Tensor& x, const Shape& axes, double eps) {
  Tensor xc = x - mean(x, axes, true);
  Tensor rstd = rsqrt(mean(xc * xc, axes, true) + eps);
  return {xc * rstd, rstd};
}

// Sum of g over `axes`, where an empty list means no reduction (not all axes).
Tensor sum_over(const Tensor& g, const Shape& axes) { return axes.empty() ? g : sum(g, axes); }

Tensor affine(const Tensor& x, const Tensor& scale, const Tensor& shift);
const OpDef& batch_norm_sums_op();

// (N, C, *) -> (2, C): per-channel mean and biased variance, in the compute dtype.
const OpDef& kBatchNormStats = define_op({
    .name = "batch_norm_stats",
    .flags = kReduction,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      return {{2, in[0].shape()[1]}, compute_dtype(in[0].dtype())};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      // d/dx = (x - mean) * 2 g_var / m + g_mean / m: one affine map per channel.
      Tensor scale, shift;
      if (is_dynamic(x.shape())) {  // m, the count per channel, is known when the graph runs
        Tensor m = count_elements(x, non_channel_axes(x.ndim()), c.cotangent.dtype());
        scale = c.cotangent.select(0, 1) * 2.0 / m;
        shift = c.cotangent.select(0, 0) / m - c.output.select(0, 0) * scale;
      } else {
        double m = double(x.numel() / x.shape()[1]);
        scale = c.cotangent.select(0, 1) * (2 / m);
        shift = c.cotangent.select(0, 0) * (1 / m) - c.output.select(0, 0) * scale;
      }
      return {affine(x, scale, shift)};
    },
});

// (x, scale, shift) -> x * scale[c] + shift[c] over channel dim 1; scale and shift are (C)
// in x's compute dtype.
const OpDef& kBatchNormAffine = define_op({
    .name = "batch_norm_affine",
    .arity = 3,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &x = c.inputs[0], &scale = c.inputs[1];
      Tensor g = c.cotangent.astype(x.dtype()).contiguous();
      Tensor sums = apply(batch_norm_sums_op(), {g, x});
      return {affine(g, scale, zeros_like(scale)), sums.select(0, 0), sums.select(0, 1)};
    },
});

// (g, x) -> (2, C): per channel, the sums of g * x and of g (the affine map's parameter
// gradients), in one pass. Linear in g and in x, so its VJP is two affine maps.
const OpDef& kBatchNormSums = define_op({
    .name = "batch_norm_sums",
    .flags = kReduction,
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      return {{2, in[1].shape()[1]}, compute_dtype(in[1].dtype())};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &g = c.inputs[0], &x = c.inputs[1];
      Tensor c0 = c.cotangent.select(0, 0), c1 = c.cotangent.select(0, 1);
      return {affine(x, c0, c1), affine(g, c0, zeros_like(c0))};
    },
});

const OpDef& batch_norm_sums_op() { return kBatchNormSums; }

// x * scale[c] + shift[c], scale and shift any (C) tensors.
Tensor affine(const Tensor& x, const Tensor& scale, const Tensor& shift) {
  const DType ct = compute_dtype(x.dtype());
  return apply(kBatchNormAffine,
               {x.contiguous(), scale.astype(ct).contiguous(), shift.astype(ct).contiguous()});
}

// layer_norm and group_norm share their gradient machinery: each is three fused ops,
//   forward (x, [w], [b]) -> xhat * w + b,
//   backward (g, x, [w]) -> rstd * P(g * w), where P(v) = v - mean(v) - xhat * mean(v * xhat),
//   param_grads (g, x) -> (2, P), the sums of g * xhat and of g for each parameter,
// with means over each normalised row. The VJPs of the last two are written with these ops
// again (P is symmetric, so the adjoint of backward in g is backward itself) plus one
// op-composed term, the second derivative through x, so gradients of any order work.
struct NormOps {
  const OpDef *forward, *backward, *param_grads;
};
NormOps norm_ops(bool layer);

// How x's elements group into normalised rows and which parameter each one uses.
struct Layout {
  bool layer;         // layer_norm: parameters along the row; group_norm: one per channel
  Shape rows;         // (R, L): x viewed as its normalised rows
  Shape param_shape;  // normalized_shape, or (C)
  Shape param_bcast;  // a parameter reshaped to broadcast over x
  Shape param_axes;   // the axes of x that parameter gradients sum over
};

Layout layout_of(const Shape& xs, const Attrs& a) {
  Layout l;
  l.layer = !a.has("groups");
  const int64_t nd = int64_t(xs.size());
  if (l.layer) {
    const int64_t lead = nd - a.get<int64_t>("norm_ndim");
    int64_t r = 1, len = 1;
    for (int64_t d = 0; d < nd; ++d) {
      (d < lead ? r : len) *= xs[std::size_t(d)];
      if (d < lead)
        l.param_axes.push_back(d);
      else
        l.param_shape.push_back(xs[std::size_t(d)]);
    }
    l.rows = {r < 0 ? -1 : r, len < 0 ? -1 : len};  // -1: a dynamic dim, sized at each call
    l.param_bcast = l.param_shape;
  } else {
    const int64_t groups = a.get<int64_t>("groups");
    int64_t len = xs[1] / groups;
    for (std::size_t d = 2; d < xs.size(); ++d) len *= xs[d];
    l.rows = {xs[0] < 0 ? -1 : xs[0] * groups, len < 0 ? -1 : len};
    l.param_shape = {xs[1]};
    l.param_bcast = channel_shape(xs);
    l.param_axes = non_channel_axes(nd);
  }
  return l;
}

Attrs with_flags(Attrs a, bool weight, bool bias) {
  a.set("weight", weight);
  a.set("bias", bias);
  return a;
}

std::vector<Tensor> norm_forward_vjp(const VjpContext& c) {
  const Tensor& x = c.inputs[0];
  const Layout l = layout_of(x.shape(), c.attrs);
  const NormOps ops = norm_ops(l.layer);
  const bool has_w = c.attrs.get<bool>("weight"), has_b = c.attrs.get<bool>("bias");
  // The fused kernels read dense inputs; cotangents may be broadcast or strided views.
  Tensor g = c.cotangent.astype(x.dtype()).contiguous();
  std::vector<Tensor> bin{g, x};
  if (has_w) bin.push_back(c.inputs[1]);
  std::vector<Tensor> out{
      apply(*ops.backward, std::span<const Tensor>(bin), with_flags(c.attrs, has_w, false))};
  if (has_w || has_b) {
    Tensor pg = apply(*ops.param_grads, {g, x}, with_flags(c.attrs, false, false));
    if (has_w) out.push_back(pg.select(0, 0).reshape(l.param_shape).astype(c.inputs[1].dtype()));
    if (has_b)
      out.push_back(pg.select(0, 1).reshape(l.param_shape).astype(c.inputs.back().dtype()));
  }
  return out;
}

// backward(g, x, [w]) against cotangent h.
std::vector<Tensor> norm_backward_vjp(const VjpContext& c) {
  const Tensor &g = c.inputs[0], &x = c.inputs[1];
  const Layout l = layout_of(x.shape(), c.attrs);
  const bool has_w = c.attrs.get<bool>("weight");
  Tensor h = c.cotangent.astype(x.dtype()).contiguous();
  Tensor rph = apply(*norm_ops(l.layer).backward, {h, x}, with_flags(c.attrs, false, false));
  Tensor wb = has_w ? c.inputs[2].reshape(l.param_bcast) : Tensor();
  // Through x: with a = mean(gx), b = mean(gx xhat), H = mean(h), Hx = mean(h xhat),
  // d<h, rstd P(gx)>/dx = -rstd^2 ((mean(h gx) - a H - b Hx) xhat + P(Hx gx + b h)).
  Normalized n = normalize_with_ops(to_compute(x).reshape(l.rows), {1}, c.attrs.get<double>("eps"));
  Tensor gx = to_compute(has_w ? g * wb : g).reshape(l.rows), hr = to_compute(h).reshape(l.rows);
  auto m = [](const Tensor& t) { return mean(t, {1}, true); };
  auto proj = [&](const Tensor& v) { return v - m(v) - n.xhat * m(v * n.xhat); };
  Tensor a = m(gx), b = m(gx * n.xhat), hm = m(hr), hx = m(hr * n.xhat);
  Tensor dx =
      neg(n.rstd * n.rstd) * ((m(hr * gx) - a * hm - b * hx) * n.xhat + proj(hx * gx + b * hr));
  std::vector<Tensor> out{has_w ? rph * wb : rph, dx.reshape(x.shape()).astype(x.dtype())};
  if (has_w)
    out.push_back(
        sum_over(g * rph, l.param_axes).reshape(l.param_shape).astype(c.inputs[2].dtype()));
  return out;
}

// param_grads(g, x) against cotangent (c0, c1): d/dg = xhat c0 + c1, d/dx = rstd P(g c0).
std::vector<Tensor> norm_param_grads_vjp(const VjpContext& c) {
  const Tensor &g = c.inputs[0], &x = c.inputs[1];
  const Layout l = layout_of(x.shape(), c.attrs);
  const NormOps ops = norm_ops(l.layer);
  Tensor c0 = c.cotangent.select(0, 0).reshape(l.param_shape).astype(x.dtype()).contiguous();
  Tensor c1 = c.cotangent.select(0, 1).reshape(l.param_shape).astype(x.dtype()).contiguous();
  return {apply(*ops.forward, {x, c0, c1}, with_flags(c.attrs, true, true)),
          apply(*ops.backward, {g, x, c0}, with_flags(c.attrs, true, false))};
}

OutputMeta like_second(std::span<const Tensor> in, const Attrs&) {
  return {in[1].shape(), in[1].dtype()};
}
OutputMeta param_grads_infer(std::span<const Tensor> in, const Attrs& a) {
  return {{2, numel_of(layout_of(in[1].shape(), a).param_shape)}, compute_dtype(in[1].dtype())};
}

// (x, [weight], [bias]) normalised over the last `norm_ndim` dims.
const OpDef& kLayerNorm =
    define_op({.name = "layer_norm", .arity = -1, .infer = same_as_input, .vjp = norm_forward_vjp});
const OpDef& kLayerNormBackward = define_op(
    {.name = "layer_norm_backward", .arity = -1, .infer = like_second, .vjp = norm_backward_vjp});
const OpDef& kLayerNormParamGrads = define_op({.name = "layer_norm_param_grads",
                                               .arity = 2,
                                               .infer = param_grads_infer,
                                               .vjp = norm_param_grads_vjp});

// (x, [weight], [bias]), x (N, C, *) normalised per (sample, group of channels).
const OpDef& kGroupNorm =
    define_op({.name = "group_norm", .arity = -1, .infer = same_as_input, .vjp = norm_forward_vjp});
const OpDef& kGroupNormBackward = define_op(
    {.name = "group_norm_backward", .arity = -1, .infer = like_second, .vjp = norm_backward_vjp});
const OpDef& kGroupNormParamGrads = define_op({.name = "group_norm_param_grads",
                                               .arity = 2,
                                               .infer = param_grads_infer,
                                               .vjp = norm_param_grads_vjp});

NormOps norm_ops(bool layer) {
  return layer ? NormOps{&kLayerNorm, &kLayerNormBackward, &kLayerNormParamGrads}
               : NormOps{&kGroupNorm, &kGroupNormBackward, &kGroupNormParamGrads};
}

void check_floating(const Tensor& x, const char* op) {
  if (!is_floating(x.dtype()))
    throw DTypeError(std::string("[") + op + "] expects a floating input, got " +
                     dtype_str(x.dtype()));
}

// An optional parameter: undefined, or exactly `shape` and floating.
void check_param(const Tensor& t, const char* what, const Shape& shape, const Tensor& x,
                 const char* op) {
  if (!t.defined()) return;
  if (t.shape() != shape)
    throw ShapeError(std::string("[") + op + "] " + what + " must have shape " + shape_str(shape) +
                     " for input of shape " + shape_str(x.shape()) + ", got " +
                     shape_str(t.shape()));
  check_floating(t, op);
}

void check_channels_input(const Tensor& x, const char* op) {
  check_floating(x, op);
  if (x.ndim() < 2)
    throw ShapeError(std::string("[") + op + "] expects input of shape (N, C) or (N, C, *), got " +
                     shape_str(x.shape()));
}

// x, then weight and bias where given, cast to x's dtype; the attrs say which are present.
std::vector<Tensor> with_params(const Tensor& x, const Tensor& w, const Tensor& b, Attrs& attrs) {
  std::vector<Tensor> in{x.contiguous()};
  if (w.defined()) in.push_back(w.astype(x.dtype()).contiguous());
  if (b.defined()) in.push_back(b.astype(x.dtype()).contiguous());
  attrs.set("weight", w.defined());
  attrs.set("bias", b.defined());
  return in;
}

struct GradModeOff {
  bool was = grad_mode_enabled();
  GradModeOff() { set_grad_mode(false); }
  ~GradModeOff() { set_grad_mode(was); }
};

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  const char* op = "batch_norm";
  check_channels_input(x, op);
  const int64_t channels = x.shape()[1];
  check_param(running_mean, "running_mean", {channels}, x, op);
  check_param(running_var, "running_var", {channels}, x, op);
  check_param(weight, "weight", {channels}, x, op);
  check_param(bias, "bias", {channels}, x, op);
  if (running_mean.defined() != running_var.defined())
    throw ValueError("[batch_norm] running_mean and running_var must be given together");
  const DType ct = compute_dtype(x.dtype());
  Tensor xc = x.contiguous(), mean, var;
  if (training || !running_mean.defined()) {
    int64_t per_channel = channels == 0 ? 0 : x.numel() / channels;
    if (per_channel == 1)
      throw ValueError(
          "[batch_norm] expected more than 1 value per channel when training, got "
          "input of shape " +
          shape_str(x.shape()));
    Tensor stats = apply(kBatchNormStats, {xc});
    mean = stats.select(0, 0);
    var = stats.select(0, 1);
    if (running_mean.defined() && stats.is_concrete() && per_channel > 1) {
      GradModeOff off;
      double unbias = double(per_channel) / double(per_channel - 1);
      Tensor rm = running_mean, rv = running_var;
      rm.copy_(rm * (1 - momentum) + mean.astype(rm.dtype()) * momentum);
      rv.copy_(rv * (1 - momentum) + (var * unbias).astype(rv.dtype()) * momentum);
    }
  } else {
    mean = running_mean.astype(ct);
    var = running_var.astype(ct);
  }
  Tensor scale = rsqrt(var + eps);
  if (weight.defined()) scale = scale * weight.astype(ct);
  Tensor shift = bias.defined() ? bias.astype(ct) - mean * scale : neg(mean * scale);
  return affine(xc, scale, shift);
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_floating(x, op);
  const int64_t k = int64_t(normalized_shape.size());
  bool ok = k > 0 && k <= x.ndim();
  for (int64_t i = 0; ok && i < k; ++i)
    ok = x.shape()[std::size_t(x.ndim() - k + i)] == normalized_shape[std::size_t(i)];
  if (!ok)
    throw ShapeError("[layer_norm] normalized_shape " + shape_str(normalized_shape) +
                     " must be non-empty and match the last dims of input of shape " +
                     shape_str(x.shape()));
  check_param(weight, "weight", normalized_shape, x, op);
  check_param(bias, "bias", normalized_shape, x, op);
  Attrs attrs{{"norm_ndim", k}, {"eps", eps}};
  std::vector<Tensor> in = with_params(x, weight, bias, attrs);
  return apply(kLayerNorm, std::span<const Tensor>(in), std::move(attrs));
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "group_norm";
  check_channels_input(x, op);
  const int64_t channels = x.shape()[1];
  if (num_groups <= 0 || channels % num_groups != 0)
    throw ValueError("[group_norm] num_groups=" + std::to_string(num_groups) +
                     " must be positive and divide the " + std::to_string(channels) +
                     " channels of input of shape " + shape_str(x.shape()));
  check_param(weight, "weight", {channels}, x, op);
  check_param(bias, "bias", {channels}, x, op);
  Attrs attrs{{"groups", num_groups}, {"eps", eps}};
  std::vector<Tensor> in = with_params(x, weight, bias, attrs);
  return apply(kGroupNorm, std::span<const Tensor>(in), std::move(attrs));
}

}  // namespace nabla
