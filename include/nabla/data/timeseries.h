// Sliding windows over a time series for forecasting.
//
//   nb::Tensor series = ...;                                  // (T, F): T steps of F features
//   auto [train, valid] = nd::chronological_split(series, 0.8, /*context=*/24);
//   nd::TimeSeriesDataset ds(train, {.window = 24, .horizon = 6, .targets = {0}});
//   auto [x, y] = ds.get(0);   // x (24, F): steps 0..23; y (6, 1): feature 0 at steps 24..29
#pragma once
#include <cstdint>
#include <vector>

#include "nabla/data/dataset.h"

namespace nabla::data {

struct WindowOptions {
  int64_t window = 1;            // steps of input
  int64_t horizon = 1;           // future steps to predict, right after the window
  int64_t stride = 1;            // steps between the starts of consecutive windows
  std::vector<int64_t> targets;  // feature columns to predict; empty: all of them
};

// Example i starts at s = i * stride: input series[s, s + window) of shape (window, F), target
// series[s + window, s + window + horizon) of the target columns, shape (horizon, K). Both are
// views or row copies of the series, which keeps its dtype. A 1-d series is one feature (T, 1).
// ValueError for non-positive window/horizon/stride, a target column out of range, or a
// series shorter than window + horizon.
class TimeSeriesDataset : public Dataset {
 public:
  TimeSeriesDataset(const Tensor& series, const WindowOptions& options);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;

 private:
  Tensor series_, targets_;  // (T, F) and (T, K)
  WindowOptions options_;
  int64_t size_ = 0;
};

// The first `train_fraction` of the steps, and the rest preceded by `context` steps of the
// training part (so validation windows of length `context` can forecast from the first
// validation step on; no validation target is ever a training step). Views, no copies.
// ValueError for a fraction outside (0, 1), a context beyond the training part, or a split
// that leaves either part empty.
struct SeriesSplit {
  Tensor train, validation;
};
SeriesSplit chronological_split(const Tensor& series, double train_fraction, int64_t context = 0);

}  // namespace nabla::data
