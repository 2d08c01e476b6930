// Normalisation layers, as torch.nn's: same constructor defaults, parameters (weight ones,
// bias zeros), buffers and state_dict names, so weights and statistics move between the two.
#pragma once
#include <optional>
#include <string>

#include "nabla/nn/module.h"

namespace nabla::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  // Weight of each batch in the running stats; nullopt: a cumulative average over the
  // num_batches_tracked batches seen.
  std::optional<double> momentum = 0.1;
  bool affine = true;               // learnable weight and bias of shape (C)
  bool track_running_stats = true;  // false: batch stats in eval mode too, no buffers
};

// Shared by BatchNorm1d and BatchNorm2d. Training normalises with batch statistics and
// updates running_mean, running_var (unbiased) and num_batches_tracked; eval uses the
// running stats. Buffers: running_mean (zeros), running_var (ones), num_batches_tracked
// (int64 scalar).
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  // Running stats back to zeros / ones and the batch count to 0.
  void reset_running_stats();

 protected:
  BatchNorm(std::string name, int64_t num_features, BatchNormOptions options, Shape ranks);

 private:
  std::string name_;
  int64_t features_;
  BatchNormOptions o_;
  Shape ranks_;  // accepted input ranks
};

// Input (N, C) or (N, C, L).
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm1d", num_features, options, {2, 3}) {}
};

// Input (N, C, H, W).
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm2d", num_features, options, {4}) {}
};

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  // learnable weight and bias of normalized_shape
};

// Normalises over the trailing dims given by normalized_shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  Shape shape_;
  LayerNormOptions o_;
};

struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;  // learnable weight and bias of shape (num_channels)
};

// Input (N, C, *): C = num_channels split into num_groups groups (which must divide it).
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, GroupNormOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t groups_, channels_;
  GroupNormOptions o_;
};

}  // namespace nabla::nn
