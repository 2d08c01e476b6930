// Pooling over (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs with PyTorch semantics:
// windows of size `kernel` move by `stride` (default: the kernel) over the input padded by
// `padding` on each side (at most half the kernel). Max pooling pads with -inf and a NaN in a
// window makes its output NaN; average pooling pads with zeros. Where a Shape is taken, one
// value stands for every spatial dim. Inputs are floating (float32, float64, float16,
// bfloat16); all pools are differentiable to any order.
#pragma once
#include "nabla/tensor.h"

namespace nabla {

// x (N, C, L); stride 0 means the kernel.
Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);
// count_include_pad: padded zeros count in the divisor (PyTorch's default).
Tensor avg_pool1d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0,
                  bool count_include_pad = true);

// x (N, C, H, W).
Tensor max_pool2d(const Tensor& x, Shape kernel, Shape stride = {}, Shape padding = {0, 0});
Tensor avg_pool2d(const Tensor& x, Shape kernel, Shape stride = {}, Shape padding = {0, 0},
                  bool count_include_pad = true);

// x (N, C, D, H, W).
Tensor max_pool3d(const Tensor& x, Shape kernel, Shape stride = {}, Shape padding = {0});
Tensor avg_pool3d(const Tensor& x, Shape kernel, Shape stride = {}, Shape padding = {0},
                  bool count_include_pad = true);

// Adaptive pools give a fixed output size: output i of n along an input dim of size len pools
// the window [floor(i * len / n), ceil((i + 1) * len / n)).
Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size);
Tensor adaptive_avg_pool2d(const Tensor& x, Shape output_size);
Tensor adaptive_max_pool1d(const Tensor& x, int64_t output_size);
Tensor adaptive_max_pool2d(const Tensor& x, Shape output_size);

// The gradients of the 2-d pools: g has the pooled shape, the result x's shape.
// max_pool2d_backward routes each g to the first maximum of its window in x.
Tensor max_pool2d_backward(const Tensor& g, const Tensor& x, Shape kernel, Shape stride = {},
                           Shape padding = {0, 0});
Tensor avg_pool2d_backward(const Tensor& g, const Shape& input_shape, Shape kernel,
                           Shape stride = {}, Shape padding = {0, 0},
                           bool count_include_pad = true);

}  // namespace nabla
