// Reductions, scans, softmax and one_hot: semantics the op table does not reach (ties, NaN,
// zeros in products, infinities) and the typed errors of bad input.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <limits>

namespace nb = nabla;

namespace {
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();
nb::Tensor vec(std::vector<float> v) { return nb::tensor(v); }
}  // namespace

TEST(Reduce, AxesOutOfRangeNameTheOp) {
  auto x = nb::ones({2, 3});
  auto expect_index_error = [](auto f, const std::string& op) {
    try {
      f();
      ADD_FAILURE() << op << " did not throw";
    } catch (const nb::IndexError& e) {
      EXPECT_NE(std::string(e.what()).find("[" + op + "]"), std::string::npos) << e.what();
    }
  };
  expect_index_error([&] { nb::sum(x, {2}); }, "sum");
  expect_index_error([&] { nb::prod(x, {-3}); }, "prod");
  expect_index_error([&] { nb::max(x, {5}); }, "max");
  expect_index_error([&] { nb::min(x, {2}); }, "min");
  expect_index_error([&] { nb::mean(x, {2}); }, "mean");
  expect_index_error([&] { nb::var(x, {2}); }, "var");
  expect_index_error([&] { nb::std(x, {2}); }, "std");
  expect_index_error([&] { nb::logsumexp(x, {2}); }, "logsumexp");
  expect_index_error([&] { nb::norm(x, 2, {2}); }, "norm");
  expect_index_error([&] { nb::any(x, {2}); }, "any");
  expect_index_error([&] { nb::all(x, {-3}); }, "all");
  expect_index_error([&] { nb::argmax(x, 2); }, "argmax");
  expect_index_error([&] { nb::argmin(x, -3); }, "argmin");
  expect_index_error([&] { nb::cumsum(x, 2); }, "cumsum");
  expect_index_error([&] { nb::cumprod(x, -3); }, "cumprod");
  expect_index_error([&] { nb::softmax(x, 2); }, "softmax");
  expect_index_error([&] { nb::log_softmax(x, -3); }, "log_softmax");
  EXPECT_THROW(nb::sum(x, {0, -2}), nb::IndexError);  // the same axis twice
}

TEST(Reduce, EmptyReductionsWithoutIdentityThrow) {
  auto e = nb::zeros({0, 3});
  EXPECT_THROW(nb::argmax(e), nb::ValueError);
  EXPECT_THROW(nb::argmin(e, 0), nb::ValueError);
  EXPECT_THROW(nb::max(e), nb::ValueError);
  EXPECT_THROW(nb::min(e, {0}), nb::ValueError);
  EXPECT_THROW(e.max(), nb::ValueError);
  EXPECT_THROW(nb::norm(e, std::numeric_limits<double>::infinity()), nb::ValueError);
  // Reducing a non-empty axis of an empty tensor is fine: the result is empty.
  EXPECT_EQ(nb::max(e, {1}).shape(), (nb::Shape{0}));
  EXPECT_EQ(nb::argmax(e, 1).shape(), (nb::Shape{0}));
  EXPECT_EQ(nb::sum(e).item<float>(), 0.0f);
  EXPECT_EQ(nb::prod(e).item<float>(), 1.0f);
  EXPECT_FALSE(nb::any(e).item<bool>());
  EXPECT_TRUE(nb::all(e).item<bool>());
}

TEST(Reduce, BadArgumentsThrow) {
  auto x = nb::ones({2, 3});
  EXPECT_THROW(nb::norm(x, 3), nb::ValueError);
  EXPECT_THROW(nb::var(x, {}, -1), nb::ValueError);
  EXPECT_THROW(nb::one_hot(x, 3), nb::DTypeError);
  auto idx = nb::tensor(std::vector<int64_t>{0, 2, 5});
  EXPECT_THROW(nb::one_hot(idx, 3), nb::IndexError);
  EXPECT_THROW(nb::one_hot(nb::tensor(std::vector<int64_t>{-1}), 3), nb::IndexError);
  EXPECT_THROW(nb::one_hot(nb::zeros({0}, nb::int64)), nb::ValueError);
  EXPECT_THROW(nb::one_hot(idx, -2), nb::ValueError);
}

