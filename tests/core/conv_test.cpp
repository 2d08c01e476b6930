// Convolution and pooling: bad input gives typed errors naming the op and shapes; float32
// gradients (oneDNN) agree with float64 ones (direct loops); the primitive cache is safe
// to use from several threads.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <thread>

#include "core/samples.h"

namespace nabla {
namespace {

using testing::message_of;
using testing::rnd;

TEST(Conv2d, ChannelMismatchNamesShapes) {
  std::string m = message_of([] { conv2d(rnd({1, 3, 8, 8}), rnd({5, 4, 3, 3})); });
  EXPECT_NE(m.find("[conv2d] input has 3 channels but weight expects 4 (groups=1)"),
            std::string::npos)
      << m;
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 4, 3, 3})), ShapeError);
  EXPECT_THROW(conv2d(rnd({1, 4, 8, 8}), rnd({6, 1, 3, 3}), {}, {.groups = 2}), ShapeError);
  EXPECT_THROW(conv2d(rnd({1, 4, 8, 8}), rnd({5, 2, 3, 3}), {}, {.groups = 2}),
               ShapeError);  // 5 % 2
}

TEST(Conv2d, BadShapesAndOptionsThrow) {
  EXPECT_THROW(conv2d(rnd({3, 8, 8}), rnd({5, 3, 3, 3})), ShapeError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3})), ShapeError);
  EXPECT_THROW(conv2d(rnd({1, 3, 4, 4}), rnd({5, 3, 5, 5})), ShapeError);
  EXPECT_NO_THROW(conv2d(rnd({1, 3, 4, 4}), rnd({5, 3, 5, 5}), {}, {.padding = {1, 1}}));
  EXPECT_THROW(conv2d(rnd({1, 3, 4, 4}), rnd({5, 3, 3, 3}), {}, {.dilation = {2, 2}}), ShapeError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), {}, {.stride = {0, 1}}), ValueError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), {}, {.stride = {1}}), ValueError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), {}, {.padding = {-1, 0}}), ValueError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), {}, {.padding = {1, 1, 1}}),
               ValueError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), {}, {.dilation = {0, 1}}), ValueError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), {}, {.groups = 0}), ValueError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), {}, {.stride = {2, 2}, .same = true}),
               ValueError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}), rnd({4})), ShapeError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}, int32), rnd({5, 3, 3, 3}, int32)), DTypeError);
  EXPECT_THROW(conv2d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3}, float64)), DTypeError);
  EXPECT_THROW(conv1d(rnd({1, 3, 8, 8}), rnd({5, 3, 3})), ShapeError);
  EXPECT_THROW(conv2d_backward_input(rnd({1, 5, 5, 5}), rnd({5, 3, 3, 3}), {1, 3, 8, 8}),
               ShapeError);
  EXPECT_THROW(conv2d_backward_weight(rnd({1, 3, 8, 8}), rnd({1, 5, 5, 5}), {5, 3, 3, 3}),
               ShapeError);
}

TEST(Conv2d, SameKeepsSizeAndConv1dMatches) {
  Tensor y =
      conv2d(rnd({2, 3, 7, 6}), rnd({4, 3, 4, 3}), rnd({4}), {.dilation = {1, 2}, .same = true});
  EXPECT_EQ(y.shape(), (Shape{2, 4, 7, 6}));
  Tensor x = rnd({2, 4, 11}), w = rnd({6, 2, 3}, float32, 1);
  Tensor a = conv1d(x, w, {}, {.stride = 2, .padding = 1, .groups = 2});
  Tensor b = conv2d(x.unsqueeze(2), w.unsqueeze(2), {},
                    {.stride = {1, 2}, .padding = {0, 1}, .groups = 2});
  EXPECT_EQ(a.shape(), (Shape{2, 6, 6}));
  EXPECT_EQ(a.to_vector<float>(), b.squeeze(2).to_vector<float>());
}

void expect_near(const Tensor& a, const Tensor& b, double tol) {
  ASSERT_EQ(a.shape(), b.shape());
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i)
    ASSERT_NEAR(x[i], y[i], tol * (1 + std::fabs(y[i]))) << i;
}

