// Scaled dot-product attention. Two ops: scaled_masked_softmax (softmax(s * scale + mask) over
// the last dim in one pass) and scaled_dot_product_attention (the fused forward of a whole
// (batch, head) block). Both take their mask already broadcast to the score shape (a view), so
// kernels read it by strides and the view's gradient sums it back to the user's shape; when the
// scores' batch is sized at run time (a placeholder's -1), the mask comes with size-1 dims that
// the kernels read with stride 0, and its gradient is summed to its shape.
// The fused op's gradient recomputes the attention weights with ops, so every order works.
#include "nabla/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/shape_like.h"
#include "nabla/ops/ternary.h"
#include "nabla/random.h"
#include "ops/common.h"

namespace nabla {
namespace {

constexpr const char* kSdpa = "scaled_dot_product_attention";

Tensor mT(const Tensor& x) { return x.transpose(-1, -2); }
Shape batch_of(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

// dz = dL/d(scores * scale + mask) from the softmax's output y and cotangent g.
Tensor softmax_backward(const Tensor& y, const Tensor& g) {
  return y * (g - sum(g * y, {-1}, true));
}

// Whether a mask passed to the ops matches the scores: the same shape, or (dynamic batch) the
// same rank with size-1 dims where it broadcasts.
bool mask_fits(const Shape& mask, const Shape& scores) {
  if (mask.size() != scores.size()) return false;
  for (std::size_t d = 0; d < mask.size(); ++d)
    if (mask[d] != scores[d] && mask[d] != 1) return false;
  return true;
}
// The scores' gradient dz summed to the mask's shape where the mask broadcasts.
Tensor mask_grad(const Tensor& dz, const Tensor& mask) {
  if (dz.shape() == mask.shape()) return dz;
  Shape axes;
  for (std::size_t d = 0; d < mask.shape().size(); ++d)
    if (mask.shape()[d] == 1 && dz.shape()[d] != 1) axes.push_back(int64_t(d));
  return sum(dz, axes, true);
}

const OpDef& kMaskedSoftmax = define_op({
    .name = "scaled_masked_softmax",
    .arity = -1,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      if (in.size() > 1 && !mask_fits(in[1].shape(), in[0].shape()))
        throw ShapeError("[scaled_masked_softmax] mask " + shape_str(in[1].shape()) +
                         " must have the score shape " + shape_str(in[0].shape()));
      return {in[0].shape(), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      Tensor dz = softmax_backward(c.output, c.cotangent);
      std::vector<Tensor> grads{dz * c.attrs.get<double>("scale")};
      if (c.inputs.size() > 1) grads.push_back(mask_grad(dz, c.inputs[1]));
      return grads;
    },
});

const OpDef& kAttention = define_op({
    .name = kSdpa,
    .arity = -1,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      const Shape &q = in[0].shape(), &k = in[1].shape(), &v = in[2].shape();
      Shape bq = batch_of(q);
      if (batch_of(k) != bq || batch_of(v) != bq || q.back() != k.back() ||
          k[k.size() - 2] != v[v.size() - 2])
        throw ShapeError(std::string("[") + kSdpa +
                         "] the op needs q, k, v with equal batch dims, got " + shape_str(q) +
                         ", " + shape_str(k) + ", " + shape_str(v));
      Shape out = bq;
      out.push_back(q[q.size() - 2]);
      out.push_back(v.back());
      return {out, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &q = c.inputs[0], &k = c.inputs[1], &v = c.inputs[2], &g = c.cotangent;
      double scale = c.attrs.get<double>("scale");
      Tensor mask = c.inputs.size() > 3 ? c.inputs[3] : Tensor();
      Tensor p = scaled_masked_softmax(matmul(q, mT(k)), mask, scale, c.attrs.get<bool>("causal"));
      Tensor dz = softmax_backward(p, matmul(g, mT(v)));
      std::vector<Tensor> grads{matmul(dz, k) * scale, matmul(mT(dz), q) * scale, matmul(mT(p), g)};
      if (mask.defined()) grads.push_back(mask_grad(dz, mask));
      return grads;
    },
});

void check_floating(const Tensor& t, const char* op, const char* what) {
  if (!is_floating(t.dtype()))
    throw DTypeError(std::string("[") + op + "] " + what + " must be floating, got " +
                     dtype_str(t.dtype()));
}

// The user's mask as an additive mask of `dtype` broadcast (as a view) to `shape`.
Tensor prepare_mask(const Tensor& mask, const Shape& shape, DType dtype, const char* op) {
  if (!mask.defined()) return mask;
  Tensor m = mask;
  if (m.dtype() == bool_) {
    m = where(m, zeros({}, dtype), full({}, -std::numeric_limits<double>::infinity(), dtype));
  } else if (!is_floating(m.dtype())) {
    throw DTypeError(std::string("[") + op + "] attn_mask must be bool or floating, got " +
                     dtype_str(m.dtype()));
  } else if (m.dtype() != dtype) {
    m = m.astype(dtype);
  }
  bool fits = m.ndim() <= int64_t(shape.size());
  for (std::size_t i = 0; fits && i < m.shape().size(); ++i) {
    int64_t dm = m.shape()[m.shape().size() - 1 - i], ds = shape[shape.size() - 1 - i];
    fits = dm == ds || dm == 1;
  }
  if (!fits)
    throw ShapeError(std::string("[") + op + "] attn_mask of shape " + shape_str(mask.shape()) +
                     " does not broadcast to the scores' shape " + shape_str(shape));
  if (m.shape() == shape) return m;
  if (!is_dynamic(shape)) return m.broadcast_to(shape);
  // The scores' batch is sized at run time: leading size-1 dims, the kernels broadcast.
  Shape ranked;
  for (std::size_t d = m.shape().size(); d < shape.size(); ++d) ranked.push_back(1);
  for (int64_t d : m.shape()) ranked.push_back(d);
  return m.reshape(ranked);
}

bool needs_grad(std::initializer_list<const Tensor*> ts) {
  if (!grad_mode_enabled()) return false;
  for (const Tensor* t : ts)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

}  // namespace

Tensor scaled_masked_softmax(const Tensor& scores, const Tensor& mask, double scale,
                             bool is_causal) {
  constexpr const char* op = "scaled_masked_softmax";
  if (!scores.defined()) throw ValueError("[scaled_masked_softmax] scores are undefined");
  check_floating(scores, op, "scores");
  if (scores.ndim() < (is_causal ? 2 : 1))
    throw ShapeError(std::string("[") + op + "] needs scores of at least " +
                     (is_causal ? "2" : "1") + " dims, got " + shape_str(scores.shape()));
  Tensor m = prepare_mask(mask, scores.shape(), scores.dtype(), op);
  Attrs attrs{{"scale", scale}, {"causal", is_causal}};
  return m.defined() ? apply(kMaskedSoftmax, {scores, m}, attrs)
                     : apply(kMaskedSoftmax, {scores}, attrs);
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  if (!q.defined() || !k.defined() || !v.defined())
    throw ValueError(std::string("[") + kSdpa + "] q, k and v must be defined");
  auto shapes = [&] {
    return shape_str(q.shape()) + ", " + shape_str(k.shape()) + ", " + shape_str(v.shape());
  };
  if (q.ndim() < 2 || k.ndim() < 2 || v.ndim() < 2)
    throw ShapeError(std::string("[") + kSdpa + "] q, k, v need at least 2 dims (..., L, E), got " +
                     shapes());
  for (auto [t, name] : {std::pair{&q, "q"}, {&k, "k"}, {&v, "v"}}) check_floating(*t, kSdpa, name);
  if (k.dtype() != q.dtype() || v.dtype() != q.dtype())
    throw DTypeError(std::string("[") + kSdpa + "] q, k, v must share a dtype, got " +
                     dtype_str(q.dtype()) + ", " + dtype_str(k.dtype()) + ", " +
                     dtype_str(v.dtype()));
  if (q.size(-1) != k.size(-1))
    throw ShapeError(std::string("[") + kSdpa + "] q and k need the same last dim (E), got " +
                     shapes());
  if (k.size(-2) != v.size(-2))
    throw ShapeError(std::string("[") + kSdpa +
                     "] k and v need the same sequence length (dim -2), got " + shapes());
  if (!(dropout_p >= 0 && dropout_p < 1))
    throw ValueError(std::string("[") + kSdpa + "] dropout_p must be in [0, 1), got " +
                     std::to_string(dropout_p));
  Shape batch;
  for (const Tensor* t : {&q, &k, &v}) {
    Shape b = batch_of(t->shape());
    std::size_t n = std::max(batch.size(), b.size());
    Shape out(n);
    for (std::size_t i = 0; i < n; ++i) {
      int64_t x = i < n - batch.size() ? 1 : batch[i - (n - batch.size())];
      int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
      if (x != y && x != 1 && y != 1)
        throw ShapeError(std::string("[") + kSdpa +
                         "] batch dims of q, k, v do not broadcast: " + shapes());
      out[i] = x == 1 ? y : x;
    }
    batch = out;
  }
  auto expand = [&](const Tensor& t) {
    Shape s = batch;
    s.push_back(t.size(-2));
    s.push_back(t.size(-1));
    return t.shape() == s ? t : t.broadcast_to(s);
  };
  Tensor qe = expand(q), ke = expand(k), ve = expand(v);
  Shape score_shape = batch;
  score_shape.push_back(q.size(-2));
  score_shape.push_back(k.size(-2));
  Tensor m = prepare_mask(attn_mask, score_shape, q.dtype(), kSdpa);
  double sc = scale ? *scale : 1.0 / std::sqrt(double(std::max<int64_t>(q.size(-1), 1)));
  if (dropout_p > 0 || needs_grad({&q, &k, &v, &attn_mask})) {
    // Composed: autograd keeps the attention weights instead of recomputing them.
    Tensor p = scaled_masked_softmax(matmul(qe, mT(ke)), m, sc, is_causal);
    if (dropout_p > 0) p = p * bernoulli(full_like(p, 1 - dropout_p)) * (1 / (1 - dropout_p));
    return matmul(p, ve);
  }
  Attrs attrs{{"scale", sc}, {"causal", is_causal}};
  return m.defined() ? apply(kAttention, {qe, ke, ve, m}, attrs)
                     : apply(kAttention, {qe, ke, ve}, attrs);
}

}  // namespace nabla
