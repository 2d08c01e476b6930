// Convolution and pooling over NCHW images (NCL for the 1-d forms, NCDHW for volumes), with
// PyTorch semantics: weights are OIHW (out channels, in channels / groups, kernel height,
// kernel width), OIDHW in 3-d, and (in channels, out channels / groups, kernel...) for the
// transposed convolutions; padding is zeros for convolution and average pooling and -inf for
// max pooling. float32 runs on oneDNN; float64 on direct loops; float16 and bfloat16 compute
// in float32.
#pragma once
#include "nabla/tensor.h"

namespace nabla {

struct Conv2dOptions {
  Shape stride{1, 1};
  Shape padding{0, 0};  // per side: {h, w}, or {top, left, bottom, right}
  Shape dilation{1, 1};
  int64_t groups = 1;
  // Pads so the output keeps the input's size (stride must be 1); overrides `padding`.
  // An odd total pad puts the extra row/column at the bottom/right, as PyTorch does.
  bool same = false;
};

struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool same = false;
};

struct Conv3dOptions {
  Shape stride{1, 1, 1};
  Shape padding{0, 0, 0};  // per side: {d, h, w}, or {front, top, left, back, bottom, right}
  Shape dilation{1, 1, 1};
  int64_t groups = 1;
  bool same = false;  // as Conv2dOptions::same
};

// The fields in the order of torch.nn.functional.conv_transpose2d's arguments. padding
// removes that many rows/columns from each side of the full output; output_padding adds
// that many at the bottom/right, and must be smaller than the stride or the dilation.
struct ConvTranspose2dOptions {
  Shape stride{1, 1};
  Shape padding{0, 0};
  Shape output_padding{0, 0};
  int64_t groups = 1;
  Shape dilation{1, 1};
};

struct ConvTranspose1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t output_padding = 0;
  int64_t groups = 1;
  int64_t dilation = 1;
};

// x (N, C, H, W), w (O, C / groups, KH, KW), optional bias (O) -> (N, O, HO, WO).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, Conv2dOptions o = {});
// x (N, C, L), w (O, C / groups, K), optional bias (O) -> (N, O, LO).
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, Conv1dOptions o = {});
// x (N, C, D, H, W), w (O, C / groups, KD, KH, KW), optional bias (O) -> (N, O, DO, HO, WO).
Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, Conv3dOptions o = {});

// The transposed convolutions (the adjoints of conv2d and conv1d in x, as PyTorch's):
// x (N, C, H, W), w (C, O / groups, KH, KW), optional bias (O) -> (N, O, HO, WO) with
// HO = (H - 1) * stride - 2 * padding + dilation * (KH - 1) + output_padding + 1.
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& bias = {},
                        ConvTranspose2dOptions o = {});
// x (N, C, L), w (C, O / groups, K), optional bias (O) -> (N, O, LO).
Tensor conv_transpose1d(const Tensor& x, const Tensor& w, const Tensor& bias = {},
                        ConvTranspose1dOptions o = {});

// The gradients of conv2d (as torch.nn.grad.conv2d_input / conv2d_weight): the input
// gradient from the output gradient g and the weights, and the weight gradient from the
// input x and g. The shape arguments are the input's and the weight's.
Tensor conv2d_backward_input(const Tensor& g, const Tensor& w, const Shape& input_shape,
                             Conv2dOptions o = {});
Tensor conv2d_backward_weight(const Tensor& x, const Tensor& g, const Shape& weight_shape,
                              Conv2dOptions o = {});
// The same for conv3d.
Tensor conv3d_backward_input(const Tensor& g, const Tensor& w, const Shape& input_shape,
                             Conv3dOptions o = {});
Tensor conv3d_backward_weight(const Tensor& x, const Tensor& g, const Shape& weight_shape,
                              Conv3dOptions o = {});

}  // namespace nabla