// A Fashion-MNIST-like block: float32 (oneDNN) forward and gradients vs float64 (loops).
TEST(Conv2d, Float32GradientsMatchFloat64) {
  auto run = [](DType t) {
    Tensor x = rnd({3, 2, 12, 12}, t).requires_grad_();
    Tensor w = (rnd({6, 2, 5, 5}, t, 2) * 0.2).detach().requires_grad_();
    Tensor b = rnd({6}, t, 3).requires_grad_();
    Tensor w2 = (rnd({4, 3, 3, 3}, t, 4) * 0.3).detach().requires_grad_();
    Tensor h = max_pool2d(conv2d(x, w, b, {.padding = {2, 2}}), {2, 2});
    Tensor y = avg_pool2d(conv2d(h, w2, {}, {.stride = {2, 2}, .padding = {1, 1}, .groups = 2}),
                          {2, 2}, {1, 1});
    Tensor loss = (adaptive_avg_pool2d(y, {2, 1}) * rnd({3, 4, 2, 1}, t, 5)).sum();
    loss.backward();
    return std::vector<Tensor>{loss, x.grad(), w.grad(), b.grad(), w2.grad()};
  };
  std::vector<Tensor> f = run(float32), d = run(float64);
  for (std::size_t i = 0; i < f.size(); ++i) expect_near(f[i], d[i], 1e-4);
}

TEST(Conv2d, ConcurrentCallsAgree) {
  Tensor x = rnd({2, 3, 16, 16}), w = rnd({8, 3, 3, 3});
  std::vector<float> want = conv2d(x, w, {}, {.padding = {1, 1}}).to_vector<float>();
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Tensor xt = rnd({2, 3, 16, 16}), wt = rnd({8, 3, 3, 3});
      for (int i = 0; i < 5; ++i)
        got[t] = conv2d(xt, wt, {}, {.padding = {1, 1}}).to_vector<float>();
    });
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

bool contains(const std::string& m, const std::string& part) {
  return m.find(part) != std::string::npos;
}

TEST(Conv3d, BadInputThrowsNamingOpAndShapes) {
  std::string m = message_of([] { conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 4, 3, 3, 3})); });
  EXPECT_TRUE(contains(m,
                       "[conv3d] input has 3 channels but weight expects 4 (groups=1): "
                       "input (1, 3, 4, 8, 8), weight (5, 4, 3, 3, 3)"))
      << m;
  EXPECT_THROW(conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 4, 3, 3, 3})), ShapeError);
  m = message_of([] { conv3d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3, 3})); });
  EXPECT_TRUE(contains(m, "[conv3d] expects an input (N, C, D, H, W), got (1, 3, 8, 8)")) << m;
  EXPECT_THROW(conv3d(rnd({1, 3, 8, 8}), rnd({5, 3, 3, 3, 3})), ShapeError);
  EXPECT_THROW(conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 3, 3, 3})), ShapeError);
  EXPECT_THROW(conv3d(rnd({1, 3, 2, 8, 8}), rnd({5, 3, 3, 3, 3})), ShapeError);  // kernel > depth
  EXPECT_NO_THROW(conv3d(rnd({1, 3, 2, 8, 8}), rnd({5, 3, 3, 3, 3}), {}, {.padding = {1, 0, 0}}));
  EXPECT_THROW(conv3d(rnd({1, 4, 4, 8, 8}), rnd({5, 2, 3, 3, 3}), {}, {.groups = 2}),
               ShapeError);  // 5 % 2
  EXPECT_THROW(conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 3, 3, 3, 3}), {}, {.stride = {1, 1}}),
               ValueError);
  EXPECT_THROW(conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 3, 3, 3, 3}), {}, {.padding = {1, 1}}),
               ValueError);
  EXPECT_THROW(conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 3, 3, 3, 3}), {}, {.dilation = {1, 0, 1}}),
               ValueError);
  EXPECT_THROW(
      conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 3, 3, 3, 3}), {}, {.stride = {1, 2, 1}, .same = true}),
      ValueError);
  EXPECT_THROW(conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 3, 3, 3, 3}), rnd({4})), ShapeError);
  EXPECT_THROW(conv3d(rnd({1, 3, 4, 8, 8}), rnd({5, 3, 3, 3, 3}, float64)), DTypeError);
  EXPECT_THROW(conv3d_backward_input(rnd({1, 5, 2, 5, 5}), rnd({5, 3, 3, 3, 3}), {1, 3, 4, 8, 8}),
               ShapeError);
  EXPECT_THROW(conv3d_backward_weight(rnd({1, 3, 4, 8, 8}), rnd({1, 5, 2, 5, 5}), {5, 3, 3, 3, 3}),
               ShapeError);
}

