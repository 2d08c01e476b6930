// Normalisation ops: bad input gives typed errors naming the op and the shapes; running
// stats update in place with the unbiased variance; float32 agrees with float64.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>

#include "core/samples.h"

namespace nabla {
namespace {

using testing::message_of;
using testing::rnd;

TEST(BatchNorm, WrongChannelCountNamesShapes) {
  Tensor x = rnd({4, 3, 5});
  EXPECT_THROW(batch_norm(x, zeros({4}), ones({4}), {}, {}, false), ShapeError);
  std::string m = message_of([&] { batch_norm(x, {}, {}, ones({2}), {}, true); });
  EXPECT_EQ(
      m.rfind("[batch_norm] weight must have shape (3,) for input of shape (4, 3, 5), got (2,)", 0),
      0u)
      << m;
  EXPECT_THROW(batch_norm(x, {}, {}, {}, zeros({3, 1}), true), ShapeError);
}

TEST(BatchNorm, BadInputsThrowTypedErrors) {
  EXPECT_THROW(batch_norm(rnd({5}), {}, {}, {}, {}, true), ShapeError);
  EXPECT_THROW(batch_norm(rnd({}), {}, {}, {}, {}, true), ShapeError);
  EXPECT_THROW(batch_norm(rnd({4, 3}, int64), {}, {}, {}, {}, true), DTypeError);
  EXPECT_THROW(batch_norm(rnd({4, 3}), zeros({3}), {}, {}, {}, false), ValueError);
  std::string m = message_of([] { batch_norm(rnd({1, 3}), {}, {}, {}, {}, true); });
  EXPECT_EQ(m.rfind("[batch_norm] expected more than 1 value per channel", 0), 0u) << m;
  EXPECT_THROW(batch_norm(rnd({4, 3}), zeros({3}, int64), ones({3}), {}, {}, false), DTypeError);
}

TEST(BatchNorm, TrainingUpdatesRunningStatsWithUnbiasedVariance) {
  Tensor x = rnd({6, 2, 3}, float64);
  Tensor rm = zeros({2}), rv = ones({2});
  Tensor y = batch_norm(x, rm, rv, {}, {}, true, 0.25);
  std::vector<double> xv = x.to_vector<double>();
  for (int64_t c = 0; c < 2; ++c) {
    double s = 0, ss = 0;
    int n = 0;
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t k = 0; k < 3; ++k) s += xv[std::size_t((i * 2 + c) * 3 + k)], ++n;
    double mean = s / n;
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t k = 0; k < 3; ++k)
        ss += std::pow(xv[std::size_t((i * 2 + c) * 3 + k)] - mean, 2);
    EXPECT_NEAR(rm.to_vector<double>()[std::size_t(c)], 0.25 * mean, 1e-6);
    EXPECT_NEAR(rv.to_vector<double>()[std::size_t(c)], 0.75 + 0.25 * ss / (n - 1), 1e-6);
  }
  EXPECT_EQ(rm.dtype(), float32);  // the running stats keep their dtype
  // Eval mode leaves them alone and uses them.
  Tensor before = rm.clone();
  Tensor e = batch_norm(x, rm, rv, {}, {}, false);
  EXPECT_EQ(rm.to_vector<double>(), before.to_vector<double>());
  double want = (x.to_vector<double>()[0] - rm.to_vector<double>()[0]) /
                std::sqrt(rv.to_vector<double>()[0] + 1e-5);
  EXPECT_NEAR(e.to_vector<double>()[0], want, 1e-6);
}

TEST(BatchNorm, EmptyBatchGivesEmptyOutputAndKeepsStats) {
  Tensor rm = zeros({3}), rv = ones({3});
  Tensor y = batch_norm(zeros({0, 3, 4}), rm, rv, {}, {}, true);
  EXPECT_EQ(y.shape(), (Shape{0, 3, 4}));
  EXPECT_EQ(rm.to_vector<float>(), std::vector<float>(3, 0.f));
  for (Shape s : {Shape{2, 3, 0}, Shape{0, 3}, Shape{2, 4, 0, 5}}) {
    Tensor x = zeros(s).requires_grad_();
    Tensor z = batch_norm(x, {}, {}, ones({s[1]}).requires_grad_(), {}, true);
    EXPECT_EQ(z.shape(), s);
    z.sum().backward();
    EXPECT_EQ(x.grad().shape(), s);
    EXPECT_EQ(group_norm(x, 1).shape(), s);
  }
}

