#include "nabla/nn/loss.h"

#include "nabla/nabla.h"

namespace nabla::nn {
namespace {

Tensor reduce(const Tensor& l, Reduction r) {
  switch (r) {
    case Reduction::mean: return mean(l);
    case Reduction::sum: return sum(l);
    case Reduction::none: return l;
  }
  return l;
}

void same_shape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    throw ShapeError(std::string("[") + op + "] input " + shape_str(a.shape()) + " and target " + shape_str(b.shape()) +
                     " must have the same shape");
}

// Shape of the per-class weights broadcast along dim 1 of an (N, C, d...) tensor.
Tensor class_weights(const Tensor& w, int64_t ndim) {
  Shape s(std::size_t(ndim), 1);
  s[1] = w.numel();
  return w.reshape(s);
}

Tensor nll_indices(const Tensor& logp, const Tensor& target, const CrossEntropyOptions& o, const char* op) {
  if (logp.ndim() < 2) throw ShapeError(std::string("[") + op + "] input must be (N, C, ...), got " + shape_str(logp.shape()));
  int64_t c = logp.size(1);
  Shape want = logp.shape();
  want.erase(want.begin() + 1);
  if (target.shape() != want)
    throw ShapeError(std::string("[") + op + "] target of shape " + shape_str(target.shape()) + " does not match input " +
                     shape_str(logp.shape()) + " (expected " + shape_str(want) + ")");
  if (o.weight.defined() && o.weight.shape() != Shape{c})
    throw ShapeError(std::string("[") + op + "] weight must have shape (" + std::to_string(c) + ",), got " +
                     shape_str(o.weight.shape()));
  Tensor t = target.astype(int64);
  Tensor valid = t != o.ignore_index;
  Tensor safe = where(valid, t, scalar(0, int64));
  // Symbolic targets (compiled graphs) have no values yet: the gather kernel's own bounds
  // check guards them at run time.
  if (t.numel() > 0 && t.is_concrete()) {
    int64_t lo = min(safe).item<int64_t>(), hi = max(safe).item<int64_t>();
    if (lo < 0 || hi >= c)
      throw IndexError(std::string("[") + op + "] target " + std::to_string(lo < 0 ? lo : hi) + " is out of range for " +
                       std::to_string(c) + " classes");
  }
  Tensor picked = gather(logp, 1, safe.unsqueeze(1)).squeeze(1);
  Tensor w = valid.astype(logp.dtype());
  if (o.weight.defined())
    w = index_select(o.weight.astype(logp.dtype()), 0, safe.reshape({-1})).reshape(t.shape()) * w;
  Tensor loss = picked * w * -1.0;
  if (o.label_smoothing > 0) {
    Tensor lw = o.weight.defined() ? logp * class_weights(o.weight.astype(logp.dtype()), logp.ndim()) : logp;
    Tensor smooth = sum(lw, {1}) * -1.0 * valid.astype(logp.dtype());
    loss = loss * (1 - o.label_smoothing) + smooth * (o.label_smoothing / double(c));
  }
  if (o.reduction == Reduction::mean) return sum(loss) / sum(w);
  return reduce(loss, o.reduction);
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& o) {
  if (is_floating(target.dtype())) throw DTypeError("[nll_loss] target must hold class indices (integers)");
  return nll_indices(log_probs, target, o, "nll_loss");
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
  if (!is_floating(logits.dtype())) throw DTypeError("[cross_entropy] logits must be floating, got " + std::string(dtype_name(logits.dtype())));
  if (o.label_smoothing < 0 || o.label_smoothing > 1) throw ValueError("[cross_entropy] label_smoothing must be in [0, 1]");
  if (logits.ndim() < 2) throw ShapeError("[cross_entropy] logits must be (N, C, ...), got " + shape_str(logits.shape()));
  Tensor logp = log_softmax(logits, 1);
  if (!is_floating(target.dtype())) return nll_indices(logp, target, o, "cross_entropy");
  same_shape("cross_entropy", logits, target);  // class probabilities
  int64_t c = logits.size(1);
  Tensor p = o.label_smoothing > 0 ? target * (1 - o.label_smoothing) + o.label_smoothing / double(c) : target;
  Tensor lw = o.weight.defined() ? logp * class_weights(o.weight.astype(logp.dtype()), logp.ndim()) : logp;
  Tensor loss = sum(p * lw, {1}) * -1.0;
  return reduce(loss, o.reduction);
}

Tensor mse_loss(const Tensor& x, const Tensor& y, Reduction r) {
  same_shape("mse_loss", x, y);
  Tensor d = x - y;
  return reduce(d * d, r);
}

Tensor l1_loss(const Tensor& x, const Tensor& y, Reduction r) {
  same_shape("l1_loss", x, y);
  return reduce(abs(x - y), r);
}

Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, double beta, Reduction r) {
  same_shape("smooth_l1_loss", x, y);
  if (beta < 0) throw ValueError("[smooth_l1_loss] beta must be non-negative");
  Tensor d = abs(x - y);
  if (beta == 0) return reduce(d, r);
  return reduce(where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta), r);
}

Tensor huber_loss(const Tensor& x, const Tensor& y, double delta, Reduction r) {
  same_shape("huber_loss", x, y);
  if (delta <= 0) throw ValueError("[huber_loss] delta must be positive");
  Tensor d = abs(x - y);
  return reduce(where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta), r);
}

Tensor binary_cross_entropy(const Tensor& x, const Tensor& y, const Tensor& weight, Reduction r) {
  same_shape("binary_cross_entropy", x, y);
  Tensor lx = clamp(log(x), -100.0, std::nullopt), l1x = clamp(log(1 - x), -100.0, std::nullopt);
  Tensor l = (y * lx + (1 - y) * l1x) * -1.0;
  if (weight.defined()) l = l * weight;
  return reduce(l, r);
}

Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, const Tensor& pos_weight, Reduction r) {
  same_shape("binary_cross_entropy_with_logits", x, y);
  // Stable form: (1 - y) x + (1 + (pw - 1) y) softplus(-x), softplus via log1p(exp(-|x|)) + max(-x, 0).
  Tensor sp = log1p(exp(abs(x) * -1.0)) + relu(x * -1.0);
  Tensor coef = pos_weight.defined() ? (pos_weight - 1) * y + 1 : ones_like(y);
  return reduce((1 - y) * x + coef * sp, r);
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction r, bool log_target) {
  same_shape("kl_div", input, target);
  Tensor l = log_target ? exp(target) * (target - input) : xlogy(target, target) - target * input;
  return reduce(l, r);
}

Tensor cosine_embedding_loss(const Tensor& a, const Tensor& b, const Tensor& y, double margin, Reduction r) {
  same_shape("cosine_embedding_loss", a, b);
  if (a.ndim() != 2 || y.shape() != Shape{a.size(0)})
    throw ShapeError("[cosine_embedding_loss] expects (N, D) inputs and (N,) labels, got " + shape_str(a.shape()) + " and " +
                     shape_str(y.shape()));
  const double eps = 1e-12;
  Tensor cos = sum(a * b, {1}) / sqrt((sum(a * a, {1}) + eps) * (sum(b * b, {1}) + eps));
  Tensor l = where(y > 0, 1 - cos, clamp(cos - margin, 0.0, std::nullopt));
  return reduce(l, r);
}

Tensor margin_ranking_loss(const Tensor& a, const Tensor& b, const Tensor& y, double margin, Reduction r) {
  same_shape("margin_ranking_loss", a, b);
  return reduce(clamp((a - b) * y * -1.0 + margin, 0.0, std::nullopt), r);
}

}  // namespace nabla::nn
