// Attention layers, as torch.nn's: MultiheadAttention, TransformerEncoderLayer and
// TransformerEncoder with the same constructor defaults, parameter names and layout, so a
// PyTorch state_dict loads into them (and back), plus sinusoidal and learned positional
// encodings. Masks follow torch.nn.MultiheadAttention: in a BOOL attn_mask or
// key_padding_mask, true means "masked out" (the opposite of scaled_dot_product_attention's
// bool mask, where true means "takes part"); floating masks are added to the scores.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nabla/nn/containers.h"
#include "nabla/nn/layers.h"
#include "nabla/nn/norm.h"

namespace nabla::nn {

struct MultiheadAttentionOptions {
  double dropout = 0.0;      // on the attention weights, in training mode only
  bool bias = true;          // in_proj_bias and out_proj.bias
  bool batch_first = false;  // inputs (N, L, E) instead of (L, N, E)
  int64_t kdim = 0;          // 0: embed_dim
  int64_t vdim = 0;          // 0: embed_dim
};

struct AttentionOutput {
  Tensor output;   // (L, N, E), (N, L, E) with batch_first, or (L, E) unbatched
  Tensor weights;  // (N, L, S) averaged over heads or (N, H, L, S); undefined unless asked
};

// Parameters: in_proj_weight (3E, E) when kdim == vdim == E, else q_proj_weight (E, E),
// k_proj_weight (E, kdim), v_proj_weight (E, vdim); in_proj_bias (3E); out_proj (a Linear,
// out_proj.weight and out_proj.bias). Initialised as PyTorch: xavier_uniform projections,
// zero biases, out_proj.weight as a Linear's.
class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options = {});
  // query (L, N, E), key (S, N, kdim), value (S, N, vdim) (batch dim first with batch_first;
  // no batch dim for unbatched inputs). key_padding_mask (N, S) (or (S)); attn_mask (L, S) or
  // (N * num_heads, L, S). is_causal without attn_mask applies the causal mask (key j <= query
  // i); with an attn_mask it is a hint, as in PyTorch, and the mask is used as given. The
  // weights returned are those that multiplied the values (after dropout, as PyTorch).
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const Tensor& key_padding_mask = Tensor(),
                          const Tensor& attn_mask = Tensor(), bool need_weights = true,
                          bool average_attn_weights = true, bool is_causal = false);
  // Self-attention: forward(x, x, x) without weights.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  Tensor in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias;
  std::shared_ptr<Linear> out_proj;
  int64_t embed_dim() const { return embed_dim_; }
  int64_t num_heads() const { return heads_; }

 private:
  int64_t embed_dim_, heads_, kdim_, vdim_;
  MultiheadAttentionOptions o_;
};

struct TransformerEncoderLayerOptions {
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";  // "relu" or "gelu" (exact, erf)
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;  // pre-norm: x + sa(norm1(x)), x + ff(norm2(x)); else post-norm
};

// Children: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2.
class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t d_model, int64_t nhead,
                          TransformerEncoderLayerOptions options = {});
  Tensor forward(const Tensor& src) override;
  // src_mask and src_key_padding_mask as MultiheadAttention's attn_mask and key_padding_mask.
  Tensor forward(const Tensor& src, const Tensor& src_mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  std::string describe() const override;
  // A layer with the same options and a copy of the current parameter values (not shared), in
  // the same training mode: PyTorch's copy.deepcopy.
  TransformerEncoderLayer clone() const;

  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<LayerNorm> norm1, norm2;
  const TransformerEncoderLayerOptions& options() const { return o_; }

 private:
  int64_t d_model_, nhead_;
  TransformerEncoderLayerOptions o_;
  std::shared_ptr<Dropout> dropout_, dropout1_, dropout2_;
};

// num_layers clones of `layer` (children layers.0, layers.1, ...), then an optional final norm
// ("norm"). As PyTorch, the clones are deep copies: every layer starts from the same weights as
// `layer` but owns them; train them apart, or re-initialise them if they should differ.
class TransformerEncoder : public Module {
 public:
  TransformerEncoder(const TransformerEncoderLayer& layer, int64_t num_layers,
                     std::optional<LayerNorm> norm = std::nullopt);
  Tensor forward(const Tensor& src) override;
  Tensor forward(const Tensor& src, const Tensor& mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  std::string describe() const override;

  std::vector<std::shared_ptr<TransformerEncoderLayer>> layers;
  std::shared_ptr<LayerNorm> norm;  // null without a final norm
};

// x + pe[position], pe[p, 2i] = sin(p / 10000^(2i / d_model)), pe[p, 2i + 1] = cos(...) (the
// buffer "pe" (max_len, d_model)), then dropout in training. x is (N, L, d_model) or
// (L, d_model) with batch_first, else (L, N, d_model).
class SinusoidalPositionalEncoding : public Module {
 public:
  SinusoidalPositionalEncoding(int64_t d_model, int64_t max_len = 5000, double dropout = 0.1,
                               bool batch_first = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor pe;

 private:
  int64_t d_model_, max_len_;
  bool batch_first_;
  std::shared_ptr<Dropout> dropout_;
};

// x + weight[position]; weight (max_len, d_model) is learned, initialised N(0, 1) as an
// Embedding. Same input layouts as SinusoidalPositionalEncoding.
class LearnedPositionalEmbedding : public Module {
 public:
  LearnedPositionalEmbedding(int64_t max_len, int64_t d_model, bool batch_first = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight;

 private:
  int64_t max_len_, d_model_;
  bool batch_first_;
};

}  // namespace nabla::nn
