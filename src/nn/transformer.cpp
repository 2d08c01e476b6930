// nn::MultiheadAttention, as torch.nn.MultiheadAttention (F.multi_head_attention_forward):
// project, split heads as strided views (no copy: the attention kernel reads them in place),
// scaled dot-product attention, merge heads, out_proj.
#include "nabla/nn/transformer.h"

#include <cmath>
#include <limits>

#include "nabla/nabla.h"
#include "nabla/nn/init.h"

namespace nabla::nn {
namespace {

[[noreturn]] void shape_error(const std::string& what) {
  throw ShapeError("[MultiheadAttention] " + what);
}

Tensor project(const Tensor& x, const Tensor& w, const Tensor& b) {
  Tensor y = matmul(x, w.t());
  return b.defined() ? y + b : y;
}

// A user mask as an additive float mask: bool true = masked out (-inf), floats as they are.
Tensor additive(const Tensor& m, DType dtype, const char* name) {
  if (m.dtype() == bool_)
    return where(m, full({}, -std::numeric_limits<double>::infinity(), dtype), zeros({}, dtype));
  if (!is_floating(m.dtype()))
    throw DTypeError(std::string("[MultiheadAttention] ") + name +
                     " must be bool or floating, got " + std::string(dtype_name(m.dtype())));
  return m.astype(dtype);
}

}  // namespace

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t num_heads,
                                       MultiheadAttentionOptions o)
    : embed_dim_(embed_dim),
      heads_(num_heads),
      kdim_(o.kdim ? o.kdim : embed_dim),
      vdim_(o.vdim ? o.vdim : embed_dim),
      o_(o) {
  if (embed_dim <= 0 || num_heads <= 0 || kdim_ <= 0 || vdim_ <= 0)
    throw ValueError(
        "[MultiheadAttention] embed_dim, num_heads, kdim and vdim must be positive, got " +
        std::to_string(embed_dim) + ", " + std::to_string(num_heads) + ", " +
        std::to_string(kdim_) + ", " + std::to_string(vdim_));
  if (embed_dim % num_heads != 0)
    throw ValueError("[MultiheadAttention] embed_dim " + std::to_string(embed_dim) +
                     " is not divisible by num_heads " + std::to_string(num_heads));
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw ValueError("[MultiheadAttention] dropout must be in [0, 1), got " +
                     std::to_string(o.dropout));
  const int64_t E = embed_dim;
  if (kdim_ == E && vdim_ == E) {
    in_proj_weight = register_parameter("in_proj_weight", empty({3 * E, E}));
    init::xavier_uniform_(in_proj_weight);
  } else {
    q_proj_weight = register_parameter("q_proj_weight", empty({E, E}));
    k_proj_weight = register_parameter("k_proj_weight", empty({E, kdim_}));
    v_proj_weight = register_parameter("v_proj_weight", empty({E, vdim_}));
    for (Tensor* w : {&q_proj_weight, &k_proj_weight, &v_proj_weight}) init::xavier_uniform_(*w);
  }
  if (o.bias) in_proj_bias = register_parameter("in_proj_bias", zeros({3 * E}));
  out_proj = register_module("out_proj", Linear(E, E, o.bias));
  if (o.bias) init::zeros_(out_proj->bias);
}

