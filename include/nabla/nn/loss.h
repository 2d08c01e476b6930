// Loss functions (torch.nn.functional semantics) and their module forms.
#pragma once
#include "nabla/tensor.h"

namespace nabla::nn {

enum class Reduction { mean, sum, none };

struct CrossEntropyOptions {
  Tensor weight;               // per-class weights (C), optional
  int64_t ignore_index = -100;  // targets equal to it add nothing (class-index targets)
  double label_smoothing = 0;
  Reduction reduction = Reduction::mean;
};

// logits (N, C) or (N, C, d1...); target: class indices (N) / (N, d1...) as integers, or
// class probabilities of the logits' shape. Mean reduction divides by the summed weights
// of the counted targets, as PyTorch does.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options = {});
// log_probs as log_softmax gives them; class-index targets.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& options = {});
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
// Quadratic below beta, linear above (torch.nn.SmoothL1Loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, double beta = 1.0, Reduction reduction = Reduction::mean);
Tensor huber_loss(const Tensor& input, const Tensor& target, double delta = 1.0, Reduction reduction = Reduction::mean);
// input: probabilities in [0, 1] (log clamped at -100 as PyTorch).
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::mean);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, const Tensor& pos_weight = {},
                                        Reduction reduction = Reduction::mean);
// input: log-probabilities; target: probabilities (or log-probabilities with log_target).
// Reduction::mean averages over elements; use batchmean-style sum/N by hand.
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean, bool log_target = false);
// y = 1: 1 - cos(a, b); y = -1: max(0, cos(a, b) - margin).
Tensor cosine_embedding_loss(const Tensor& a, const Tensor& b, const Tensor& y, double margin = 0,
                             Reduction reduction = Reduction::mean);
// max(0, -y (a - b) + margin)
Tensor margin_ranking_loss(const Tensor& a, const Tensor& b, const Tensor& y, double margin = 0,
                           Reduction reduction = Reduction::mean);

// Module-style wrappers: callable objects holding the options.
struct CrossEntropyLoss {
  CrossEntropyOptions options;
  Tensor operator()(const Tensor& logits, const Tensor& target) const { return cross_entropy(logits, target, options); }
};
struct MSELoss {
  Reduction reduction = Reduction::mean;
  Tensor operator()(const Tensor& x, const Tensor& y) const { return mse_loss(x, y, reduction); }
};
struct L1Loss {
  Reduction reduction = Reduction::mean;
  Tensor operator()(const Tensor& x, const Tensor& y) const { return l1_loss(x, y, reduction); }
};
struct BCEWithLogitsLoss {
  Tensor pos_weight;
  Reduction reduction = Reduction::mean;
  Tensor operator()(const Tensor& x, const Tensor& y) const {
    return binary_cross_entropy_with_logits(x, y, pos_weight, reduction);
  }
};

}  // namespace nabla::nn
