// TensorDataset and TransformDataset.
#include "nabla/data/dataset.h"

namespace nabla::data {

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  if (!inputs.defined()) throw ValueError("[TensorDataset] inputs are undefined");
  if (inputs.ndim() == 0)
    throw ShapeError("[TensorDataset] inputs need a first dim indexing examples, got a 0-d tensor");
  if (targets.defined()) {
    if (targets.ndim() == 0)
      throw ShapeError(
          "[TensorDataset] targets need a first dim indexing examples, got a 0-d tensor");
    if (targets.size(0) != inputs.size(0))
      throw ShapeError("[TensorDataset] inputs " + shape_str(inputs.shape()) + " and targets " +
                       shape_str(targets.shape()) + " hold different numbers of examples: " +
                       std::to_string(inputs.size(0)) + " != " + std::to_string(targets.size(0)));
    targets_ = targets.contiguous();
  }
  inputs_ = inputs.contiguous();
  size_ = inputs_.size(0);
}

Example TensorDataset::get(int64_t index) const {
  int64_t i = index < 0 ? index + size_ : index;
  if (i < 0 || i >= size_)
    throw IndexError("[TensorDataset] index " + std::to_string(index) + " is out of range for " +
                     std::to_string(size_) + " examples");
  return {inputs_.select(0, i), targets_.defined() ? targets_.select(0, i) : Tensor()};
}

TransformDataset::TransformDataset(std::shared_ptr<Dataset> base, Transform transform,
                                   uint64_t seed)
    : base_(std::move(base)), transform_(std::move(transform)), seed_(seed) {
  if (!base_) throw ValueError("[TransformDataset] the base dataset is null");
}

Example TransformDataset::get(int64_t index) const {
  Example e = base_->get(index);
  Rng rng(mix_seed(seed_ ^ mix_seed(uint64_t(epoch_.load()) ^ mix_seed(uint64_t(index)))));
  e.input = transform_(e.input, rng);
  return e;
}

void TransformDataset::set_epoch(int64_t epoch) {
  epoch_ = epoch;
  base_->set_epoch(epoch);
}

}  // namespace nabla::data
