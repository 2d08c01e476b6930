// broadcast_like and count_elements in eager mode: values, views, gradients and bad input.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

namespace nb = nabla;

TEST(BroadcastLike, IsAViewWithLikesShapeAndSumsItsGradientBack) {
  nb::Tensor x = nb::tensor(std::vector<float>{1, 2, 3}, {3, 1});
  nb::Tensor like = nb::zeros({2, 3, 4}, nb::int64);  // only the shape is read
  nb::Tensor y = nb::broadcast_like(x, like);
  EXPECT_EQ(y.shape(), (nb::Shape{2, 3, 4}));
  EXPECT_EQ(y.dtype(), nb::float32);
  EXPECT_TRUE(y.shares_storage(x));
  EXPECT_EQ(y.to_vector<float>(), x.broadcast_to({2, 3, 4}).to_vector<float>());
  nb::Tensor xg = x.detach().requires_grad_();
  (nb::broadcast_like(xg, like) * 2).sum().backward();
  EXPECT_EQ(xg.grad().to_vector<float>(), std::vector<float>(3, 16.0f));
}

TEST(BroadcastLike, RefusesShapesThatDoNotBroadcast) {
  EXPECT_THROW(nb::broadcast_like(nb::ones({2}), nb::ones({3})), nb::ShapeError);
  EXPECT_THROW(nb::broadcast_like(nb::ones({2, 3}), nb::ones({3})), nb::ShapeError);
  EXPECT_THROW(nb::broadcast_like(nb::ones({3, 2}), nb::ones({3, 1})), nb::ShapeError);
  EXPECT_THROW(nb::broadcast_like(nb::Tensor(), nb::ones({3})), nb::ValueError);
  EXPECT_THROW(nb::broadcast_like(nb::ones({3}), nb::Tensor()), nb::ValueError);
}

TEST(CountElements, CountsTheReducedAxesInTheAskedDtype) {
  nb::Tensor x = nb::zeros({3, 4, 5});
  EXPECT_EQ(nb::count_elements(x).item<float>(), 60.0f);
  EXPECT_EQ(nb::count_elements(x, {0, -1}, nb::int64).item<int64_t>(), 15);
  EXPECT_EQ(nb::count_elements(x, {1}, nb::float64).dtype(), nb::float64);
  EXPECT_EQ(nb::count_elements(nb::zeros({0, 2}), {0}).item<float>(), 0.0f);
  EXPECT_EQ(nb::count_elements(nb::scalar(1.0, nb::float32)).item<float>(), 1.0f);
  EXPECT_EQ(nb::count_elements(x).shape(), nb::Shape{});
  // A constant: nothing flows back to x.
  nb::Tensor xg = nb::ones({2, 2}).requires_grad_();
  EXPECT_FALSE(nb::count_elements(xg).requires_grad());
}

TEST(CountElements, RefusesBadAxesAndDtypes) {
  EXPECT_THROW(nb::count_elements(nb::zeros({3}), {1}), nb::IndexError);
  EXPECT_THROW(nb::count_elements(nb::zeros({3}), {0, 0}), nb::IndexError);
  EXPECT_THROW(nb::count_elements(nb::zeros({3}), {}, nb::bool_), nb::DTypeError);
  EXPECT_THROW(nb::count_elements(nb::Tensor()), nb::ValueError);
}