TEST(Reduce, MaxMinMethodsAndNaN) {
  auto x = vec({3, -1, 7, 2});
  EXPECT_EQ(x.max().item<float>(), 7.0f);
  EXPECT_EQ(x.min().item<float>(), -1.0f);
  auto n = vec({1, kNaN, 5, kNaN});
  EXPECT_TRUE(std::isnan(n.max().item<float>()));
  EXPECT_TRUE(std::isnan(nb::min(n).item<float>()));
  EXPECT_EQ(nb::argmax(n).item<int64_t>(), 1);  // the first NaN, like PyTorch
  EXPECT_EQ(nb::argmin(n).item<int64_t>(), 1);
  EXPECT_EQ(nb::max(nb::tensor(std::vector<int32_t>{4, -9, 2})).item<int32_t>(), 4);
}

TEST(Reduce, ArgmaxTakesTheFirstOfTiesAndKeepsDims) {
  auto x = nb::tensor(std::vector<float>{1, 5, 5, 0, 2, 2, 2, 2}, {2, 4});
  EXPECT_EQ(nb::argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(nb::argmin(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(nb::argmax(x).item<int64_t>(), 1);
  EXPECT_EQ(nb::argmax(x, std::nullopt, true).shape(), (nb::Shape{1, 1}));
  EXPECT_EQ(nb::argmax(x, 0, true).shape(), (nb::Shape{1, 4}));
  EXPECT_EQ(nb::argmax(x, 0).dtype(), nb::int64);
  // Ties across lanes and threads of a long row still give the first index.
  auto big = nb::zeros({100000});
  EXPECT_EQ(nb::argmax(big).item<int64_t>(), 0);
  EXPECT_EQ(nb::argmax(nb::ones({3, 50000}), 1).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 0}));
}

TEST(Reduce, MaxGradientIsSharedAmongTies) {
  auto x = vec({1, 3, 3, 2}).requires_grad_();
  nb::max(x).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0.5f, 0.5f, 0}));
  auto y = nb::tensor(std::vector<float>{4, 1, 4, 0, 0, 0}, {2, 3}).requires_grad_();
  nb::min(y, {1}).sum().backward();
  EXPECT_EQ(y.grad().to_vector<float>(), (std::vector<float>{0, 1, 0, 1.f / 3, 1.f / 3, 1.f / 3}));
}

TEST(Reduce, ProdGradientWithZeros) {
  auto one = vec({2, 0, 3}).requires_grad_();
  nb::prod(one).backward();
  EXPECT_EQ(one.grad().to_vector<float>(), (std::vector<float>{0, 6, 0}));
  auto two = vec({2, 0, 3, 0}).requires_grad_();
  nb::prod(two).backward();
  EXPECT_EQ(two.grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
  auto none = vec({2, 4, 3}).requires_grad_();
  nb::prod(none).backward();
  EXPECT_EQ(none.grad().to_vector<float>(), (std::vector<float>{12, 6, 8}));
}

TEST(Reduce, CumprodGradientWithZeros) {
  // y = (2, 0, 0, 0); dy/dx summed: d/dx0 = 1, d/dx1 = 2 + 2*3 + 2*3*4 = 32, others 0.
  auto x = vec({2, 0, 3, 4}).requires_grad_();
  nb::cumprod(x, 0).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 32, 0, 0}));
  auto z = vec({0, 5, 0}).requires_grad_();
  nb::cumprod(z, 0).sum().backward();
  EXPECT_EQ(z.grad().to_vector<float>(), (std::vector<float>{1 + 5, 0, 0}));
  for (float g : z.grad().to_vector<float>()) EXPECT_FALSE(std::isnan(g));
}

TEST(Reduce, CumsumOfIntegersAndBoolsIsInt64) {
  auto b = nb::tensor(std::vector<bool>{true, false, true});
  EXPECT_EQ(nb::cumsum(b, 0).dtype(), nb::int64);
  EXPECT_EQ(nb::cumsum(b, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 2}));
  auto s = nb::cumsum(nb::arange(6).reshape({2, 3}), 0);
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 5, 7}));
}

TEST(Reduce, VarianceCorrection) {
  auto x = vec({1, 2, 3, 4});
  EXPECT_FLOAT_EQ(nb::var(x).item<float>(), 5.0f / 3);
  EXPECT_FLOAT_EQ(nb::var(x, {}, 0).item<float>(), 1.25f);
  EXPECT_FLOAT_EQ(nb::std(x, {0}, 1, true).item<float>(), std::sqrt(5.0f / 3));
  EXPECT_TRUE(std::isnan(nb::var(vec({3})).item<float>()));  // n - correction = 0
  EXPECT_EQ(nb::var(nb::arange(4)).dtype(), nb::float32);
  // Large offsets do not cancel (two passes, not E[x^2] - E[x]^2).
  EXPECT_NEAR(nb::var(vec({1e4f + 1, 1e4f + 2, 1e4f + 3})).item<float>(), 1.0f, 1e-3);
}

