// Forecast windows over (T, F) series and the chronological split.
#include "nabla/data/timeseries.h"

#include <gtest/gtest.h>

#include "data/temp_dir.h"
#include "nabla/data/loader.h"
#include "nabla/ops/creation.h"

namespace nd = nabla::data;
using nabla::testing::error_of;

namespace {

// Step t, feature f holds 10 * t + f.
nabla::Tensor series(int64_t steps, int64_t features) {
  std::vector<float> v;
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t f = 0; f < features; ++f) v.push_back(float(10 * t + f));
  return nabla::tensor(v, {steps, features});
}

TEST(TimeSeries, WindowsAndFutureTargets) {
  nd::TimeSeriesDataset ds(series(10, 3),
                           {.window = 3, .horizon = 2, .stride = 2, .targets = {2, 0}});
  // Starts 0, 2, 4: the last window's targets are steps 7..8 (a start at 6 needs step 10).
  EXPECT_EQ(ds.size(), 3);
  auto e = ds.get(2);
  EXPECT_EQ(e.input.shape(), (nabla::Shape{3, 3}));
  EXPECT_EQ(e.input.to_vector<float>(), (std::vector<float>{40, 41, 42, 50, 51, 52, 60, 61, 62}));
  EXPECT_EQ(e.target.shape(), (nabla::Shape{2, 2}));
  EXPECT_EQ(e.target.to_vector<float>(), (std::vector<float>{72, 70, 82, 80}));
  EXPECT_EQ(ds.get(-3).input.to_vector<float>()[0], 0.0f);
  EXPECT_THROW(ds.get(3), nabla::IndexError);
  nd::DataLoader loader(ds, {.batch_size = 2});
  auto it = loader.begin();
  EXPECT_EQ(it->inputs.shape(), (nabla::Shape{2, 3, 3}));
  EXPECT_EQ(it->targets.shape(), (nabla::Shape{2, 2, 2}));
}

TEST(TimeSeries, AllColumnsByDefaultAndOneDimSeries) {
  nd::TimeSeriesDataset all(series(5, 2).astype(nabla::float64), {.window = 4});
  EXPECT_EQ(all.size(), 1);
  EXPECT_EQ(all.get(0).target.to_vector<double>(), (std::vector<double>{40, 41}));
  EXPECT_EQ(all.get(0).target.dtype(), nabla::float64);
  nd::TimeSeriesDataset one(nabla::arange(6.0, 12.0, 1.0, nabla::float32), {.window = 2});
  EXPECT_EQ(one.size(), 4);
  EXPECT_EQ(one.get(3).input.shape(), (nabla::Shape{2, 1}));
  EXPECT_EQ(one.get(3).target.to_vector<float>(), std::vector<float>{11});
}

TEST(TimeSeries, BadOptionsAreTypedErrors) {
  auto s = series(6, 2);
  std::string m =
      error_of<nabla::ValueError>([&] { nd::TimeSeriesDataset(s, {.window = 5, .horizon = 2}); });
  EXPECT_NE(m.find("need 7 steps, the series has 6"), std::string::npos) << m;
  m = error_of<nabla::ValueError>([&] { nd::TimeSeriesDataset(s, {.window = 2, .targets = {2}}); });
  EXPECT_NE(m.find("target column 2 is out of range for 2 features"), std::string::npos) << m;
  EXPECT_THROW(nd::TimeSeriesDataset(s, {.window = 0}), nabla::ValueError);
  EXPECT_THROW(nd::TimeSeriesDataset(s, {.window = 2, .stride = 0}), nabla::ValueError);
  EXPECT_THROW(nd::TimeSeriesDataset(s, {.window = 2, .targets = {-1}}), nabla::ValueError);
  EXPECT_THROW(nd::TimeSeriesDataset(nabla::zeros({2, 2, 2}), {.window = 1}), nabla::ShapeError);
  EXPECT_THROW(nd::TimeSeriesDataset(nabla::Tensor(), {.window = 1}), nabla::ShapeError);
}

TEST(TimeSeries, ChronologicalSplitKeepsOrderWithContext) {
  auto s = series(10, 1);
  auto [train, valid] = nd::chronological_split(s, 0.8, /*context=*/3);
  EXPECT_EQ(train.shape(), (nabla::Shape{8, 1}));
  EXPECT_EQ(valid.shape(), (nabla::Shape{5, 1}));  // steps 5..9
  EXPECT_EQ(valid.to_vector<float>()[0], 50.0f);
  // Windows of length 3 over the validation part forecast steps 8 and 9 only.
  nd::TimeSeriesDataset v(valid, {.window = 3});
  EXPECT_EQ(v.size(), 2);
  EXPECT_EQ(v.get(0).target.to_vector<float>(), std::vector<float>{80});
  auto [a, b] = nd::chronological_split(s, 0.5);
  EXPECT_EQ(a.size(0) + b.size(0), 10);
  EXPECT_THROW(nd::chronological_split(s, 1.0), nabla::ValueError);
  EXPECT_THROW(nd::chronological_split(s, 0.01), nabla::ValueError);
  EXPECT_THROW(nd::chronological_split(s, 0.5, 6), nabla::ValueError);
  EXPECT_THROW(nd::chronological_split(nabla::zeros({}), 0.5), nabla::ShapeError);
}

}  // namespace
