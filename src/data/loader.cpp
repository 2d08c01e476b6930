// DataLoader: index order, collation and the worker threads of one epoch.
#include "nabla/data/loader.h"

#include <omp.h>

#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "nabla/ops/creation.h"

namespace nabla::data {
namespace {

struct Cancelled {};  // thrown inside a worker when the epoch is stopped mid-batch

// Stacks rows `index` of a contiguous tensor along a new first dim.
Tensor gather_rows(const Tensor& src, const int64_t* index, int64_t count) {
  Shape shape = src.shape();
  shape[0] = count;
  Tensor out = empty(shape, src.dtype());
  size_t row = size_t(src.numel() / std::max<int64_t>(1, src.size(0))) * itemsize(src.dtype());
  const auto* in = static_cast<const char*>(src.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * row, in + index[i] * row, row);
  return out;
}

// Stacks the `field` tensor of each example; all must share shape and dtype.
Tensor stack_field(const std::vector<Example>& examples, Tensor Example::*field, const char* name) {
  const Tensor& first = examples[0].*field;
  for (size_t i = 1; i < examples.size(); ++i) {
    const Tensor& t = examples[i].*field;
    if (t.defined() != first.defined())
      throw ValueError(std::string("[DataLoader] example ") + std::to_string(i) +
                       " of a batch has " + (t.defined() ? "a" : "no") + " " + name +
                       " but the first has " + (first.defined() ? "one" : "none"));
    if (!t.defined()) continue;
    if (t.shape() != first.shape() || t.dtype() != first.dtype())
      throw ShapeError(std::string("[DataLoader] cannot stack ") + name + "s: example " +
                       std::to_string(i) + " of a batch is " + shape_str(t.shape()) + " " +
                       std::string(dtype_name(t.dtype())) + " but the first is " +
                       shape_str(first.shape()) + " " + std::string(dtype_name(first.dtype())));
  }
  if (!first.defined()) return Tensor();
  Shape shape{int64_t(examples.size())};
  for (int64_t d : first.shape()) shape.push_back(d);
  Tensor out = empty(shape, first.dtype());
  size_t bytes = size_t(first.numel()) * itemsize(first.dtype());
  auto* dst = static_cast<char*>(out.raw_data());
  for (size_t i = 0; i < examples.size(); ++i) {
    Tensor c = (examples[i].*field).contiguous();
    std::memcpy(dst + i * bytes, c.raw_data(), bytes);
  }
  return out;
}

Batch collate(const std::vector<Example>& examples) {
  return {stack_field(examples, &Example::input, "input"),
          stack_field(examples, &Example::target, "target")};
}

}  // namespace

namespace detail {

class LoaderEpoch {
 public:
  LoaderEpoch(std::shared_ptr<Dataset> dataset, std::shared_ptr<IterableDataset> stream,
              const LoaderOptions& options, int64_t epoch)
      : dataset_(std::move(dataset)), stream_(std::move(stream)), options_(options) {
    window_ = std::max<int64_t>({1, options.prefetch, options.num_workers});
    if (dataset_) {
      tensors_ = dynamic_cast<const TensorDataset*>(dataset_.get());
      int64_t n = dataset_->size();
      num_batches_ = options.drop_last ? n / options.batch_size
                                       : (n + options.batch_size - 1) / options.batch_size;
      order_.resize(size_t(n));
      std::iota(order_.begin(), order_.end(), int64_t(0));
      if (options.shuffle) {
        Rng rng(mix_seed(options.seed ^ mix_seed(uint64_t(epoch))));
        for (int64_t i = n - 1; i > 0; --i)
          std::swap(order_[size_t(i)], order_[uniform_below(rng, uint64_t(i) + 1)]);
      }
    } else {
      num_batches_ = INT64_MAX;  // known once the stream ends
    }
    try {
      int threads = dataset_ ? options.num_workers : std::min(options.num_workers, 1);
      for (int w = 0; w < threads; ++w)
        workers_.emplace_back([this] {
          // Loading runs serially inside each worker: the training thread's OpenMP team
          // already has every core, and a second team per worker (spinning between
          // regions) would take cores from it.
          omp_set_num_threads(1);
          dataset_ ? map_worker() : stream_worker();
        });
    } catch (...) {  // could not start a thread: stop the ones that did start
      stop();
      throw;
    }
  }

  ~LoaderEpoch() { stop(); }

  // The next batch in order, or nullopt at the end of the epoch.
  std::optional<Batch> next() {
    if (workers_.empty()) {
      if (consumed_ >= num_batches_) return std::nullopt;
      if (dataset_) return load_batch(consumed_++);
      std::optional<Batch> b = pull_batch();
      if (b)
        ++consumed_;
      else
        num_batches_ = consumed_;
      return b;
    }
    std::unique_lock lk(mu_);
    ready_cv_.wait(lk, [&] { return consumed_ >= num_batches_ || ready_.count(consumed_); });
    if (consumed_ >= num_batches_) return std::nullopt;
    auto it = ready_.find(consumed_);
    Slot slot = std::move(it->second);
    ready_.erase(it);
    ++consumed_;
    lk.unlock();
    work_cv_.notify_all();
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(slot.batch);
  }

