#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <nabla/nabla.h>

namespace nb = nabla;

namespace {
nb::CustomFunction square_with_custom_backward() {
  return {.name = "my_square",
          .forward = [](const std::vector<nb::Tensor>& in) { return in[0] * in[0]; },
          .backward = [](const std::vector<nb::Tensor>& in, const nb::Tensor&, const nb::Tensor& g) {
            return std::vector<nb::Tensor>{g * in[0] * 2};
          }};
}
}  // namespace

TEST(Custom, ForwardAndBackward) {
  auto sq = square_with_custom_backward();
  auto x = nb::tensor(std::vector<double>{1, 2, 3}).requires_grad_();
  auto y = sq({x});
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{1, 4, 9}));
  (y * 3).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, 12, 18}));
  // composes with the transforms, including second order (the backward is written with ops)
  auto d2 = nb::grad(nb::grad([&](const nb::Tensor& t) { return sq({t}).sum(); }));
  (void)d2;
  auto second = nb::grad([&](const nb::Tensor& t) { return nb::grad([&](const nb::Tensor& u) { return sq({u}).sum(); })(t).sum(); });
  EXPECT_EQ(second(nb::tensor(std::vector<double>{5})).item<double>(), 2);
}

TEST(Custom, BadBackwardIsReported) {
  nb::CustomFunction bad{.name = "bad",
                         .forward = [](const std::vector<nb::Tensor>& in) { return in[0] * 1; },
                         .backward = [](const std::vector<nb::Tensor>&, const nb::Tensor&, const nb::Tensor&) {
                           return std::vector<nb::Tensor>{nb::ones({7})};
                         }};
  auto x = nb::ones({2}).requires_grad_();
  try {
    bad({x}).sum().backward();
    FAIL();
  } catch (const nb::AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("[bad]"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, SameGradientsWithoutKeepingActivations) {
  auto block = [](const std::vector<nb::Tensor>& in) {
    nb::Tensor h = in[0] * in[1];
    return (h * h + h).sum();
  };
  auto x = nb::tensor(std::vector<double>{1, 2}).requires_grad_();
  auto w = nb::tensor(std::vector<double>{3, -1}).requires_grad_();
  block({x, w}).backward();
  auto gx = x.grad().to_vector<double>(), gw = w.grad().to_vector<double>();
  x.zero_grad();
  w.zero_grad();
  nb::checkpoint(block, {x, w}).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), gx);
  EXPECT_EQ(w.grad().to_vector<double>(), gw);
}

TEST(Anomaly, NamesTheOpThatMadeNaN) {
  nb::set_detect_anomaly(true);
  auto x = nb::zeros({2}).requires_grad_();
  auto y = (nb::ones({2}) / x).sum();  // d/dx 1/x at 0 is -inf
  try {
    y.backward();
    nb::set_detect_anomaly(false);
    FAIL();
  } catch (const nb::AutogradError& e) {
    nb::set_detect_anomaly(false);
    EXPECT_NE(std::string(e.what()).find("'div'"), std::string::npos) << e.what();
  }
}

TEST(Memory, TrainingLoopDoesNotGrow) {
  auto w = nb::full({64, 64}, 0.01).requires_grad_();
  auto x = nb::ones({64, 64});
  auto step = [&] {
    auto loss = ((x * w + 1) * (x * w)).sum();
    loss.backward();
    nb::NoGradGuard off;
    w.sub_(w.grad() * 1e-6);
    w.zero_grad();
  };
  for (int i = 0; i < 10; ++i) step();  // warm the allocator's cache
  auto before = nb::memory_stats();
  for (int i = 0; i < 1000; ++i) step();
  auto after = nb::memory_stats();
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.num_system_allocs, before.num_system_allocs);
}