TEST(BatchNorm, Float32MatchesFloat64OnLargeInputs) {
  for (Shape s : {Shape{4096, 24}, Shape{16, 8, 33, 33}, Shape{3, 5, 7}}) {
    Tensor x64 = rnd(s, float64, 0.3) * 3 + 10;  // an offset mean tests the two-pass variance
    Tensor y32 = batch_norm(x64.astype(float32), {}, {}, {}, {}, true);
    Tensor y64 = batch_norm(x64, {}, {}, {}, {}, true);
    EXPECT_LT(max(abs(y32.astype(float64) - y64)).item<double>(), 1e-4) << shape_str(s);
  }
}

TEST(LayerNorm, BadNormalizedShapeNamesShapes) {
  Tensor x = rnd({2, 5, 4});
  std::string m = message_of([&] { layer_norm(x, {3, 4}); });
  EXPECT_EQ(m.rfind("[layer_norm] normalized_shape (3, 4) must be non-empty and match the last "
                    "dims of input of shape (2, 5, 4)",
                    0),
            0u)
      << m;
  EXPECT_THROW(layer_norm(x, {}), ShapeError);
  EXPECT_THROW(layer_norm(x, {1, 2, 5, 4}), ShapeError);
  EXPECT_THROW(layer_norm(x, {4}, ones({5})), ShapeError);
  EXPECT_THROW(layer_norm(x, {4}, ones({4}), zeros({2, 4})), ShapeError);
  EXPECT_THROW(layer_norm(rnd({2, 4}, int32), {4}), DTypeError);
}

TEST(LayerNorm, Float32MatchesFloat64) {
  Tensor x64 = rnd({37, 1000}, float64, 0.7) + 100;
  Tensor w = rnd({1000}, float64, 2), b = rnd({1000}, float64, 3);
  Tensor y32 = layer_norm(x64.astype(float32), {1000}, w.astype(float32), b.astype(float32));
  Tensor y64 = layer_norm(x64, {1000}, w, b);
  EXPECT_LT(max(abs(y32.astype(float64) - y64)).item<double>(), 1e-3);
}

TEST(GroupNorm, GroupsMustDivideChannels) {
  Tensor x = rnd({2, 6, 5});
  std::string m = message_of([&] { group_norm(x, 4); });
  EXPECT_EQ(m.rfind("[group_norm] num_groups=4 must be positive and divide the 6 channels of input "
                    "of shape (2, 6, 5)",
                    0),
            0u)
      << m;
  EXPECT_THROW(group_norm(x, 0), ValueError);
  EXPECT_THROW(group_norm(x, -2), ValueError);
  EXPECT_THROW(group_norm(x, 3, ones({3})), ShapeError);
  EXPECT_THROW(group_norm(rnd({6}), 3), ShapeError);
  EXPECT_THROW(group_norm(rnd({2, 6}, bool_), 3), DTypeError);
}

TEST(GroupNorm, OneGroupPerChannelIsInstanceNorm) {
  Tensor x = rnd({2, 3, 10}, float64);
  Tensor mu = mean(x, {2}, true);
  Tensor want = (x - mu) / sqrt(var(x, {2}, 0, true) + 1e-5);
  EXPECT_LT(max(abs(group_norm(x, 3) - want)).item<double>(), 1e-12);
}

TEST(Norm, SymbolicInputsBuildGraphNodes) {
  auto x = placeholder("x", {4, 6});
  Tensor y = layer_norm(x, {6}) + group_norm(x, 2);
  EXPECT_FALSE(y.is_concrete());
  EXPECT_EQ(y.shape(), (Shape{4, 6}));
  EXPECT_THROW(layer_norm(x, {5}), ShapeError);
}

}  // namespace
}  // namespace nabla
