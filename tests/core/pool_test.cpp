// 1-d and 3-d pooling, adaptive max pooling and upsampling: bad input gives typed errors
// whose message names the op and the shapes; NaN propagates through max pooling; float32
// (oneDNN for the 3-d average) agrees with float64 (direct loops) in value and gradient.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "core/samples.h"

namespace nabla {
namespace {

using testing::message_of;
using testing::rnd;

#define EXPECT_MESSAGE(stmt, text)                                    \
  do {                                                                \
    std::string m_ = message_of([&] { stmt; });                       \
    EXPECT_NE(m_.find(text), std::string::npos) << "message: " << m_; \
  } while (0)

TEST(Pool1d3d, KernelLargerThanPaddedInput) {
  EXPECT_THROW(max_pool1d(rnd({1, 2, 4}), 7, 1, 1), ShapeError);
  EXPECT_MESSAGE(max_pool1d(rnd({1, 2, 4}), 7, 1, 1),
                 "[max_pool1d] kernel 7 is larger than the padded input (1, 2, 4) (padding 1)");
  EXPECT_THROW(avg_pool1d(rnd({1, 2, 4}), 5), ShapeError);
  EXPECT_THROW(max_pool3d(rnd({1, 2, 4, 4, 2}), {3}), ShapeError);
  EXPECT_MESSAGE(avg_pool3d(rnd({1, 2, 4, 4, 2}), {3, 3, 3}),
                 "[avg_pool3d] kernel (3, 3, 3) is larger than the padded input (1, 2, 4, 4, 2)");
}

TEST(Pool1d3d, PaddingAboveHalfTheKernel) {
  EXPECT_THROW(max_pool1d(rnd({1, 2, 8}), 3, 1, 2), ValueError);
  EXPECT_MESSAGE(max_pool1d(rnd({1, 2, 8}), 3, 1, 2),
                 "[max_pool1d] padding 2 should be at most half the kernel 3");
  EXPECT_THROW(avg_pool3d(rnd({1, 2, 6, 6, 6}), {2, 4, 4}, {}, {1, 3, 1}), ValueError);
  EXPECT_MESSAGE(max_pool3d(rnd({1, 2, 6, 6, 6}), {2, 4, 4}, {}, {1, 3, 1}),
                 "[max_pool3d] padding (1, 3, 1) should be at most half the kernel (2, 4, 4)");
}

TEST(Pool1d3d, WrongRankAndDtype) {
  EXPECT_THROW(max_pool1d(rnd({2, 8}), 2), ShapeError);
  EXPECT_MESSAGE(max_pool1d(rnd({1, 2, 3, 8}), 2),
                 "[max_pool1d] expects an input (N, C, L), got (1, 2, 3, 8)");
  EXPECT_MESSAGE(avg_pool3d(rnd({1, 2, 8, 8}), {2}),
                 "[avg_pool3d] expects an input (N, C, D, H, W), got (1, 2, 8, 8)");
  EXPECT_THROW(max_pool3d(rnd({2, 4, 4, 4}), {2}), ShapeError);
  EXPECT_THROW(max_pool3d(rnd({1, 1, 4, 4, 4}, int64), {2}), DTypeError);
  EXPECT_THROW(avg_pool1d(rnd({1, 1, 4}, int32), 2), DTypeError);
  EXPECT_THROW(adaptive_max_pool2d(rnd({1, 2, 4}), {2}), ShapeError);
  EXPECT_THROW(adaptive_avg_pool1d(rnd({1, 2, 4, 4}), 2), ShapeError);
  EXPECT_THROW(adaptive_max_pool1d(rnd({1, 2, 4}, int64), 2), DTypeError);
}

TEST(Pool1d3d, BadWindowValues) {
  EXPECT_THROW(max_pool1d(rnd({1, 2, 8}), 0), ValueError);
  EXPECT_THROW(avg_pool1d(rnd({1, 2, 8}), 2, -1), ValueError);
  EXPECT_THROW(avg_pool1d(rnd({1, 2, 8}), 2, 1, -1), ValueError);
  EXPECT_MESSAGE(max_pool3d(rnd({1, 1, 4, 4, 4}), {2, 2}),
                 "[max_pool3d] kernel needs 1 or 3 values, got (2, 2)");
  EXPECT_THROW(max_pool3d(rnd({1, 1, 4, 4, 4}), {2}, {1, 0, 1}), ValueError);
  EXPECT_THROW(adaptive_max_pool2d(rnd({1, 2, 4, 4}), {0, 2}), ValueError);
  EXPECT_MESSAGE(adaptive_max_pool2d(rnd({1, 2, 0, 4}), {2}),
                 "[adaptive_max_pool2d] cannot pool the empty input (1, 2, 0, 4)");
  EXPECT_THROW(adaptive_avg_pool1d(rnd({1, 2, 0}), 2), ShapeError);
}

TEST(Pool1d3d, MaxPoolPropagatesNaN) {
  Tensor x = tensor(std::vector<float>{1, NAN, 3, 0, 5, 2}, {1, 1, 6});
  std::vector<float> y = max_pool1d(x, 2).to_vector<float>();
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 3);
  EXPECT_EQ(y[2], 5);
  std::vector<float> v(27, 0.f);
  v[13] = NAN;
  std::vector<float> y3 = max_pool3d(tensor(v, {1, 1, 3, 3, 3}), {2}, {1}).to_vector<float>();
  for (float e : y3) EXPECT_TRUE(std::isnan(e));  // every 2x2x2 window holds the centre
  // The gradient goes to each window's first NaN (or first maximum).
  Tensor xg = tensor(std::vector<double>{1, NAN, 3, NAN, 0, 4, 4}, {1, 1, 7}).requires_grad_();
  max_pool1d(xg, 3, 2).sum().backward();
  EXPECT_EQ(xg.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 1, 0, 1, 0}));
  std::vector<float> ya = adaptive_max_pool1d(x, 4).to_vector<float>();
  EXPECT_TRUE(std::isnan(ya[0]));
  EXPECT_FALSE(std::isnan(ya[3]));
}

