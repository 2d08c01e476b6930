// nb::compile and nb::constant: running graphs, checking inputs, random ops, dynamic dims, and a
// whole training step compiled into one Function, each against eager mode.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <atomic>
#include <thread>

namespace nb = nabla;

namespace {
void expect_close(const nb::Tensor& a, const nb::Tensor& b, double tol = 1e-5) {
  ASSERT_EQ(a.shape(), b.shape());
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "at " << i;
}
}  // namespace

TEST(Compile, SeedExample) {
  auto A = nb::placeholder("A", {10});
  auto B = nb::placeholder("B", {10});
  auto D = B * A + nb::constant(1.0f);
  nb::Function f = nb::compile(D);
  nb::Tensor out = f({{"A", nb::ones({10})}, {"B", nb::ones({10}) * 2}});
  EXPECT_EQ(out.to_vector<float>(), std::vector<float>(10, 3.0f));
  EXPECT_EQ(out.dtype(), nb::float32);
  EXPECT_EQ(f.input_names(), (std::vector<std::string>{"A", "B"}));  // sorted by name
  nb::Tensor pos = f(std::vector<nb::Tensor>{nb::full({10}, 3.0), nb::ones({10})});
  EXPECT_EQ(pos.to_vector<float>(), std::vector<float>(10, 4.0f));
}

TEST(Compile, ConstantIsAFrozenWeakCopy) {
  nb::Tensor v = nb::ones({3});
  nb::Tensor c = nb::constant(v);
  v.fill_(5.0);
  EXPECT_EQ(c.to_vector<float>(), std::vector<float>(3, 1.0f));
  auto x = nb::placeholder("x", {3}, nb::float16);
  EXPECT_EQ((x + nb::constant(1.0f)).dtype(), nb::float16);  // weak, like a literal
  EXPECT_EQ(nb::constant(2).dtype(), nb::int32);
  EXPECT_THROW(nb::constant(x), nb::ValueError);
  EXPECT_THROW(nb::constant(nb::Tensor()), nb::ValueError);
}

TEST(Compile, MultipleOutputsAndExplicitInputOrder) {
  auto x = nb::placeholder("x", {2, 3});
  auto w = nb::placeholder("w", {3, 4});
  auto y = nb::matmul(x, w);
  auto s = nb::sum(nb::tanh(y), {1}, false);
  nb::Function f = nb::compile({y, s}, {.inputs = {x, w}});
  EXPECT_EQ(f.input_names(), (std::vector<std::string>{"x", "w"}));
  EXPECT_EQ(f.num_outputs(), 2u);
  nb::Tensor xv = nb::randn({2, 3}), wv = nb::randn({3, 4});
  auto out = f.run({xv, wv});
  ASSERT_EQ(out.size(), 2u);
  expect_close(out[0], nb::matmul(xv, wv));
  expect_close(out[1], nb::sum(nb::tanh(nb::matmul(xv, wv)), {1}, false));
  EXPECT_THROW(f({xv, wv}), nb::ValueError);  // two outputs: use run()
}

