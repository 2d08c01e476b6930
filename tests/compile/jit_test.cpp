// nb::jit: tracing, the per-signature cache, captured weights, random ops, and what tracing
// refuses (reading values of a traced tensor).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

namespace nb = nabla;

namespace {
void expect_close(const nb::Tensor& a, const nb::Tensor& b, double tol = 1e-6) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.dtype(), b.dtype());
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "at " << i;
}
}  // namespace

TEST(Jit, ContractLineMatchesEager) {
  auto fast_gelu = nb::jit([](const nb::Tensor& t) { return nb::tanh(t) * t; });
  nb::Tensor x = nb::randn({4, 5});
  expect_close(fast_gelu(x), nb::tanh(x) * x);
  EXPECT_EQ(fast_gelu.cache_size(), 1u);
  nb::Tensor x2 = nb::randn({4, 5});
  expect_close(fast_gelu(x2), nb::tanh(x2) * x2);
  EXPECT_EQ(fast_gelu.cache_size(), 1u);  // same signature: no retrace
}

TEST(Jit, RetracesOnANewSignature) {
  int traces = 0;
  auto f = nb::jit([&traces](const nb::Tensor& a, const nb::Tensor& b) {
    ++traces;
    return nb::matmul(a, b) + 1;
  });
  nb::Tensor a = nb::randn({2, 3}), b = nb::randn({3, 4});
  expect_close(f(a, b), nb::matmul(a, b) + 1, 1e-5);
  f(nb::randn({2, 3}), nb::randn({3, 4}));
  EXPECT_EQ(traces, 1);
  nb::Tensor c = nb::randn({5, 3});
  expect_close(f(c, b), nb::matmul(c, b) + 1, 1e-5);  // new shape
  nb::Tensor a64 = a.astype(nb::float64), b64 = b.astype(nb::float64);
  expect_close(f(a64, b64), nb::matmul(a64, b64) + 1, 1e-12);  // new dtype
  EXPECT_EQ(traces, 3);
  EXPECT_EQ(f.cache_size(), 3u);
  EXPECT_THROW(f(a, a), nb::ShapeError);  // the trace's own shape check
}

TEST(Jit, MultipleOutputsAndCapturedWeights) {
  nb::Tensor w = nb::randn({3, 2});
  auto f = nb::jit([&w](const nb::Tensor& x) {
    nb::Tensor y = nb::matmul(x, w);
    return std::vector<nb::Tensor>{y, nb::relu(y).sum()};
  });
  nb::Tensor x = nb::randn({4, 3});
  auto out = f(x);
  ASSERT_EQ(out.size(), 2u);
  expect_close(out[0], nb::matmul(x, w), 1e-5);
  expect_close(out[1], nb::relu(nb::matmul(x, w)).sum(), 1e-5);
  w.mul_(nb::full({3, 2}, 2.0));  // weights updated in place: read at the next call
  expect_close(f(x)[0], nb::matmul(x, w), 1e-5);
}

TEST(Jit, ResultsAreDifferentiableThroughCapturedParameters) {
  nb::Tensor w = nb::randn({3}).requires_grad_();
  auto f = nb::jit([&w](const nb::Tensor& x) { return (x * w).sum(); });
  nb::Tensor x = nb::randn({3});
  f(x).backward();
  expect_close(w.grad(), x);
}

TEST(Jit, RandomOpsDrawFreshNumbersEachCall) {
  auto noisy = nb::jit([](const nb::Tensor& x) { return x + nb::randn_like(x); });
  nb::Tensor z = nb::zeros({256});
  nb::Tensor a = noisy(z), b = noisy(z);
  EXPECT_NE(a.to_vector<float>(), b.to_vector<float>());
  nb::manual_seed(5);
  nb::Tensor c = noisy(z);
  nb::manual_seed(5);
  EXPECT_EQ(c.to_vector<float>(), nb::randn({256}).to_vector<float>());  // same stream as eager
}

TEST(Jit, ReadingTracedValuesIsACleanError) {
  auto branchy = nb::jit([](const nb::Tensor& x) {
    if (x.sum().item<float>() > 0) return x * 2;  // data-dependent control flow
    return x;
  });
  try {
    branchy(nb::ones({3}));
    FAIL() << "expected a ValueError";
  } catch (const nb::ValueError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("symbolic"), std::string::npos) << what;
    EXPECT_NE(what.find("nb::jit"), std::string::npos) << what;
  }
  auto reads = nb::jit([](const nb::Tensor& x) { return x * float(x.to_vector<float>()[0]); });
  EXPECT_THROW(reads(nb::ones({3})), nb::ValueError);
  auto writes = nb::jit([](const nb::Tensor& x) {
    nb::Tensor y = x * 2;
    y.add_(x);
    return y;
  });
  EXPECT_THROW(writes(nb::ones({3})), nb::ValueError);
}

TEST(Jit, NestedJitInlinesIntoTheOuterTrace) {
  auto inner = nb::jit([](const nb::Tensor& x) { return nb::exp(x); });
  auto outer = nb::jit([&inner](const nb::Tensor& x) { return inner(x) + 1; });
  nb::Tensor x = nb::randn({5});
  expect_close(outer(x), nb::exp(x) + 1, 1e-6);
  EXPECT_EQ(inner.cache_size(), 0u);  // traced inside outer: no compile of its own
}

TEST(Jit, UndefinedArgumentsThrow) {
  auto f = nb::jit([](const nb::Tensor& x) { return x * 2; });
  EXPECT_THROW(f(nb::Tensor()), nb::ValueError);
}

// `b * 2` of a captured weight runs eagerly while tracing, so its value is frozen in the graph:
// changing b in place must trace again, and the result must follow b.
TEST(Jit, RetracesWhenAFrozenCapturedValueChanges) {
  nb::Tensor b = nb::randn({4});
  auto f = nb::jit([&b](const nb::Tensor& x) { return x + b * 2; });
  nb::Tensor x = nb::randn({4});
  expect_close(f(x), x + b * 2);
  expect_close(f(x), x + b * 2);
  EXPECT_EQ(f.traces(), 1u);
  b.add_(nb::ones({4}));  // in place: a new version
  expect_close(f(x), x + b * 2);
  EXPECT_EQ(f.traces(), 2u);
  EXPECT_EQ(f.cache_size(), 1u);
  expect_close(f(x), x + b * 2);
  EXPECT_EQ(f.traces(), 2u);
}

// A weight that only meets traced values stays a captured node, read at each call: no retrace.
TEST(Jit, CapturedWeightsOnTracedValuesNeedNoRetrace) {
  nb::Tensor w = nb::randn({4});
  auto f = nb::jit([&w](const nb::Tensor& x) { return x * w; });
  nb::Tensor x = nb::randn({4});
  f(x);
  w.mul_(nb::full({4}, 3.0f));
  expect_close(f(x), x * w);
  EXPECT_EQ(f.traces(), 1u);
}

// A view of a weight (Linear's `weight.t()`) is read afresh at each call: updating the weight
// needs no retrace, and the result follows it.
TEST(Jit, ViewsOfCapturedWeightsNeedNoRetrace) {
  nb::Tensor w = nb::randn({3, 4});
  auto f = nb::jit([&w](const nb::Tensor& x) { return nb::matmul(x, w.t()); });
  nb::Tensor x = nb::randn({2, 4});
  expect_close(f(x), nb::matmul(x, w.t()), 1e-5);
  w.mul_(nb::full({3, 4}, 2.0f));
  expect_close(f(x), nb::matmul(x, w.t()), 1e-5);
  EXPECT_EQ(f.traces(), 1u);
}
