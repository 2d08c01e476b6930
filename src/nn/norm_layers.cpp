#include <algorithm>

#include "nabla/nabla.h"
#include "nabla/nn/norm.h"

namespace nabla::nn {
namespace {

void check_positive(const std::string& layer, const char* what, int64_t v) {
  if (v <= 0)
    throw ValueError("[" + layer + "] " + what + " must be positive, got " + std::to_string(v));
}

std::string ranks_str(const Shape& ranks) {
  std::string s;
  for (std::size_t i = 0; i < ranks.size(); ++i)
    s += (i ? (i + 1 == ranks.size() ? " or " : ", ") : "") + std::to_string(ranks[i]) + "-d";
  return s;
}

}  // namespace

BatchNorm::BatchNorm(std::string name, int64_t n, BatchNormOptions o, Shape ranks)
    : name_(std::move(name)), features_(n), o_(o), ranks_(std::move(ranks)) {
  check_positive(name_, "num_features", n);
  if (o.affine) {
    weight = register_parameter("weight", ones({n}));
    bias = register_parameter("bias", zeros({n}));
  }
  if (o.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({n}));
    running_var = register_buffer("running_var", ones({n}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, int64));
  }
}

void BatchNorm::reset_running_stats() {
  if (!o_.track_running_stats) return;
  running_mean.fill_(0);
  running_var.fill_(1);
  num_batches_tracked.fill_(0);
}

Tensor BatchNorm::forward(const Tensor& x) {
  if (std::find(ranks_.begin(), ranks_.end(), x.ndim()) == ranks_.end())
    throw ShapeError("[" + name_ + "] expects " + ranks_str(ranks_) + " input, got shape " +
                     shape_str(x.shape()));
  if (x.shape()[1] != features_)
    throw ShapeError("[" + name_ + "] expects " + std::to_string(features_) +
                     " channels (dim 1), got input of shape " + shape_str(x.shape()));
  const bool training = is_training();
  double momentum = o_.momentum.value_or(0.0);
  if (training && o_.track_running_stats && x.is_concrete()) {
    int64_t seen = 0;
    {
      NoGradGuard off;
      num_batches_tracked.add_(scalar(1, int64));
      seen = num_batches_tracked.item<int64_t>();
    }
    if (!o_.momentum) momentum = 1.0 / double(seen);
  }
  // Running stats join only when tracked; without them batch_norm uses batch statistics.
  return batch_norm(x, running_mean, running_var, weight, bias, training || !o_.track_running_stats,
                    momentum, o_.eps);
}

std::string BatchNorm::describe() const { return name_ + "(" + std::to_string(features_) + ")"; }

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions o)
    : shape_(std::move(normalized_shape)), o_(o) {
  if (shape_.empty()) throw ValueError("[LayerNorm] normalized_shape must not be empty");
  for (int64_t d : shape_) check_positive("LayerNorm", "normalized_shape", d);
  if (o.elementwise_affine) {
    weight = register_parameter("weight", ones(shape_));
    bias = register_parameter("bias", zeros(shape_));
  }
}
Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, shape_, weight, bias, o_.eps); }
std::string LayerNorm::describe() const { return "LayerNorm" + shape_str(shape_); }

GroupNorm::GroupNorm(int64_t groups, int64_t channels, GroupNormOptions o)
    : groups_(groups), channels_(channels), o_(o) {
  check_positive("GroupNorm", "num_groups", groups);
  check_positive("GroupNorm", "num_channels", channels);
  if (channels % groups)
    throw ValueError("[GroupNorm] num_groups=" + std::to_string(groups) +
                     " must divide num_channels=" + std::to_string(channels));
  if (o.affine) {
    weight = register_parameter("weight", ones({channels}));
    bias = register_parameter("bias", zeros({channels}));
  }
}
Tensor GroupNorm::forward(const Tensor& x) {
  if (x.ndim() < 2 || x.shape()[1] != channels_)
    throw ShapeError("[GroupNorm] expects (N, " + std::to_string(channels_) +
                     ", *) input, got shape " + shape_str(x.shape()));
  return group_norm(x, groups_, weight, bias, o_.eps);
}
std::string GroupNorm::describe() const {
  return "GroupNorm(groups=" + std::to_string(groups_) + ", channels=" + std::to_string(channels_) +
         ")";
}

}  // namespace nabla::nn
