// nn::TransformerEncoderLayer and TransformerEncoder (torch.nn's, post- or pre-norm) and the
// positional encodings.
#include <cmath>

#include "nabla/nabla.h"
#include "nabla/nn/init.h"
#include "nabla/nn/transformer.h"

namespace nabla::nn {

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model, int64_t nhead,
                                                 TransformerEncoderLayerOptions o)
    : d_model_(d_model), nhead_(nhead), o_(o) {
  if (o.activation != "relu" && o.activation != "gelu")
    throw ValueError("[TransformerEncoderLayer] activation must be \"relu\" or \"gelu\", got \"" +
                     o.activation + "\"");
  if (o.dim_feedforward <= 0)
    throw ValueError("[TransformerEncoderLayer] dim_feedforward must be positive, got " +
                     std::to_string(o.dim_feedforward));
  self_attn = register_module(
      "self_attn",
      MultiheadAttention(d_model, nhead, {.dropout = o.dropout, .batch_first = o.batch_first}));
  linear1 = register_module("linear1", Linear(d_model, o.dim_feedforward));
  dropout_ = register_module("dropout", Dropout(o.dropout));
  linear2 = register_module("linear2", Linear(o.dim_feedforward, d_model));
  norm1 = register_module("norm1", LayerNorm({d_model}, {.eps = o.layer_norm_eps}));
  norm2 = register_module("norm2", LayerNorm({d_model}, {.eps = o.layer_norm_eps}));
  dropout1_ = register_module("dropout1", Dropout(o.dropout));
  dropout2_ = register_module("dropout2", Dropout(o.dropout));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) { return forward(src, Tensor()); }

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask, bool is_causal) {
  auto sa = [&](const Tensor& x) {
    return dropout1_->forward(
        self_attn->forward(x, x, x, src_key_padding_mask, src_mask, false, true, is_causal).output);
  };
  auto ff = [&](const Tensor& x) {
    Tensor h = linear1->forward(x);
    h = o_.activation == "relu" ? relu(h) : gelu(h);
    return dropout2_->forward(linear2->forward(dropout_->forward(h)));
  };
  if (o_.norm_first) {
    Tensor x = src + sa(norm1->forward(src));
    return x + ff(norm2->forward(x));
  }
  Tensor x = norm1->forward(src + sa(src));
  return norm2->forward(x + ff(x));
}

std::string TransformerEncoderLayer::describe() const {
  return "TransformerEncoderLayer(d_model=" + std::to_string(d_model_) +
         ", nhead=" + std::to_string(nhead_) +
         ", dim_feedforward=" + std::to_string(o_.dim_feedforward) + ", " + o_.activation +
         (o_.norm_first ? ", norm_first" : "") + ")";
}

TransformerEncoderLayer TransformerEncoderLayer::clone() const {
  TransformerEncoderLayer copy(d_model_, nhead_, o_);
  NoGradGuard no_grad;
  copy.load_state_dict(state_dict());
  copy.train(is_training());
  return copy;
}

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayer& layer, int64_t num_layers,
                                       std::optional<LayerNorm> final_norm) {
  if (num_layers <= 0)
    throw ValueError("[TransformerEncoder] num_layers must be positive, got " +
                     std::to_string(num_layers));
  auto list = register_module("layers", ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    layers.push_back(std::make_shared<TransformerEncoderLayer>(layer.clone()));
    list->append(std::shared_ptr<Module>(layers.back()));
  }
  if (final_norm) norm = register_module("norm", std::move(*final_norm));
}

Tensor TransformerEncoder::forward(const Tensor& src) { return forward(src, Tensor()); }

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask, bool is_causal) {
  Tensor x = src;
  for (auto& layer : layers) x = layer->forward(x, mask, src_key_padding_mask, is_causal);
  return norm ? norm->forward(x) : x;
}

std::string TransformerEncoder::describe() const {
  return "TransformerEncoder(num_layers=" + std::to_string(layers.size()) + (norm ? ", norm" : "") +
         ")";
}

namespace {

// Adds table[:L] to x along its sequence dim (-2 batch first or unbatched, 0 otherwise).
Tensor add_positions(const char* name, const Tensor& x, const Tensor& table, bool batch_first) {
  const int64_t d = table.size(1), max_len = table.size(0);
  if (!x.defined() || x.ndim() < 2 || x.ndim() > 3 || x.size(-1) != d)
    throw ShapeError(std::string("[") + name + "] expects (N, L, " + std::to_string(d) +
                     "), (L, N, " + std::to_string(d) + ") or (L, " + std::to_string(d) +
                     ") inputs, got " +
                     (x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor")));
  const bool seq_first = x.ndim() == 3 && !batch_first;
  const int64_t len = x.size(seq_first ? 0 : -2);
  if (len > max_len)
    throw ShapeError(std::string("[") + name + "] sequence length " + std::to_string(len) +
                     " exceeds max_len " + std::to_string(max_len) + " (input " +
                     shape_str(x.shape()) + ")");
  Tensor pos = table.slice(0, 0, len);
  return x + (seq_first ? pos.unsqueeze(1) : pos);
}

}  // namespace

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t d_model, int64_t max_len,
                                                           double dropout, bool batch_first)
    : d_model_(d_model), max_len_(max_len), batch_first_(batch_first) {
  if (d_model <= 0 || max_len <= 0)
    throw ValueError("[SinusoidalPositionalEncoding] d_model and max_len must be positive, got " +
                     std::to_string(d_model) + ", " + std::to_string(max_len));
  std::vector<float> table(std::size_t(max_len * d_model));
  for (int64_t p = 0; p < max_len; ++p)
    for (int64_t i = 0; i < d_model; ++i) {
      double angle = double(p) * std::exp(-std::log(10000.0) * double(i - i % 2) / double(d_model));
      table[std::size_t(p * d_model + i)] = float(i % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  pe = register_buffer("pe", tensor(table, {max_len, d_model}));
  dropout_ = register_module("dropout", Dropout(dropout));
}

Tensor SinusoidalPositionalEncoding::forward(const Tensor& x) {
  return dropout_->forward(add_positions("SinusoidalPositionalEncoding", x, pe, batch_first_));
}

std::string SinusoidalPositionalEncoding::describe() const {
  return "SinusoidalPositionalEncoding(d_model=" + std::to_string(d_model_) +
         ", max_len=" + std::to_string(max_len_) + ")";
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len, int64_t d_model,
                                                       bool batch_first)
    : max_len_(max_len), d_model_(d_model), batch_first_(batch_first) {
  if (d_model <= 0 || max_len <= 0)
    throw ValueError("[LearnedPositionalEmbedding] max_len and d_model must be positive, got " +
                     std::to_string(max_len) + ", " + std::to_string(d_model));
  weight = register_parameter("weight", empty({max_len, d_model}));
  init::normal_(weight);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& x) {
  return add_positions("LearnedPositionalEmbedding", x, weight, batch_first_);
}

std::string LearnedPositionalEmbedding::describe() const {
  return "LearnedPositionalEmbedding(max_len=" + std::to_string(max_len_) +
         ", d_model=" + std::to_string(d_model_) + ")";
}

}  // namespace nabla::nn
