#include <gtest/gtest.h>

#include <nabla/nabla.h>

namespace nb = nabla;

TEST(Backward, SquareSum) {
  auto x = nb::tensor(std::vector<float>{1, -2, 3}).requires_grad_();
  (x * x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, -4, 6}));
}

TEST(Backward, AccumulatesAndZeroes) {
  auto x = nb::ones({2}).requires_grad_();
  (x * 3).sum().backward();
  (x * 3).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 6}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Backward, RetainGraphAndErrors) {
  auto x = nb::ones({2}).requires_grad_();
  auto y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{4, 4}));
  EXPECT_THROW(y.backward(), nb::AutogradError);
  EXPECT_THROW(nb::ones({2}).sum().backward(), nb::AutogradError);
  EXPECT_THROW((x * 2).backward(), nb::AutogradError);  // non-scalar needs a gradient
  EXPECT_THROW(nb::ones({2}, nb::int64).requires_grad_(), nb::AutogradError);
}

TEST(Backward, InPlaceAfterSaveIsAnError) {
  auto x = nb::ones({2}).requires_grad_();
  auto w = nb::ones({2});
  auto y = (x * w).sum();
  w.add_(nb::ones({2}));
  EXPECT_THROW(y.backward(), nb::AutogradError);
}

TEST(Backward, NoGradGuardRecordsNothing) {
  auto x = nb::ones({2}).requires_grad_();
  {
    nb::NoGradGuard g;
    EXPECT_FALSE((x * 2).requires_grad());
  }
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(Backward, HooksSeeAndReplaceGradients) {
  auto x = nb::ones({2}).requires_grad_();
  x.register_hook([](const nb::Tensor& g) { return g * 10; });
  (x * 2).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{20, 20}));
}
