// Choosing the next token from a language model's logits.
//
//   nb::Tensor logits = model(context);                 // (N, V) or (V)
//   nb::Tensor best = nn::greedy_sample(logits);        // int64 (N): the argmax
//   nb::Generator gen(42);
//   nb::Tensor next = nn::sample_logits(logits, {.temperature = 0.8, .top_k = 40}, &gen);
#pragma once
#include <cstdint>

#include "nabla/random.h"
#include "nabla/tensor.h"

namespace nabla::nn {

struct SamplingOptions {
  // The logits are divided by it: below 1 sharpens the distribution, above 1 flattens it.
  // Must be positive and finite (use greedy_sample for the limit 0).
  double temperature = 1.0;
  // Keep only the k largest logits of each row (ties broken by the lower index); 0: keep all.
  // A k above the vocabulary size keeps all.
  int64_t top_k = 0;
};

// The index of the largest logit along the last axis (the first one on ties): int64 with the
// logits' shape less its last axis. ShapeError for a 0-d tensor or an empty last axis,
// DTypeError for logits that are not floating point, ValueError for a NaN.
Tensor greedy_sample(const Tensor& logits);

// One index per row drawn from softmax(logits / temperature) over the last axis, restricted to
// the top_k largest logits when top_k > 0. The draws are a function of the generator's state
// (the default generator when null), one uniform per row. Same shape, dtype and errors as
// greedy_sample, and ValueError for a non-positive or non-finite temperature or a negative top_k.
Tensor sample_logits(const Tensor& logits, const SamplingOptions& options = {},
                     Generator* gen = nullptr);

}  // namespace nabla::nn
