// DataLoader: batching, order, shuffling, workers, prefetch overlap, shutdown, errors.
#include "nabla/data/loader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "nabla/memory.h"
#include "nabla/ops/creation.h"

namespace nd = nabla::data;
using nabla::Shape;
using nabla::Tensor;

namespace {

// n examples: input i is a (2, 3) float filled with i, target i as int64.
nd::TensorDataset numbered(int64_t n) {
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 6; ++k) x.push_back(float(i));
    y.push_back(i);
  }
  return nd::TensorDataset(nabla::tensor(x, {n, 2, 3}), nabla::tensor(y, {n}));
}

// The same examples through the generic (per-example) path, optionally slow.
class SlowDataset : public nd::Dataset {
 public:
  SlowDataset(int64_t n, std::chrono::microseconds delay) : n_(n), delay_(delay) {}
  int64_t size() const override { return n_; }
  nd::Example get(int64_t i) const override {
    ++calls;
    if (delay_.count()) std::this_thread::sleep_for(delay_);
    if (i == fail_at) throw nabla::ValueError("example " + std::to_string(i) + " is broken");
    return {nabla::full({2, 3}, double(i)), nabla::scalar(double(i), nabla::int64)};
  }
  int64_t n_;
  std::chrono::microseconds delay_;
  int64_t fail_at = -1;
  mutable std::atomic<int64_t> calls{0};
};

std::vector<int64_t> epoch_targets(nd::DataLoader& loader) {
  std::vector<int64_t> out;
  for (auto& batch : loader) {
    std::vector<int64_t> t = batch.targets.to_vector<int64_t>();
    std::vector<float> x = batch.inputs.to_vector<float>();
    for (size_t i = 0; i < t.size(); ++i)
      for (int k = 0; k < 6; ++k) EXPECT_EQ(x[i * 6 + size_t(k)], float(t[i]));
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = i;
  return v;
}

TEST(DataLoader, BatchesInOrderWithShapes) {
  nd::DataLoader loader(numbered(10), {.batch_size = 4});
  EXPECT_EQ(loader.size(), 3);
  std::vector<Shape> shapes;
  for (auto& batch : loader) {
    shapes.push_back(batch.inputs.shape());
    EXPECT_EQ(batch.inputs.dtype(), nabla::float32);
    EXPECT_EQ(batch.targets.dtype(), nabla::int64);
  }
  EXPECT_EQ(shapes, (std::vector<Shape>{{4, 2, 3}, {4, 2, 3}, {2, 2, 3}}));
  EXPECT_EQ(epoch_targets(loader), iota(10));

  nd::DataLoader dropped(numbered(10), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(dropped.size(), 2);
  EXPECT_EQ(epoch_targets(dropped), iota(8));
}

TEST(DataLoader, GenericPathMatchesTensorPath) {
  auto slow = std::make_shared<SlowDataset>(11, std::chrono::microseconds(0));
  for (int workers : {0, 3}) {
    nd::DataLoader a(slow, {.batch_size = 3, .shuffle = true, .seed = 5, .num_workers = workers});
    nd::DataLoader b(numbered(11), {.batch_size = 3, .shuffle = true, .seed = 5});
    EXPECT_EQ(epoch_targets(a), epoch_targets(b)) << workers << " workers";
  }
  nd::DataLoader a(slow, {.batch_size = 5});
  auto it = a.begin();
  EXPECT_EQ(it->inputs.shape(), (Shape{5, 2, 3}));
  EXPECT_EQ(it->targets.shape(), (Shape{5}));
}

TEST(DataLoader, SeededShuffleIsReproducibleAndChangesPerEpoch) {
  auto run = [](uint64_t seed, int workers) {
    nd::DataLoader loader(numbered(50),
                          {.batch_size = 7, .shuffle = true, .seed = seed, .num_workers = workers});
    std::vector<std::vector<int64_t>> epochs;
    for (int e = 0; e < 3; ++e) epochs.push_back(epoch_targets(loader));
    return epochs;
  };
  auto a = run(1, 0), b = run(1, 2), c = run(2, 0);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a[0], a[1]);
  for (auto& e : a) {
    std::vector<int64_t> sorted = e;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, iota(50));
    EXPECT_NE(e, iota(50));
  }
  // set_epoch resumes the order of a later epoch.
  nd::DataLoader resumed(numbered(50), {.batch_size = 7, .shuffle = true, .seed = 1});
  resumed.set_epoch(2);
  EXPECT_EQ(epoch_targets(resumed), a[2]);
  EXPECT_EQ(resumed.epoch(), 3);
}