TEST(Reduce, SoftmaxAndLogsumexpAreStable) {
  auto x = vec({1000, 1000, -kInf});
  EXPECT_EQ(nb::softmax(x).to_vector<float>(), (std::vector<float>{0.5f, 0.5f, 0}));
  auto ls = nb::log_softmax(x).to_vector<float>();
  EXPECT_NEAR(ls[0], -std::log(2.0f), 1e-6);
  EXPECT_EQ(ls[2], -kInf);
  EXPECT_NEAR(nb::logsumexp(x).item<float>(), 1000 + std::log(2.0f), 1e-3);
  EXPECT_EQ(nb::logsumexp(vec({-kInf, -kInf})).item<float>(), -kInf);
  EXPECT_EQ(nb::logsumexp(vec({kInf, 1})).item<float>(), kInf);
  // Rows of a large batch sum to one, along either axis.
  auto r = nb::softmax(nb::arange(-3000, 3000, 1, nb::float32).reshape({60, 100}) / 7, 0);
  for (float s : nb::sum(r, {0}).to_vector<float>()) EXPECT_NEAR(s, 1.0f, 1e-5);
}

TEST(Reduce, SecondOrderGradients) {
  // d/dx sum(softmax(x) * w) then differentiated again must run (rules are written with ops).
  auto x = vec({0.1f, -0.4f, 0.7f}).requires_grad_();
  auto y = nb::logsumexp(x, {0});
  y.backward(nb::Tensor(), false, /*create_graph=*/true);
  auto g = x.grad();  // softmax(x)
  EXPECT_TRUE(g.requires_grad());
  auto s = nb::softmax(vec({0.1f, -0.4f, 0.7f}));
  auto gv = g.to_vector<float>(), sv = s.to_vector<float>();
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(gv[i], sv[i], 1e-6);
  x.zero_grad();  // the gradient's graph refers back to x: break the cycle (as in PyTorch)
}

TEST(Reduce, OneHot) {
  auto idx = nb::tensor(std::vector<int64_t>{2, 0, 1}, {3});
  auto h = nb::one_hot(idx);
  EXPECT_EQ(h.shape(), (nb::Shape{3, 3}));
  EXPECT_EQ(h.dtype(), nb::int64);
  EXPECT_EQ(h.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(nb::one_hot(idx, 4).shape(), (nb::Shape{3, 4}));
}

TEST(Reduce, AnyAllTakeEveryDtype) {
  EXPECT_TRUE(nb::any(vec({0, 0, kNaN})).item<bool>());
  EXPECT_FALSE(nb::all(nb::tensor(std::vector<int32_t>{1, 0})).item<bool>());
  EXPECT_EQ(nb::all(nb::ones({2, 3}), {1}, true).shape(), (nb::Shape{2, 1}));
  EXPECT_EQ(nb::any(nb::ones({2, 3})).dtype(), nb::bool_);
}

TEST(Reduce, NormAtZeroHasZeroGradient) {
  auto x = nb::zeros({3}).requires_grad_();
  nb::norm(x).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

TEST(Reduce, NaNPropagatesThroughEveryPath) {
  // Long rows and columns take the vectorised paths; NaN early or late must survive them.
  for (int64_t at : {int64_t(0), int64_t(5), int64_t(61)}) {
    std::vector<float> v(64 * 40, 1.0f);
    v[std::size_t(at * 40 + 3)] = kNaN;  // row `at`, column 3
    auto x = nb::tensor(v, {64, 40});
    auto cols = nb::max(x, {0}).to_vector<float>();
    auto mins = nb::min(x, {0}).to_vector<float>();
    for (std::size_t c = 0; c < 40; ++c) {
      EXPECT_EQ(std::isnan(cols[c]), c == 3) << at << " " << c;
      EXPECT_EQ(std::isnan(mins[c]), c == 3) << at << " " << c;
    }
    auto rows = nb::max(x.t().contiguous(), {1}).to_vector<float>();
    for (std::size_t c = 0; c < 40; ++c) EXPECT_EQ(std::isnan(rows[c]), c == 3);
  }
}
