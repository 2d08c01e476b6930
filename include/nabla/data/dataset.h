// Datasets: where examples come from.
//
//   TensorDataset     random access over two tensors whose first dim indexes examples
//   TransformDataset  applies a (possibly random) transform to each example's input
//   IterableDataset   a stream with next(), for data that cannot be indexed
//
// A DataLoader (nabla/data/loader.h) batches any of them, on background threads if asked.
#pragma once
#include <atomic>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>

#include "nabla/data/transforms.h"
#include "nabla/tensor.h"

namespace nabla::data {

// One example. `target` may be undefined for unlabelled data.
struct Example {
  Tensor input;
  Tensor target;
};

// Random-access dataset. get() must be safe to call from several threads at once: DataLoader
// workers call it concurrently.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;
  // Called by DataLoader before each epoch, so that per-epoch randomness (augmentation) can
  // differ between epochs yet stay reproducible. The default does nothing.
  virtual void set_epoch(int64_t epoch) {}
};

// Example i is (inputs[i], targets[i]). Both tensors are kept contiguous, so DataLoader
// collates batches by copying rows directly (no per-example tensors).
class TensorDataset : public Dataset {
 public:
  // ShapeError when either tensor is 0-d or their first dims differ. `targets` may be
  // undefined (unlabelled data).
  TensorDataset(Tensor inputs, Tensor targets = Tensor());
  int64_t size() const override { return size_; }
  // Views into the stored tensors; IndexError when out of range (negative counts from the end).
  // Final: DataLoader copies rows of the stored tensors directly instead of calling it.
  Example get(int64_t index) const final;
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;
  int64_t size_ = 0;
};

// Applies `transform` to each input of `base`. The transform's random generator for example i
// of epoch e is std::mt19937_64 seeded with a mix (splitmix64) of (seed, e, i): augmentation
// is reproducible, differs between epochs, and does not depend on how many workers load it.
class TransformDataset : public Dataset {
 public:
  TransformDataset(std::shared_ptr<Dataset> base, Transform transform, uint64_t seed = 0);
  template <class D>
  requires std::derived_from<std::decay_t<D>, Dataset> TransformDataset(D&& base,
                                                                        Transform transform,
                                                                        uint64_t seed = 0)
      : TransformDataset(std::make_shared<std::decay_t<D>>(std::forward<D>(base)),
                         std::move(transform), seed) {}

  TransformDataset(const TransformDataset& o)
      : base_(o.base_), transform_(o.transform_), seed_(o.seed_), epoch_(o.epoch_.load()) {}

  int64_t size() const override { return base_->size(); }
  Example get(int64_t index) const override;
  void set_epoch(int64_t epoch) override;
  const std::shared_ptr<Dataset>& base() const { return base_; }

 private:
  std::shared_ptr<Dataset> base_;
  Transform transform_;
  uint64_t seed_;
  std::atomic<int64_t> epoch_{0};
};

// A stream of examples. next() returns std::nullopt at the end of a pass; reset() starts a
// new pass (DataLoader calls it at the start of each epoch). next() is only ever called from
// one thread at a time.
class IterableDataset {
 public:
  virtual ~IterableDataset() = default;
  virtual std::optional<Example> next() = 0;
  virtual void reset() {}
};

}  // namespace nabla::data