TEST(DataLoader, WorkersKeepOrderAcrossEpochs) {
  for (int workers : {1, 2, 4})
    for (int prefetch : {0, 1, 8}) {
      nd::DataLoader loader(std::make_shared<SlowDataset>(23, std::chrono::microseconds(50)),
                            {.batch_size = 2, .num_workers = workers, .prefetch = prefetch});
      for (int e = 0; e < 2; ++e) EXPECT_EQ(epoch_targets(loader), iota(23)) << workers;
    }
}

TEST(DataLoader, PrefetchOverlapsLoadingWithTraining) {
  // Each example takes 1 ms to load and each training step 6 ms. Serially an epoch costs
  // both sums; with 2 workers loading ahead it costs about the training steps alone.
  const int64_t n = 96, batch = 6;
  auto ds = std::make_shared<SlowDataset>(n, std::chrono::milliseconds(1));
  auto epoch_seconds = [&](int workers) {
    nd::DataLoader loader(ds, {.batch_size = batch, .num_workers = workers, .prefetch = 4});
    auto start = std::chrono::steady_clock::now();
    int64_t batches = 0;
    for (auto& b : loader) {
      EXPECT_EQ(b.inputs.size(0), batch);
      std::this_thread::sleep_for(std::chrono::milliseconds(6));
      ++batches;
    }
    EXPECT_EQ(batches, n / batch);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // The serial time is measured (so that a loaded machine's slower sleeps count on both sides)
  // and is at least the sum of the sleeps.
  double serial = std::max(epoch_seconds(0), double(n) * 1e-3 + double(n / batch) * 6e-3);
  double overlapped = epoch_seconds(2);
  EXPECT_LT(overlapped, 0.8 * serial)
      << "overlapped " << overlapped << " s, serial " << serial << " s";
}

TEST(DataLoader, DestroyingMidEpochStopsWorkers) {
  auto ds = std::make_shared<SlowDataset>(10000, std::chrono::microseconds(500));
  size_t bytes_before = nabla::memory_stats().bytes_in_use;
  auto start = std::chrono::steady_clock::now();
  {
    nd::DataLoader loader(ds, {.batch_size = 4, .num_workers = 3, .prefetch = 6});
    auto it = loader.begin();
    ++it;
    EXPECT_EQ(it->targets.to_vector<int64_t>(), (std::vector<int64_t>{4, 5, 6, 7}));
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(elapsed, 1.0);
  // At most the prefetch window (plus the batches in hand) was ever loaded.
  int64_t loaded = ds->calls.load();
  EXPECT_LE(loaded, (2 + 6 + 3) * 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ds->calls.load(), loaded) << "a worker is still running after the loader died";
  EXPECT_EQ(ds.use_count(), 1) << "the loader leaked its dataset";
  EXPECT_EQ(nabla::memory_stats().bytes_in_use, bytes_before) << "prefetched batches leaked";

  // Restarting an epoch mid-way also stops the old workers.
  nd::DataLoader loader(ds, {.batch_size = 4, .num_workers = 2});
  for (int e = 0; e < 3; ++e) {
    auto it = loader.begin();
    EXPECT_EQ(it->targets.to_vector<int64_t>()[0], 0);
  }
}

TEST(DataLoader, ErrorsInWorkersReachTheConsumer) {
  for (int workers : {0, 2}) {
    auto ds = std::make_shared<SlowDataset>(20, std::chrono::microseconds(0));
    ds->fail_at = 9;
    nd::DataLoader loader(ds, {.batch_size = 4, .num_workers = workers});
    std::vector<int64_t> seen;
    try {
      for (auto& b : loader) {
        auto t = b.targets.to_vector<int64_t>();
        seen.insert(seen.end(), t.begin(), t.end());
      }
      FAIL() << "no error";
    } catch (const nabla::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("example 9"), std::string::npos);
    }
    EXPECT_EQ(seen, iota(8));
  }
}

TEST(DataLoader, BadOptionsAndMismatchedExamples) {
  EXPECT_THROW(nd::DataLoader(numbered(3), {.batch_size = 0}), nabla::ValueError);
  EXPECT_THROW(nd::DataLoader(numbered(3), {.num_workers = -1}), nabla::ValueError);
  EXPECT_THROW(nd::DataLoader(std::shared_ptr<nd::Dataset>(), {}), nabla::ValueError);

  class Ragged : public nd::Dataset {
   public:
    int64_t size() const override { return 4; }
    nd::Example get(int64_t i) const override { return {nabla::zeros({i + 1}), Tensor()}; }
  };
  nd::DataLoader loader(Ragged{}, {.batch_size = 2});
  EXPECT_THROW(loader.begin(), nabla::ShapeError);
  nd::DataLoader single(Ragged{}, {.batch_size = 1});
  int n = 0;
  for (auto& b : single) {
    EXPECT_FALSE(b.targets.defined());
    EXPECT_EQ(b.inputs.shape(), (Shape{1, n + 1}));
    ++n;
  }
  EXPECT_EQ(n, 4);
}

TEST(DataLoader, EmptyDatasetHasNoBatches) {
  nd::DataLoader loader(nd::TensorDataset(nabla::zeros({0, 3})),
                        {.batch_size = 4, .num_workers = 2});
  EXPECT_EQ(loader.size(), 0);
  int n = 0;
  for (auto& b : loader) (void)b, ++n;
  EXPECT_EQ(n, 0);
}

class Counter : public nd::IterableDataset {
 public:
  explicit Counter(int64_t n) : n_(n) {}
  std::optional<nd::Example> next() override {
    if (i_ >= n_) return std::nullopt;
    int64_t i = i_++;
    return nd::Example{nabla::full({2, 3}, double(i)), nabla::scalar(double(i), nabla::int64)};
  }
  void reset() override { i_ = 0; }

 private:
  int64_t n_, i_ = 0;
};

TEST(DataLoader, IterableDataset) {
  for (int workers : {0, 1, 3}) {
    nd::DataLoader loader(Counter(10), {.batch_size = 4, .num_workers = workers});
    EXPECT_EQ(loader.size(), -1);
    for (int e = 0; e < 2; ++e) EXPECT_EQ(epoch_targets(loader), iota(10)) << workers;
    nd::DataLoader dropped(Counter(10),
                           {.batch_size = 4, .drop_last = true, .num_workers = workers});
    EXPECT_EQ(epoch_targets(dropped), iota(8));
  }
  EXPECT_THROW(nd::DataLoader(Counter(3), {.shuffle = true}), nabla::ValueError);
}

TEST(DataLoader, TransformDatasetIsReproducibleForAnyWorkerCount) {
  Tensor images = nabla::zeros({16, 1, 6, 6});
  for (int64_t i = 0; i < 16; ++i) images[i].fill_(double(i + 1));
  nd::TensorDataset base(images, nabla::arange(16));
  nd::Transform aug = nd::random_affine_shift(2, 2);
  auto run = [&](int workers) {
    nd::DataLoader loader(nd::TransformDataset(base, aug, 9),
                          {.batch_size = 5, .num_workers = workers});
    std::vector<std::vector<float>> epochs;
    for (int e = 0; e < 2; ++e) {
      std::vector<float> all;
      for (auto& b : loader) {
        auto v = b.inputs.to_vector<float>();
        all.insert(all.end(), v.begin(), v.end());
      }
      epochs.push_back(all);
    }
    return epochs;
  };
  auto a = run(0), b = run(3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a[0], a[1]) << "augmentation should differ between epochs";
}

}  // namespace
