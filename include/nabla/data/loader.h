// DataLoader: batches a dataset, optionally shuffled, optionally on background threads.
//
//   nb::data::DataLoader loader(train_set, {.batch_size = 64, .shuffle = true, .num_workers = 2});
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& batch : loader) train_step(batch.inputs, batch.targets);
//
// Each range-for is one epoch. Batches stack examples along a new first dim.
//
// Shuffling: the order of epoch e is a Fisher-Yates shuffle driven by
// std::mt19937_64(mix_seed(seed ^ mix_seed(e))) with unbiased bounded draws, so it is the
// same on every platform and for any num_workers. Epochs count from 0 and advance on each
// begin(); set_epoch() sets the next one (to resume training).
//
// Workers: with num_workers > 0, threads load batches ahead of the training loop, at most
// max(prefetch, num_workers) batches beyond the one being consumed; batches still arrive in
// order. An IterableDataset is read by a single background thread (its next() is sequential).
// Destroying the loader, or starting a new epoch, mid-epoch stops and joins the workers.
// An exception thrown while loading a batch is rethrown where that batch is consumed.
#pragma once
#include <concepts>
#include <cstdint>
#include <iterator>
#include <memory>
#include <type_traits>

#include "nabla/data/dataset.h"

namespace nabla::data {

struct Batch {
  Tensor inputs;   // (batch, ...input shape)
  Tensor targets;  // (batch, ...target shape); undefined when examples have no target
};

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  int num_workers = 0;     // 0: load on the calling thread
  int prefetch = 2;        // batches loaded ahead (see above)
};

namespace detail {
class LoaderEpoch;  // one pass's state and worker threads (src/data/loader.cpp)
}

class DataLoader {
 public:
  DataLoader(std::shared_ptr<Dataset> dataset, LoaderOptions options = {});
  DataLoader(std::shared_ptr<IterableDataset> dataset, LoaderOptions options = {});
  // Takes a copy (or the moved value) of a concrete dataset.
  template <class D>
  requires std::derived_from<std::decay_t<D>, Dataset> ||
      std::derived_from<std::decay_t<D>, IterableDataset>
      DataLoader(D&& dataset, LoaderOptions options = {})
      : DataLoader(to_shared(std::forward<D>(dataset)), options) {}
  ~DataLoader();
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Batch& operator*() { return batch_; }
    Batch* operator->() { return &batch_; }
    Iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) {
      return it.epoch_ == nullptr;
    }

   private:
    friend class DataLoader;
    explicit Iterator(detail::LoaderEpoch* epoch);
    detail::LoaderEpoch* epoch_ = nullptr;
    Batch batch_;
  };

  // Starts the next epoch (stopping a running one; its iterators become invalid).
  Iterator begin();
  std::default_sentinel_t end() { return {}; }

  // Batches per epoch; -1 for an IterableDataset.
  int64_t size() const;
  int64_t epoch() const { return next_epoch_; }  // the epoch the next begin() starts
  void set_epoch(int64_t epoch) { next_epoch_ = epoch; }
  const LoaderOptions& options() const { return options_; }

 private:
  template <class D>
  static auto to_shared(D&& d) {
    using T = std::decay_t<D>;
    if constexpr (std::derived_from<T, Dataset>)
      return std::shared_ptr<Dataset>(std::make_shared<T>(std::forward<D>(d)));
    else
      return std::shared_ptr<IterableDataset>(std::make_shared<T>(std::forward<D>(d)));
  }
  void check_options() const;

  std::shared_ptr<Dataset> dataset_;
  std::shared_ptr<IterableDataset> stream_;
  LoaderOptions options_;
  int64_t next_epoch_ = 0;
  std::unique_ptr<detail::LoaderEpoch> epoch_;
};

}  // namespace nabla::data
