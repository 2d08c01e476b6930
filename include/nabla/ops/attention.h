// Attention: scaled dot-product attention with PyTorch's semantics
// (torch.nn.functional.scaled_dot_product_attention) and the scaled, masked softmax it is built on.
//
// Masks broadcast to the score shape (..., L, S). A bool mask says which entries TAKE PART
// (true = attend, false = masked out, as in PyTorch's sdpa); a floating mask is ADDED to the
// scores (0 keeps, -inf removes, any value biases). is_causal keeps key j for query i only
// where j <= i (the top-left aligned lower triangle, as PyTorch). A row with every entry masked
// out gives NaN, as PyTorch's softmax of all -inf does. Inputs are float16, bfloat16, float32 or
// float64; the gradient flows to q, k, v and a floating mask.
#pragma once
#include <optional>

#include "nabla/tensor.h"

namespace nabla {

// softmax(scores * scale + mask) over the last dim, in one pass (no intermediate tensors).
Tensor scaled_masked_softmax(const Tensor& scores, const Tensor& mask = Tensor(),
                             double scale = 1.0, bool is_causal = false);

// softmax(q k^T * scale + mask) v, with q (..., L, E), k (..., S, E), v (..., S, Ev) whose
// leading (batch) dims broadcast; the result is (..., L, Ev). scale defaults to 1/sqrt(E).
// dropout_p > 0 drops attention weights with that probability (and scales the rest by
// 1/(1 - p)) whenever it is given, as the functional PyTorch form does; modules pass 0 in eval.
// Without dropout and with no input requiring a gradient, one fused kernel computes each
// (batch, head) block: q k^T into a cache-resident buffer, the masked softmax, then times v.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

}  // namespace nabla
