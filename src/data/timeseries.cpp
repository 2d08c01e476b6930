// Sliding forecast windows and the chronological split.
#include "nabla/data/timeseries.h"

#include <cmath>

#include "nabla/ops/creation.h"
#include "nabla/ops/index.h"

namespace nabla::data {

TimeSeriesDataset::TimeSeriesDataset(const Tensor& series, const WindowOptions& options)
    : options_(options) {
  const char* op = "[TimeSeriesDataset] ";
  if (!series.defined() || (series.ndim() != 1 && series.ndim() != 2))
    throw ShapeError(std::string(op) + "expects a (T, F) or (T) series, got " +
                     (series.defined() ? shape_str(series.shape()) : std::string("undefined")));
  const WindowOptions& o = options_;
  if (o.window <= 0 || o.horizon <= 0 || o.stride <= 0)
    throw ValueError(std::string(op) + "window, horizon and stride must be positive, got " +
                     std::to_string(o.window) + ", " + std::to_string(o.horizon) + ", " +
                     std::to_string(o.stride));
  series_ = (series.ndim() == 1 ? series.reshape({series.size(0), 1}) : series).contiguous();
  int64_t steps = series_.size(0), features = series_.size(1);
  if (steps < o.window + o.horizon)
    throw ValueError(std::string(op) + "a window of " + std::to_string(o.window) +
                     " steps and a horizon of " + std::to_string(o.horizon) + " need " +
                     std::to_string(o.window + o.horizon) + " steps, the series has " +
                     std::to_string(steps));
  if (o.targets.empty()) {
    targets_ = series_;
  } else {
    for (int64_t c : o.targets)
      if (c < 0 || c >= features)
        throw ValueError(std::string(op) + "target column " + std::to_string(c) +
                         " is out of range for " + std::to_string(features) + " features");
    targets_ = index_select(series_, 1, tensor(o.targets)).contiguous();
  }
  size_ = (steps - o.window - o.horizon) / o.stride + 1;
}

Example TimeSeriesDataset::get(int64_t index) const {
  int64_t i = index < 0 ? index + size_ : index;
  if (i < 0 || i >= size_)
    throw IndexError("[TimeSeriesDataset] index " + std::to_string(index) +
                     " is out of range for " + std::to_string(size_) + " windows");
  int64_t s = i * options_.stride, e = s + options_.window;
  return {series_.slice(0, s, e), targets_.slice(0, e, e + options_.horizon)};
}

SeriesSplit chronological_split(const Tensor& series, double train_fraction, int64_t context) {
  if (!series.defined() || series.ndim() == 0)
    throw ShapeError("[chronological_split] expects a series with time along dim 0");
  if (!(train_fraction > 0 && train_fraction < 1))
    throw ValueError("[chronological_split] train_fraction must be in (0, 1), got " +
                     std::to_string(train_fraction));
  int64_t steps = series.size(0);
  auto k = int64_t(std::llround(double(steps) * train_fraction));
  if (k <= 0 || k >= steps)
    throw ValueError("[chronological_split] splitting " + std::to_string(steps) + " steps at " +
                     std::to_string(train_fraction) + " leaves an empty part");
  if (context < 0 || context > k)
    throw ValueError("[chronological_split] context " + std::to_string(context) +
                     " must be in 0.." + std::to_string(k) + " (the training steps)");
  return {series.slice(0, 0, k), series.slice(0, k - context, steps)};
}

}  // namespace nabla::data