TEST(Pool1d3d, Float32MatchesFloat64WithGradients) {
  // float32 3-d average pooling runs on oneDNN, float64 on the direct loops.
  for (bool include_pad : {true, false}) {
    Tensor x32 = rnd({2, 3, 7, 6, 5}).requires_grad_();
    Tensor x64 = rnd({2, 3, 7, 6, 5}, float64).requires_grad_();
    auto f = [&](const Tensor& x) {
      Tensor w = rnd({2, 3, 4, 4, 3}, x.dtype(), 1);
      return (avg_pool3d(x, {3, 2, 3}, {2, 2, 2}, {1, 1, 1}, include_pad) * w).sum();
    };
    Tensor l32 = f(x32), l64 = f(x64);
    EXPECT_NEAR(l32.item<float>(), l64.item<double>(), 1e-4);
    l32.backward();
    l64.backward();
    std::vector<float> g32 = x32.grad().to_vector<float>();
    std::vector<double> g64 = x64.grad().to_vector<double>();
    for (std::size_t i = 0; i < g32.size(); ++i) EXPECT_NEAR(g32[i], g64[i], 1e-5) << i;
  }
}

TEST(Upsample, WrongRankAndDtype) {
  EXPECT_THROW(upsample_nearest(rnd({2, 4}), {.scale_factor = {2}}), ShapeError);
  EXPECT_MESSAGE(upsample_nearest(rnd({1, 1, 1, 1, 2, 2}), {.scale_factor = {2}}),
                 "[upsample_nearest] expects an input (N, C, L), (N, C, H, W) or (N, C, D, H, W), "
                 "got (1, 1, 1, 1, 2, 2)");
  EXPECT_MESSAGE(upsample_bilinear(rnd({1, 2, 4}), {.size = {8}}),
                 "[upsample_bilinear] expects an input (N, C, H, W), got (1, 2, 4)");
  EXPECT_THROW(upsample_linear(rnd({1, 2, 4, 4}), {.size = {8}}), ShapeError);
  EXPECT_THROW(upsample_trilinear(rnd({1, 2, 4, 4}), {.size = {8}}), ShapeError);
  EXPECT_THROW(upsample_bilinear(rnd({1, 2, 4, 4}, int64), {.size = {8}}), DTypeError);
  EXPECT_MESSAGE(upsample_nearest(rnd({1, 2, 0, 4}), {.size = {8}}),
                 "[upsample_nearest] cannot resize the empty input (1, 2, 0, 4)");
}

TEST(Upsample, BadSizeOrScale) {
  Tensor x = rnd({1, 2, 4, 4});
  EXPECT_MESSAGE(upsample_nearest(x, {}), "[upsample_nearest] needs a size or a scale_factor");
  EXPECT_MESSAGE(upsample_nearest(x, {.size = {8}, .scale_factor = {2}}),
                 "[upsample_nearest] takes a size or a scale_factor, not both");
  EXPECT_MESSAGE(
      upsample_bilinear(x, {.size = {8, 8, 8}}),
      "[upsample_bilinear] size (8, 8, 8) needs 1 or 2 values for the input (1, 2, 4, 4)");
  EXPECT_THROW(upsample_bilinear(x, {.size = {8, 0}}), ValueError);
  EXPECT_MESSAGE(upsample_nearest(x, {.scale_factor = {2, 2, 2}}),
                 "[upsample_nearest] scale_factor (2, 2, 2) needs 1 or 2 values");
  EXPECT_THROW(upsample_nearest(x, {.scale_factor = {-1}}), ValueError);
  EXPECT_THROW(upsample_nearest(x, {.scale_factor = {NAN}}), ValueError);
  EXPECT_MESSAGE(
      upsample_bilinear(x, {.scale_factor = {0.1}}),
      "[upsample_bilinear] scale_factor (0.1) gives an empty output for the input (1, 2, 4, 4)");
  EXPECT_MESSAGE(upsample_nearest(x, {.size = {8}, .align_corners = true}),
                 "[upsample_nearest] align_corners applies to the linear modes only");
}

TEST(Upsample, NearestScale2RepeatsEveryPixel) {
  Tensor x = tensor(std::vector<float>{1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_EQ(upsample_nearest(x, {.scale_factor = {2}}).to_vector<float>(),
            (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // align_corners: the corners are kept exactly, the middle is their mean.
  std::vector<float> y =
      upsample_bilinear(x, {.size = {3, 3}, .align_corners = true}).to_vector<float>();
  EXPECT_EQ(y, (std::vector<float>{1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4}));
}

// oneDNN runs the 2-d average pooling: its cached primitives are shared between threads, so
// each call must bring its own scratch memory.
TEST(AvgPool2d, ConcurrentCallsAgree) {
  Tensor x = rnd({2, 8, 20, 20});
  Tensor g = rnd({2, 8, 10, 10}, float32, 1);
  std::vector<float> want = avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}).to_vector<float>();
  std::vector<float> want_back = avg_pool2d_backward(g, x.shape(), {3, 3}, {2, 2}, {1, 1}).to_vector<float>();
  std::vector<std::vector<float>> got(4), got_back(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        got[t] = avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}).to_vector<float>();
        got_back[t] = avg_pool2d_backward(g, x.shape(), {3, 3}, {2, 2}, {1, 1}).to_vector<float>();
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(got[t], want);
    EXPECT_EQ(got_back[t], want_back);
  }
}

}  // namespace
}  // namespace nabla