TEST(Conv3d, SameKeepsSizeAndDepthOneMatchesConv2d) {
  Tensor y = conv3d(rnd({2, 3, 5, 7, 6}), rnd({4, 3, 2, 4, 3}), rnd({4}),
                    {.dilation = {2, 1, 2}, .same = true});
  EXPECT_EQ(y.shape(), (Shape{2, 4, 5, 7, 6}));
  Tensor x = rnd({2, 4, 9, 8}), w = rnd({6, 2, 3, 3}, float32, 1);
  Tensor a = conv3d(x.unsqueeze(2), w.unsqueeze(2), {},
                    {.stride = {1, 2, 1}, .padding = {0, 1, 1}, .groups = 2});
  Tensor b = conv2d(x, w, {}, {.stride = {2, 1}, .padding = {1, 1}, .groups = 2});
  expect_near(a.squeeze(2), b, 1e-5);
}

// float32 (oneDNN) forward and gradients vs float64 (loops) through a small 3-d network.
TEST(Conv3d, Float32GradientsMatchFloat64) {
  auto run = [](DType t) {
    Tensor x = rnd({2, 3, 6, 9, 9}, t).requires_grad_();
    Tensor w = (rnd({4, 3, 3, 3, 3}, t, 2) * 0.2).detach().requires_grad_();
    Tensor b = rnd({4}, t, 3).requires_grad_();
    Tensor w2 = (rnd({6, 2, 2, 3, 3}, t, 4) * 0.3).detach().requires_grad_();
    Tensor h = conv3d(x, w, b, {.padding = {1, 1, 1}});
    Tensor y =
        conv3d(tanh(h), w2, {},
               {.stride = {2, 2, 1}, .padding = {0, 1, 1}, .dilation = {1, 1, 2}, .groups = 2});
    Tensor loss = (y * rnd(y.shape(), t, 5)).sum();
    loss.backward();
    return std::vector<Tensor>{loss, x.grad(), w.grad(), b.grad(), w2.grad()};
  };
  std::vector<Tensor> f = run(float32), d = run(float64);
  for (std::size_t i = 0; i < f.size(); ++i) expect_near(f[i], d[i], 1e-4);
}

TEST(ConvTranspose2d, BadInputThrowsNamingOpAndShapes) {
  std::string m = message_of([] { conv_transpose2d(rnd({1, 3, 4, 4}), rnd({4, 2, 3, 3})); });
  EXPECT_TRUE(contains(m,
                       "[conv_transpose2d] input has 3 channels but weight expects 4: "
                       "input (1, 3, 4, 4), weight (4, 2, 3, 3)"))
      << m;
  EXPECT_THROW(conv_transpose2d(rnd({1, 3, 4, 4}), rnd({4, 2, 3, 3})), ShapeError);
  m = message_of([] {
    conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), {},
                     {.stride = {2, 2}, .output_padding = {2, 1}});
  });
  EXPECT_TRUE(contains(m,
                       "[conv_transpose2d] output_padding (2, 1) must be smaller than the "
                       "stride (2, 2) or the dilation (1, 1)"))
      << m;
  EXPECT_THROW(conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), {},
                                {.stride = {2, 2}, .output_padding = {2, 1}}),
               ValueError);
  EXPECT_THROW(
      conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), {}, {.output_padding = {1, 0}}),
      ValueError);  // stride 1, dilation 1
  EXPECT_NO_THROW(conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), {},
                                   {.output_padding = {1, 0}, .dilation = {2, 1}}));
  m = message_of([] { conv_transpose2d(rnd({4, 4, 4}), rnd({4, 2, 3, 3})); });
  EXPECT_TRUE(contains(m, "[conv_transpose2d] expects an input (N, C, H, W), got (4, 4, 4)")) << m;
  EXPECT_THROW(conv_transpose2d(rnd({4, 4, 4}), rnd({4, 2, 3, 3})), ShapeError);
  EXPECT_THROW(conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3})), ShapeError);
  EXPECT_THROW(conv_transpose2d(rnd({1, 3, 4, 4}), rnd({3, 2, 3, 3}), {}, {.groups = 2}),
               ShapeError);  // 3 % 2
  EXPECT_THROW(conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), {}, {.groups = 0}),
               ValueError);
  EXPECT_THROW(conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), {}, {.stride = {0, 1}}),
               ValueError);
  EXPECT_THROW(
      conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), {}, {.padding = {1, 1, 1, 1}}),
      ValueError);
  EXPECT_THROW(conv_transpose2d(rnd({1, 4, 1, 1}), rnd({4, 2, 1, 1}), {}, {.padding = {1, 1}}),
               ShapeError);  // empty output
  EXPECT_THROW(conv_transpose2d(rnd({1, 4, 4, 4}), rnd({4, 2, 3, 3}), rnd({3})), ShapeError);
  EXPECT_THROW(conv_transpose2d(rnd({1, 4, 4, 4}, int32), rnd({4, 2, 3, 3}, int32)), DTypeError);
  m = message_of([] { conv_transpose1d(rnd({1, 4, 5}), rnd({4, 2, 3, 3})); });
  EXPECT_TRUE(
      contains(m, "[conv_transpose1d] expects a weight (C, O / groups, K), got (4, 2, 3, 3)"))
      << m;
  EXPECT_THROW(conv_transpose1d(rnd({1, 4, 5}), rnd({3, 2, 3})), ShapeError);
  EXPECT_THROW(
      conv_transpose1d(rnd({1, 4, 5}), rnd({4, 2, 3}), {}, {.stride = 2, .output_padding = 2}),
      ValueError);
}

