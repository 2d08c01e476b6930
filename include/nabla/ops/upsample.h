// Upsampling (resizing) of (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs over their
// spatial dims, matching torch.nn.functional.interpolate. Inputs are floating; all forms are
// differentiable to any order.
#pragma once
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// Give either `size` or `scale_factor` (one value stands for every spatial dim). With a scale
// factor the output size is floor(input size * scale) and source positions are computed from
// the scale itself, as PyTorch does (recompute_scale_factor unset).
struct UpsampleOptions {
  Shape size;
  std::vector<double> scale_factor;
  // Linear modes only: the corner pixels of input and output are aligned (their centres
  // otherwise), PyTorch's align_corners.
  bool align_corners = false;
};

// Each output element copies the input element at floor(out_index * in_size / out_size)
// (PyTorch's mode "nearest"). Any of the three layouts.
Tensor upsample_nearest(const Tensor& x, const UpsampleOptions& o);
// Linear interpolation between the two nearest input elements along each spatial dim
// (PyTorch's modes "linear", "bilinear", "trilinear"); the input must have that many spatial dims.
Tensor upsample_linear(const Tensor& x, const UpsampleOptions& o);     // (N, C, L)
Tensor upsample_bilinear(const Tensor& x, const UpsampleOptions& o);   // (N, C, H, W)
Tensor upsample_trilinear(const Tensor& x, const UpsampleOptions& o);  // (N, C, D, H, W)

}  // namespace nabla
