// Normalisation: batch, layer and group norm with PyTorch's semantics (torch.nn.functional).
// Inputs are float16, bfloat16, float32 or float64 (16-bit floats compute in float32);
// integer inputs throw DTypeError. Weight and bias are optional (an undefined Tensor()), are
// cast to the input's dtype, and get gradients like any input. Gradients of every order work.
#pragma once
#include "nabla/tensor.h"

namespace nabla {

// x is (N, C) or (N, C, *). Training (or when no running stats are given): normalises each
// channel with the batch mean and biased variance over every dim but 1, and, when running
// stats are given, updates them in place:
//   running = (1 - momentum) * running + momentum * batch   (the variance term unbiased).
// Otherwise normalises with running_mean and running_var. Then y = x_hat * weight + bias,
// weight and bias of shape (C). Training needs more than one value per channel (ValueError);
// an empty batch gives an empty output and leaves the running stats as they are.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  bool training = false, double momentum = 0.1, double eps = 1e-5);

// Normalises over the trailing dims given by normalized_shape (which must match x's last
// dims); weight and bias have that shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// x is (N, C, *): channels split into num_groups groups (which must divide C), each
// normalised over its channels and the spatial dims; weight and bias have shape (C).
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

}  // namespace nabla