AttentionOutput MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                            const Tensor& value, const Tensor& key_padding_mask,
                                            const Tensor& attn_mask, bool need_weights,
                                            bool average_attn_weights, bool is_causal) {
  if (!query.defined() || !key.defined() || !value.defined())
    throw ValueError("[MultiheadAttention] undefined input");
  auto shapes = [&] {
    return "query " + shape_str(query.shape()) + ", key " + shape_str(key.shape()) + ", value " +
           shape_str(value.shape());
  };
  const bool batched = query.ndim() == 3;
  if ((query.ndim() != 2 && query.ndim() != 3) || key.ndim() != query.ndim() ||
      value.ndim() != query.ndim())
    shape_error("expects batched (3-d) or unbatched (2-d) inputs of one rank, got " + shapes());
  // Everything below works batch first: (N, L, E).
  auto batch_first = [&](const Tensor& t) {
    return !batched ? t.unsqueeze(0) : o_.batch_first ? t : t.transpose(0, 1);
  };
  Tensor qx = batch_first(query), kx = batch_first(key), vx = batch_first(value);
  const int64_t N = qx.size(0), L = qx.size(1), S = kx.size(1), E = embed_dim_, H = heads_,
                hd = E / H;
  if (qx.size(2) != E || kx.size(2) != kdim_ || vx.size(2) != vdim_)
    shape_error("expects feature dims " + std::to_string(E) + ", " + std::to_string(kdim_) + ", " +
                std::to_string(vdim_) + ", got " + shapes());
  if (kx.size(0) != N || vx.size(0) != N || vx.size(1) != S)
    shape_error("batch sizes or key/value lengths differ: " + shapes());
  if (!is_floating(qx.dtype()))
    throw DTypeError("[MultiheadAttention] inputs must be floating, got " +
                     std::string(dtype_name(qx.dtype())));

  Tensor q, k, v;
  if (in_proj_weight.defined() && query.node() == key.node() && key.node() == value.node()) {
    Tensor qkv = project(qx, in_proj_weight, in_proj_bias);  // one GEMM for self-attention
    q = qkv.slice(2, 0, E), k = qkv.slice(2, E, 2 * E), v = qkv.slice(2, 2 * E, 3 * E);
  } else {
    auto part = [&](const Tensor& w, int64_t i) {
      return w.defined() ? w : in_proj_weight.slice(0, i * E, (i + 1) * E);
    };
    auto bias = [&](int64_t i) {
      return in_proj_bias.defined() ? in_proj_bias.slice(0, i * E, (i + 1) * E) : Tensor();
    };
    q = project(qx, part(q_proj_weight, 0), bias(0));
    k = project(kx, part(k_proj_weight, 1), bias(1));
    v = project(vx, part(v_proj_weight, 2), bias(2));
  }
  auto heads = [&](const Tensor& t, int64_t len) {
    return t.reshape({N, len, H, hd}).transpose(1, 2);
  };
  q = heads(q, L), k = heads(k, S), v = heads(v, S);

  // One additive mask broadcasting to (N, H, L, S).
  Tensor mask;
  if (attn_mask.defined()) {
    Shape want3 = batched ? Shape{N * H, L, S} : Shape{H, L, S};
    if (attn_mask.shape() == Shape{L, S})
      mask = additive(attn_mask, qx.dtype(), "attn_mask");
    else if (attn_mask.shape() == want3)
      mask = additive(attn_mask, qx.dtype(), "attn_mask").reshape({N, H, L, S});
    else
      shape_error("attn_mask must be " + shape_str(Shape{L, S}) + " or " + shape_str(want3) +
                  ", got " + shape_str(attn_mask.shape()));
  }
  if (key_padding_mask.defined()) {
    Shape want = batched ? Shape{N, S} : Shape{S};
    if (key_padding_mask.shape() != want)
      shape_error("key_padding_mask must be " + shape_str(want) + ", got " +
                  shape_str(key_padding_mask.shape()));
    Tensor kpm = additive(key_padding_mask, qx.dtype(), "key_padding_mask").reshape({N, 1, 1, S});
    mask = mask.defined() ? mask + kpm : kpm;
  }
  const bool causal = is_causal && !attn_mask.defined();
  const double p = is_training() ? o_.dropout : 0.0, scale = 1 / std::sqrt(double(hd));

  Tensor out, weights;
  if (need_weights) {
    weights = scaled_masked_softmax(matmul(q, k.transpose(-1, -2)), mask, scale, causal);
    if (p > 0)
      weights = weights * bernoulli(1 - p, weights.shape(), weights.dtype()) * (1 / (1 - p));
    out = matmul(weights, v);
    if (average_attn_weights) weights = mean(weights, {1});
    if (!batched) weights = weights.squeeze(0);
  } else {
    out = scaled_dot_product_attention(q, k, v, mask, p, causal, scale);
  }
  out = out_proj->forward(out.transpose(1, 2).reshape({N, L, E}));
  out = !batched ? out.squeeze(0) : o_.batch_first ? out : out.transpose(0, 1);
  return {out, weights};
}

Tensor MultiheadAttention::forward(const Tensor& x) {
  return forward(x, x, x, Tensor(), Tensor(), false).output;
}

std::string MultiheadAttention::describe() const {
  return "MultiheadAttention(embed_dim=" + std::to_string(embed_dim_) +
         ", num_heads=" + std::to_string(heads_) + ")";
}

}  // namespace nabla::nn