TEST(Compile, BadInputsThrowTypedErrors) {
  auto A = nb::placeholder("A", {10});
  auto B = nb::placeholder("B", {10});
  nb::Function f = nb::compile(A * B);
  nb::Tensor one = nb::ones({10});
  EXPECT_THROW(f({{"A", one}}), nb::ValueError);                            // missing B
  EXPECT_THROW(f({{"A", one}, {"B", one}, {"C", one}}), nb::ValueError);    // unknown C
  EXPECT_THROW(f({{"A", nb::ones({9})}, {"B", one}}), nb::ShapeError);      // wrong shape
  EXPECT_THROW(f({{"A", nb::ones({10, 1})}, {"B", one}}), nb::ShapeError);  // wrong rank
  EXPECT_THROW(f({{"A", nb::ones({10}, nb::float64)}, {"B", one}}), nb::DTypeError);
  EXPECT_THROW(f({{"A", nb::Tensor()}, {"B", one}}), nb::ValueError);
  EXPECT_THROW(f(std::vector<nb::Tensor>{one}), nb::ValueError);  // too few
  try {
    f({{"A", nb::ones({9})}, {"B", one}});
  } catch (const nb::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("'A' has shape (9,)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nb::Function()({{"A", one}}), nb::ValueError);
  EXPECT_THROW(nb::compile(std::vector<nb::Tensor>{}), nb::ValueError);
  auto A2 = nb::placeholder("A", {10});
  EXPECT_THROW(nb::compile(A * A2), nb::ValueError);                  // two placeholders named A
  EXPECT_THROW(nb::compile(A * B, {.inputs = {A}}), nb::ValueError);  // B not listed
}

TEST(Compile, ConcreteOutputsAndInputsAreCopied) {
  auto A = nb::placeholder("A", {3});
  nb::Tensor c = nb::ones({3});
  nb::Function f = nb::compile({A, c});
  nb::Tensor a = nb::full({3}, 2.0);
  auto out = f.run({a});
  EXPECT_FALSE(out[0].shares_storage(a));
  EXPECT_FALSE(out[1].shares_storage(c));
  EXPECT_EQ(out[0].to_vector<float>(), std::vector<float>(3, 2.0f));
}

TEST(Compile, CapturedTensorsAreReadAtEachCall) {
  nb::Tensor w = nb::ones({3});
  auto x = nb::placeholder("x", {3});
  nb::Function f = nb::compile(x * w);
  EXPECT_EQ(f({{"x", nb::ones({3})}}).to_vector<float>(), std::vector<float>(3, 1.0f));
  w.fill_(4.0);  // in place: the compiled function sees it
  EXPECT_EQ(f({{"x", nb::ones({3})}}).to_vector<float>(), std::vector<float>(3, 4.0f));
}

TEST(Compile, DynamicDimsTakeAnySizeAndReinferShapes) {
  auto x = nb::placeholder("x", {-1, 3});
  EXPECT_EQ(x.shape(), (nb::Shape{-1, 3}));
  auto y = nb::sum(nb::relu(x) * 2 + 1, {1}, false);
  EXPECT_EQ(y.shape(), nb::Shape{-1});
  nb::Function f = nb::compile(y);
  for (int64_t n : {1, 5, 7}) {
    nb::Tensor xv = nb::randn({n, 3});
    expect_close(f({{"x", xv}}), nb::sum(nb::relu(xv) * 2 + 1, {1}, false));
  }
  EXPECT_THROW(f({{"x", nb::randn({5, 4})}}), nb::ShapeError);
  EXPECT_THROW(nb::placeholder("x", {-2}), nb::ShapeError);
  // Attributes computed from the dynamic dim at build time: a typed error, never a bad size.
  EXPECT_THROW(nb::randn_like(x), nb::ShapeError);  // refused while building
  // A reshape target's -1 that takes the dynamic factor is sized at each call.
  nb::Function h = nb::compile(x.reshape({-1}) * 2);
  EXPECT_EQ(h({{"x", nb::randn({5, 3})}}).shape(), nb::Shape{15});
  EXPECT_THROW(x.reshape({6}), nb::ShapeError);  // a fixed size for a dynamic one
  nb::Function pairs = nb::compile(x.reshape({-1, 2}));
  EXPECT_EQ(pairs({{"x", nb::randn({4, 3})}}).shape(), (nb::Shape{6, 2}));
  EXPECT_THROW(pairs({{"x", nb::randn({5, 3})}}), nb::ShapeError);  // 15 is odd
}

TEST(Compile, StridedInputsAndViewsReplayCorrectly) {
  auto x = nb::placeholder("x", {4, 6});
  auto y = x.transpose(0, 1).reshape({24}) * 2;  // a reshape of a transposed view must copy
  nb::Function f = nb::compile(y);
  nb::Tensor big = nb::randn({6, 4});
  nb::Tensor xv = big.transpose(0, 1);  // non-contiguous input
  expect_close(f({{"x", xv}}), xv.transpose(0, 1).reshape({24}) * 2);
}

TEST(Compile, RandomOpsDrawFreshNumbersEachCallAndMatchEagerForASeed) {
  auto x = nb::placeholder("x", {1000});
  // Draws in separate statements: the order C++ evaluates operands in is unspecified.
  auto noisy = [](const nb::Tensor& v) {
    nb::Tensor normal = nb::randn({1000});
    nb::Tensor uniform = nb::rand({1000}, nb::float64);
    return v + normal * uniform.astype(nb::float32);
  };
  nb::Tensor y;
  {
    nb::RecordRandomGuard record;  // randn records a node although it has no symbolic input
    y = noisy(x);
  }
  nb::Function f = nb::compile(y);
  nb::Tensor zero = nb::zeros({1000});
  nb::manual_seed(42);
  nb::Tensor a = f({{"x", zero}});
  nb::Tensor b = f({{"x", zero}});
  EXPECT_NE(a.to_vector<float>(), b.to_vector<float>());
  nb::manual_seed(42);
  nb::Tensor eager = noisy(zero);
  EXPECT_EQ(a.to_vector<float>(), eager.to_vector<float>());
  // And the generator moved on exactly as in eager mode.
  nb::Tensor next_eager = nb::randn({4});
  nb::manual_seed(42);
  f({{"x", zero}});
  EXPECT_EQ(nb::randn({4}).to_vector<float>(), next_eager.to_vector<float>());
}

TEST(Compile, BernoulliOnASymbolicInput) {
  auto p = nb::placeholder("p", {-1});
  nb::Function f = nb::compile(nb::bernoulli(p));
  nb::Tensor half = nb::full({4000}, 0.5);
  nb::Tensor a = f({{"p", half}}), b = f({{"p", half}});
  EXPECT_NE(a.to_vector<float>(), b.to_vector<float>());
  double mean = a.mean().item<double>();
  EXPECT_NEAR(mean, 0.5, 0.05);
  EXPECT_EQ(f({{"p", nb::ones({7})}}).to_vector<float>(), std::vector<float>(7, 1.0f));
}

TEST(Compile, CompiledFunctionsAreDifferentiable) {
  auto x = nb::placeholder("x", {3});
  nb::Function f = nb::compile(nb::sum(x * x * 3));
  nb::Tensor xv = nb::randn({3}).requires_grad_();
  f({{"x", xv}}).backward();
  expect_close(xv.grad(), xv.detach() * 6);
}

TEST(Compile, SymbolicGradientsCompile) {
  auto A = nb::placeholder("A", {10});
  auto B = nb::placeholder("B", {10});
  std::vector<nb::Tensor> dW = nb::gradients(nb::sum(A * B), {A});
  nb::Tensor b = nb::randn({10});
  // d sum(A * B) / dA is B: A is not used, so it is an input only when listed.
  EXPECT_EQ(nb::compile(dW[0]).input_names(), std::vector<std::string>{"B"});
  nb::Function f = nb::compile(dW[0], {.inputs = {A, B}});
  expect_close(f({{"A", nb::randn({10})}, {"B", b}}), b);
}

// forward, loss, gradients and the SGD update of a two-layer network as one Function, run for a
// few steps next to the same steps in eager mode.
TEST(Compile, TrainingStepCompilesIntoOneFunction) {
  const int64_t n = 16, d = 5, h = 8;
  const float lr = 0.1f;
  auto X = nb::placeholder("X", {n, d});
  auto Y = nb::placeholder("Y", {n, 1});
  auto W1 = nb::placeholder("W1", {d, h});
  auto W2 = nb::placeholder("W2", {h, 1});
  auto model = [](const nb::Tensor& x, const nb::Tensor& w1, const nb::Tensor& w2) {
    return nb::matmul(nb::tanh(nb::matmul(x, w1)), w2);
  };
  auto mse = [](const nb::Tensor& p, const nb::Tensor& y) { return ((p - y) * (p - y)).mean(); };
  nb::Tensor loss = mse(model(X, W1, W2), Y);
  std::vector<nb::Tensor> g = nb::gradients(loss, {W1, W2});
  nb::Function step =
      nb::compile({loss, W1 - g[0] * lr, W2 - g[1] * lr}, {.inputs = {X, Y, W1, W2}});

  nb::manual_seed(3);
  nb::Tensor x = nb::randn({n, d}), y = nb::randn({n, 1});
  nb::Tensor w1 = nb::randn({d, h}) * 0.5, w2 = nb::randn({h, 1}) * 0.5;
  nb::Tensor e1 = w1.clone(), e2 = w2.clone();
  float first = 0, last = 0;
  for (int it = 0; it < 20; ++it) {
    auto out = step.run({x, y, w1, w2});
    w1 = out[1];
    w2 = out[2];
    // eager
    nb::Tensor a = e1.detach().requires_grad_(), b = e2.detach().requires_grad_();
    nb::Tensor l = mse(model(x, a, b), y);
    l.backward();
    EXPECT_NEAR(out[0].item<float>(), l.item<float>(), 1e-5);
    {
      nb::NoGradGuard off;
      e1 = a - a.grad() * lr;
      e2 = b - b.grad() * lr;
    }
    if (it == 0) first = out[0].item<float>();
    last = out[0].item<float>();
  }
  expect_close(w1, e1, 1e-5);
  expect_close(w2, e2, 1e-5);
  EXPECT_LT(last, first);
}

TEST(Compile, SymbolicInputsComposeGraphs) {
  auto x = nb::placeholder("x", {4});
  nb::Function square = nb::compile(x * x);
  auto y = nb::placeholder("y", {4});
  nb::Tensor composed = square({y + 1});  // a graph node, not a value
  EXPECT_FALSE(composed.is_concrete());
  nb::Function f = nb::compile(composed);
  nb::Tensor yv = nb::randn({4});
  expect_close(f({yv}), (yv + 1) * (yv + 1));
}

TEST(Compile, ConcurrentCallsShareOnePlan) {
  auto x = nb::placeholder("x", {1 << 16});
  nb::Function f = nb::compile(nb::tanh(x * 2 + 1) - x);
  nb::Tensor a = nb::randn({1 << 16}), b = nb::randn({1 << 16});
  nb::Tensor ea = nb::tanh(a * 2 + 1) - a, eb = nb::tanh(b * 2 + 1) - b;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const nb::Tensor& in = t % 2 ? a : b;
        const nb::Tensor& expected = t % 2 ? ea : eb;
        if (f({in}).to_vector<float>() != expected.to_vector<float>()) ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Losses with class-index targets compile: the label range check that reads values runs
// only on concrete targets, and the gather kernel's own bounds check guards compiled calls.
TEST(Compile, CrossEntropyWithPlaceholderTargets) {
  auto L = nb::placeholder("logits", {4, 3});
  auto Y = nb::placeholder("labels", {4}, nb::int64);
  nb::Function f = nb::compile(nb::nn::cross_entropy(L, Y, {.label_smoothing = 0.1}));
  auto logits = nb::randn({4, 3});
  auto labels = nb::tensor(std::vector<int64_t>{0, 2, 1, 2}, {4});
  expect_close(f({{"logits", logits}, {"labels", labels}}),
               nb::nn::cross_entropy(logits, labels, {.label_smoothing = 0.1}));
  auto bad = nb::tensor(std::vector<int64_t>{0, 3, 1, 2}, {4});
  EXPECT_THROW(f({{"logits", logits}, {"labels", bad}}), nb::IndexError);
  EXPECT_THROW(nb::nn::cross_entropy(logits, bad), nb::IndexError);
}

// mean over a dynamic (-1) axis divides by the run-time size, not the one seen while building.
TEST(Compile, MeanOverADynamicAxisUsesTheRunTimeCount) {
  auto x = nb::placeholder("x", {-1, 3});
  nb::Function f = nb::compile(
      {nb::mean(x, {0}, false), nb::mean(x, {0, 1}, true), x.mean(), nb::mean(x, {1}, false)});
  for (int64_t rows : {1, 5, 40}) {
    nb::Tensor v = nb::randn({rows, 3});
    auto out = f.run({v});
    expect_close(out[0], nb::mean(v, {0}, false));
    expect_close(out[1], nb::mean(v, {0, 1}, true));
    expect_close(out[2], v.mean());
    EXPECT_EQ(out[3].to_vector<float>(), nb::mean(v, {1}, false).to_vector<float>());
  }
}
