// Batch, layer and group normalisation. The forward passes are fused kernels; gradient rules
// are written with other ops (recomputing the statistics), so gradients of any order work.
// Batch norm is two ops, as in PyTorch's own CPU path: batch_norm_stats (per-channel mean and
// biased variance, one pass) and batch_norm_affine (x * scale[c] + shift[c]); the tiny
// per-channel algebra between them (rsqrt, weight, bias) is ordinary ops on (C) vectors.
#include "nabla/ops/norm.h"

#include "nabla/ops/binary.h"
#include "nabla/ops/reduce.h"
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

// Gradient with respect to x of normalize(x) over `axes`, given gx, the gradient with
// respect to the normalised values.
Tensor normalize_vjp(const Tensor& gx, const Normalized& n, const Shape& axes) {
  return n.rstd * (gx - mean(gx, axes, true) - n.xhat * mean(gx * n.xhat, axes, true));
}

// Sum of g over `axes`, where an empty list means no reduction (not all axes).
Tensor sum_over(const Tensor& g, const Shape& axes) { return axes.empty() ? g : sum(g, axes); }

// Gradients of y = xhat * weight + bias, laid out as the op's inputs.
std::vector<Tensor> affine_grads(const VjpContext& c, const Tensor& dx, const Tensor& xhat,
                                 const Tensor& g, const Shape& param_axes,
                                 const Shape& param_shape) {
  std::vector<Tensor> out{dx.astype(c.inputs[0].dtype())};
  std::size_t next = 1;
  if (c.attrs.get<bool>("weight")) {
    const Tensor& w = c.inputs[next++];
    out.push_back(sum_over(g * xhat, param_axes).reshape(param_shape).astype(w.dtype()));
  }
  if (c.attrs.get<bool>("bias")) {
    const Tensor& b = c.inputs[next++];
    out.push_back(sum_over(g, param_axes).reshape(param_shape).astype(b.dtype()));
  }
  return out;
}

// (N, C, *) -> (2, C): per-channel mean and biased variance, in the compute dtype.
const OpDef& kBatchNormStats = define_op({
    .name = "batch_norm_stats",
    .flags = kReduction,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      return {{2, in[0].shape()[1]}, compute_dtype(in[0].dtype())};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      Shape cs = channel_shape(x.shape());
      double m = double(x.numel() / x.shape()[1]);
      Tensor mean = c.output.select(0, 0).reshape(cs);
      Tensor g_mean = c.cotangent.select(0, 0).reshape(cs);
      Tensor g_var = c.cotangent.select(0, 1).reshape(cs);
      Tensor dx = (to_compute(x) - mean) * (g_var * (2 / m)) + g_mean * (1 / m);
      return {dx.astype(x.dtype())};
    },
});

// (x, scale, shift) -> x * scale[c] + shift[c] over channel dim 1; scale and shift are (C)
// in x's compute dtype.
const OpDef& kBatchNormAffine = define_op({
    .name = "batch_norm_affine",
    .arity = 3,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &x = c.inputs[0], &g = c.cotangent;
      Shape axes = non_channel_axes(x.ndim());
      Tensor gc = to_compute(g);
      return {(gc * c.inputs[1].reshape(channel_shape(x.shape()))).astype(x.dtype()),
              sum(gc * to_compute(x), axes), sum(gc, axes)};
    },
});

// (x, [weight], [bias]) normalised over the last `norm_ndim` dims.
const OpDef& kLayerNorm = define_op({
    .name = "layer_norm",
    .arity = -1,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      int64_t k = c.attrs.get<int64_t>("norm_ndim"), lead = x.ndim() - k;
      Shape axes, lead_axes;
      for (int64_t d = 0; d < x.ndim(); ++d) (d < lead ? lead_axes : axes).push_back(d);
      Normalized n = normalize_with_ops(to_compute(x), axes, c.attrs.get<double>("eps"));
      Tensor g = to_compute(c.cotangent);
      Tensor gx = c.attrs.get<bool>("weight") ? g * to_compute(c.inputs[1]) : g;
      Shape param_shape(x.shape().begin() + lead, x.shape().end());
      return affine_grads(c, normalize_vjp(gx, n, axes), n.xhat, g, lead_axes, param_shape);
    },
});

// (x, [weight], [bias]), x (N, C, *) normalised per (sample, group of channels).
const OpDef& kGroupNorm = define_op({
    .name = "group_norm",
    .arity = -1,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      const Shape& xs = x.shape();
      const int64_t groups = c.attrs.get<int64_t>("groups");
      int64_t per_group = xs[1] / groups;
      for (std::size_t d = 2; d < xs.size(); ++d) per_group *= xs[d];
      Shape grouped{xs[0], groups, per_group};
      Normalized n =
          normalize_with_ops(to_compute(x).reshape(grouped), {2}, c.attrs.get<double>("eps"));
      Tensor g = to_compute(c.cotangent);
      Tensor gx =
          c.attrs.get<bool>("weight") ? g * to_compute(c.inputs[1]).reshape(channel_shape(xs)) : g;
      Tensor dx = normalize_vjp(gx.reshape(grouped), n, {2}).reshape(xs);
      return affine_grads(c, dx, n.xhat.reshape(xs), g, non_channel_axes(x.ndim()), {xs[1]});
    },
});

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
  return apply(kBatchNormAffine, {xc, scale.astype(ct), shift.astype(ct)});
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