 private:
  void stop() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    ready_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  Batch load_batch(int64_t k) {
    int64_t begin = k * options_.batch_size;
    int64_t count = std::min<int64_t>(options_.batch_size, int64_t(order_.size()) - begin);
    const int64_t* index = order_.data() + begin;
    if (tensors_) {
      const Tensor& t = tensors_->targets();
      return {gather_rows(tensors_->inputs(), index, count),
              t.defined() ? gather_rows(t, index, count) : Tensor()};
    }
    std::vector<Example> examples;
    examples.reserve(size_t(count));
    for (int64_t i = 0; i < count; ++i) {
      if (stop_) throw Cancelled{};
      examples.push_back(dataset_->get(index[i]));
    }
    return collate(examples);
  }

  std::optional<Batch> pull_batch() {
    std::vector<Example> examples;
    while (int64_t(examples.size()) < options_.batch_size) {
      if (stop_) throw Cancelled{};
      std::optional<Example> e = stream_->next();
      if (!e) break;
      examples.push_back(std::move(*e));
    }
    if (examples.empty() || (options_.drop_last && int64_t(examples.size()) < options_.batch_size))
      return std::nullopt;
    return collate(examples);
  }

  void publish(int64_t k, Slot slot) {
    {
      std::lock_guard lk(mu_);
      ready_.emplace(k, std::move(slot));
    }
    ready_cv_.notify_all();
  }

  void map_worker() {
    for (;;) {
      int64_t k;
      {
        std::unique_lock lk(mu_);
        work_cv_.wait(lk, [&] {
          return stop_ || claimed_ >= num_batches_ || claimed_ < consumed_ + window_;
        });
        if (stop_ || claimed_ >= num_batches_) return;
        k = claimed_++;
      }
      Slot slot;
      try {
        slot.batch = load_batch(k);
      } catch (const Cancelled&) {
        return;
      } catch (...) {
        slot.error = std::current_exception();
      }
      publish(k, std::move(slot));
    }
  }

  void stream_worker() {
    for (int64_t k = 0;; ++k) {
      {
        std::unique_lock lk(mu_);
        work_cv_.wait(lk, [&] { return stop_ || k < consumed_ + window_; });
        if (stop_) return;
      }
      Slot slot;
      try {
        std::optional<Batch> b = pull_batch();
        if (!b) {
          {
            std::lock_guard lk(mu_);
            num_batches_ = k;
          }
          ready_cv_.notify_all();
          return;
        }
        slot.batch = std::move(*b);
      } catch (const Cancelled&) {
        return;
      } catch (...) {
        slot.error = std::current_exception();
      }
      publish(k, std::move(slot));
    }
  }

  std::shared_ptr<Dataset> dataset_;
  std::shared_ptr<IterableDataset> stream_;
  const TensorDataset* tensors_ = nullptr;  // set when rows can be gathered directly
  LoaderOptions options_;
  std::vector<int64_t> order_;
  int64_t window_ = 1;

  std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  std::atomic<bool> stop_{false};
  int64_t num_batches_ = 0;
  int64_t claimed_ = 0;   // batches handed to workers
  int64_t consumed_ = 0;  // batches handed to the training loop
  std::map<int64_t, Slot> ready_;
  std::vector<std::thread> workers_;  // last: started once everything above exists
};

}  // namespace detail

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) throw ValueError("[DataLoader] the dataset is null");
  check_options();
}

DataLoader::DataLoader(std::shared_ptr<IterableDataset> dataset, LoaderOptions options)
    : stream_(std::move(dataset)), options_(options) {
  if (!stream_) throw ValueError("[DataLoader] the dataset is null");
  check_options();
  if (options_.shuffle)
    throw ValueError("[DataLoader] cannot shuffle an IterableDataset (it has no random access)");
}

void DataLoader::check_options() const {
  if (options_.batch_size < 1)
    throw ValueError("[DataLoader] batch_size must be positive, got " +
                     std::to_string(options_.batch_size));
  if (options_.num_workers < 0)
    throw ValueError("[DataLoader] num_workers must be non-negative, got " +
                     std::to_string(options_.num_workers));
  if (options_.prefetch < 0)
    throw ValueError("[DataLoader] prefetch must be non-negative, got " +
                     std::to_string(options_.prefetch));
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

DataLoader::Iterator DataLoader::begin() {
  epoch_.reset();  // stops and joins the running epoch's workers
  if (dataset_)
    dataset_->set_epoch(next_epoch_);
  else
    stream_->reset();
  epoch_ = std::make_unique<detail::LoaderEpoch>(dataset_, stream_, options_, next_epoch_);
  ++next_epoch_;
  return Iterator(epoch_.get());
}

int64_t DataLoader::size() const {
  if (!dataset_) return -1;
  int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::Iterator::Iterator(detail::LoaderEpoch* epoch) : epoch_(epoch) { ++*this; }

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  std::optional<Batch> b = epoch_->next();
  if (b)
    batch_ = std::move(*b);
  else
    epoch_ = nullptr;
  return *this;
}

}  // namespace nabla::data