// conv_transpose2d is the adjoint of conv2d in x: <conv2d(y, w), x> == <y, conv_transpose2d(x, w)>.
TEST(ConvTranspose2d, IsTheAdjointOfConv2d) {
  Tensor w = rnd({4, 3, 3, 2}, float64, 1);
  Tensor x = rnd({2, 4, 5, 6}, float64, 2);
  Tensor t =
      conv_transpose2d(x, w, {}, {.stride = {2, 3}, .padding = {1, 0}, .output_padding = {1, 2}});
  EXPECT_EQ(t.shape(), (Shape{2, 3, 10, 19}));
  Tensor y = rnd(t.shape(), float64, 3);
  double lhs = (conv2d(y, w, {}, {.stride = {2, 3}, .padding = {1, 0}}) * x).sum().item<double>();
  double rhs = (y * t).sum().item<double>();
  EXPECT_NEAR(lhs, rhs, 1e-9 * std::fabs(lhs));
}

TEST(Pool2d, BadInputThrows) {
  std::string m = message_of([] { max_pool2d(rnd({1, 2, 4, 4}), {3, 3}, {}, {2, 2}); });
  EXPECT_NE(m.find("[max_pool2d] padding (2, 2) should be at most half the kernel (3, 3)"),
            std::string::npos)
      << m;
  EXPECT_THROW(max_pool2d(rnd({1, 2, 4, 4}), {3, 3}, {}, {2, 2}), ValueError);
  EXPECT_THROW(max_pool2d(rnd({2, 4, 4}), {2, 2}), ShapeError);
  EXPECT_THROW(max_pool2d(rnd({1, 2, 4, 4}), {5, 5}), ShapeError);
  EXPECT_THROW(max_pool2d(rnd({1, 2, 4, 4}), {2, 2}, {0, 1}), ValueError);
  EXPECT_THROW(max_pool2d(rnd({1, 2, 4, 4}), {0}), ValueError);
  EXPECT_THROW(max_pool2d(rnd({1, 2, 4, 4}), {2, 2, 2}), ValueError);
  EXPECT_THROW(avg_pool2d(rnd({1, 2, 4, 4}, int64), {2, 2}), DTypeError);
  EXPECT_THROW(avg_pool2d(rnd({1, 2, 4, 4}), {2, 2}, {}, {-1, 0}), ValueError);
  EXPECT_THROW(adaptive_avg_pool2d(rnd({1, 2, 4, 4}), {0, 2}), ValueError);
  EXPECT_THROW(adaptive_avg_pool2d(rnd({1, 2, 0, 4}), {2, 2}), ShapeError);
  EXPECT_THROW(adaptive_avg_pool2d(rnd({2, 4}), {2, 2}), ShapeError);
  EXPECT_THROW(max_pool2d_backward(rnd({1, 2, 3, 3}), rnd({1, 2, 4, 4}), {2, 2}), ShapeError);
  EXPECT_THROW(avg_pool2d_backward(rnd({1, 2, 3, 3}), {1, 2, 4, 4}, {2, 2}), ShapeError);
  EXPECT_THROW(avg_pool2d_backward(rnd({1, 2, 2, 2}), {2, 4, 4}, {2, 2}), ShapeError);
}

TEST(Pool2d, MaxPoolPropagatesNaNAndRoutesGradientToFirstMax) {
  Tensor x = tensor(std::vector<float>{1, 3, 3, 0, NAN, 2, 0, 0}, {1, 2, 2, 2});
  std::vector<float> y = max_pool2d(x, {2, 2}).to_vector<float>();
  EXPECT_EQ(y[0], 3);
  EXPECT_TRUE(std::isnan(y[1]));
  Tensor gx = max_pool2d_backward(tensor(std::vector<float>{1, 1}, {1, 2, 1, 1}), x, {2, 2});
  EXPECT_EQ(gx.to_vector<float>(), (std::vector<float>{0, 1, 0, 0, 1, 0, 0, 0}));
}

}  // namespace
}  // namespace nabla
