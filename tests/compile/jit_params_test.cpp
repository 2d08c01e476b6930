// Training through nb::jit and Module::hybridize when the traced code computes from parameters
// eagerly (Linear's weight.t(), a reshaped or masked weight): the graph replays those ops at
// each call, so every backward gets a fresh autograd graph, gradients reach the parameters and
// an optimizer step needs no retrace. Results and trained parameters equal eager training's.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

void expect_close(const nb::Tensor& a, const nb::Tensor& b, double tol = 1e-5) {
  ASSERT_EQ(a.shape(), b.shape());
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "at " << i;
}

nn::Sequential make_mlp(uint64_t seed) {
  nb::manual_seed(seed);
  return nn::Sequential(nn::Linear(6, 16), nn::ReLU(), nn::Linear(16, 16), nn::Tanh(),
                        nn::Linear(16, 3));
}

nn::Sequential make_cnn(uint64_t seed) {
  nb::manual_seed(seed);
  return nn::Sequential(nn::Conv2d(1, 4, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(4 * 4 * 4, 3));
}

enum class Opt { sgd, adam };

std::unique_ptr<nb::optim::Optimizer> make_opt(Opt kind, const std::vector<nb::Tensor>& params) {
  if (kind == Opt::sgd)
    return std::make_unique<nb::optim::SGD>(params,
                                            nb::optim::SGDOptions{.lr = 0.05, .momentum = 0.9});
  return std::make_unique<nb::optim::Adam>(params, nb::optim::AdamOptions{.lr = 1e-2});
}

// Trains `compiled` through `forward` and a copy of it eagerly on the same batches; the
// parameters must stay equal (float rounding aside).
template <class Forward>
void train_side_by_side(nn::Module& compiled, nn::Module& eager, const Forward& forward,
                        const nb::Shape& input, Opt kind, int steps = 4) {
  auto opt_c = make_opt(kind, compiled.parameters());
  auto opt_e = make_opt(kind, eager.parameters());
  nb::manual_seed(99);
  for (int step = 0; step < steps; ++step) {
    nb::Tensor x = nb::randn(input);
    nb::Tensor labels = nb::randint(0, 3, {input[0]}, nb::int64);
    nb::Tensor out_c = forward(x), out_e = eager.forward(x);
    expect_close(out_c, out_e);
    nb::Tensor loss_c = nn::cross_entropy(out_c, labels), loss_e = nn::cross_entropy(out_e, labels);
    opt_c->zero_grad();
    opt_e->zero_grad();
    loss_c.backward();
    loss_e.backward();
    opt_c->step();
    opt_e->step();
  }
  auto pc = compiled.parameters(), pe = eager.parameters();
  ASSERT_EQ(pc.size(), pe.size());
  for (std::size_t i = 0; i < pc.size(); ++i) {
    ASSERT_TRUE(pc[i].grad().defined()) << "parameter " << i;
    expect_close(pc[i].grad(), pe[i].grad());
    expect_close(pc[i], pe[i]);
  }
}

}  // namespace

TEST(JitParams, LinearMlpTrainsThroughJitLikeEager) {
  for (Opt kind : {Opt::sgd, Opt::adam}) {
    for (bool prepack : {true, false}) {
      nn::Sequential net = make_mlp(1), ref = make_mlp(1);
      auto f = nb::jit([&net](const nb::Tensor& x) { return net.forward(x); },
                       {.prepack_weights = prepack});
      train_side_by_side(net, ref, f, {5, 6}, kind);
      EXPECT_EQ(f.traces(), 1u) << "an optimizer step must not retrace";
    }
  }
}

TEST(JitParams, CnnWithLinearHeadTrainsThroughJitLikeEager) {
  for (Opt kind : {Opt::sgd, Opt::adam}) {
    nn::Sequential net = make_cnn(2), ref = make_cnn(2);
    auto f = nb::jit([&net](const nb::Tensor& x) { return net.forward(x); });
    train_side_by_side(net, ref, f, {4, 1, 8, 8}, kind);
    EXPECT_EQ(f.traces(), 1u);
  }
}

TEST(JitParams, HybridizedModulesTrainLikeEager) {
  for (Opt kind : {Opt::sgd, Opt::adam}) {
    nn::Sequential mlp = make_mlp(4), mlp_ref = make_mlp(4);
    mlp.hybridize();
    train_side_by_side(
        mlp, mlp_ref, [&mlp](const nb::Tensor& x) { return mlp(x); }, {5, 6}, kind);
    EXPECT_EQ(mlp.hybrid_signatures(), 1u);
    EXPECT_EQ(mlp.hybrid_traces(), 1u) << "an optimizer step must not retrace";

    nn::Sequential cnn = make_cnn(5), cnn_ref = make_cnn(5);
    cnn.hybridize();
    train_side_by_side(
        cnn, cnn_ref, [&cnn](const nb::Tensor& x) { return cnn(x); }, {4, 1, 8, 8}, kind);
    EXPECT_EQ(cnn.hybrid_traces(), 1u);
  }
}

// Dropout in training mode draws fresh masks at each compiled call; its gradient matches an
// eager forward with the same draws.
TEST(JitParams, HybridizedDropoutTrainsWithFreshMasks) {
  auto make = [] {
    nb::manual_seed(6);
    return nn::Sequential(nn::Linear(6, 32), nn::ReLU(), nn::Dropout(0.5), nn::Linear(32, 3));
  };
  nn::Sequential net = make(), ref = make();
  net.hybridize();
  nb::Tensor x = nb::randn({4, 6});
  net(x);  // traced: the compiled calls then draw what eager calls draw
  nb::manual_seed(50);
  nb::Tensor a = net(x);
  nb::manual_seed(50);
  nb::Tensor a_ref = ref(x);
  expect_close(a, a_ref);
  nb::Tensor b = net(x);
  EXPECT_NE(a.to_vector<float>(), b.to_vector<float>());
  a.sum().backward();
  a_ref.sum().backward();
  auto p = net.parameters(), q = ref.parameters();
  for (std::size_t i = 0; i < p.size(); ++i) expect_close(p[i].grad(), q[i].grad());
  EXPECT_EQ(net.hybrid_traces(), 1u);
}

// A weight's view, reshape and mask computed inside the traced function: each call recomputes
// them from the current weight, and their gradients reach it.
TEST(JitParams, ViewsReshapesAndMasksOfAParameter) {
  nb::manual_seed(3);
  nb::Tensor w = nb::randn({4, 6}).requires_grad_();
  nb::Tensor w_ref = w.detach().clone().requires_grad_();
  nb::Tensor mask = nb::bernoulli(nb::full({4, 6}, 0.5f));  // a buffer: no gradient
  auto body = [&mask](const nb::Tensor& x, const nb::Tensor& p) {
    nb::Tensor a = nb::matmul(x, (p * mask).t());  // (3, 4)
    nb::Tensor b = nb::matmul(x, p.reshape({6, 4}));
    nb::Tensor c = nb::sum(nb::matmul(x, p.slice(0, 1, 3).t() * 2.0f), {1}, true);
    return nb::tanh(a + b) * c;
  };
  auto f = nb::jit([&](const nb::Tensor& x) { return body(x, w); });
  nb::optim::SGD opt(std::vector<nb::Tensor>{w}, {.lr = 0.1});
  nb::optim::SGD opt_ref(std::vector<nb::Tensor>{w_ref}, {.lr = 0.1});
  for (int step = 0; step < 4; ++step) {
    nb::Tensor x = nb::randn({3, 6});
    nb::Tensor y = f(x), y_ref = body(x, w_ref);
    expect_close(y, y_ref);
    opt.zero_grad();
    opt_ref.zero_grad();
    (y * y).sum().backward();
    (y_ref * y_ref).sum().backward();
    expect_close(w.grad(), w_ref.grad());
    opt.step();
    opt_ref.step();
  }
  expect_close(w, w_ref);
  EXPECT_EQ(f.traces(), 1u);
  // The mask is captured by reference: changing it in place is seen without a retrace.
  mask.fill_(1.0f);
  nb::Tensor x = nb::randn({3, 6});
  expect_close(f(x), body(x, w_ref));
  EXPECT_EQ(f.traces(), 1u);
}

// Two backwards through one call's result (retain_graph) and through two calls' results.
TEST(JitParams, EveryCallHasItsOwnAutogradGraph) {
  nb::Tensor w = nb::randn({3, 5}).requires_grad_();
  auto f = nb::jit([&w](const nb::Tensor& x) { return nb::matmul(x, w.t()).sum(); });
  nb::Tensor x = nb::randn({2, 5});
  nb::Tensor a = f(x), b = f(x);
  a.backward();
  b.backward();  // threw "the graph through 'permute' was already freed" before
  nb::Tensor expected = nb::matmul(nb::ones({3, 2}), x) * 2.0f;
  expect_close(w.grad(), expected);
}

// An optimizer step (in place, under no-grad) between calls: the next call reads the new values.
TEST(JitParams, AnInPlaceUpdateBetweenCallsIsSeen) {
  nb::Tensor w = nb::randn({3, 5}).requires_grad_();
  auto f = nb::jit([&w](const nb::Tensor& x) { return nb::matmul(x, (w * 3.0f).t()); });
  nb::Tensor x = nb::randn({2, 5});
  f(x).sum().backward();
  {
    nb::NoGradGuard off;
    w.sub_(w.grad() * 0.5f);
  }
  nb::Tensor expected;
  {
    nb::NoGradGuard off;
    expected = nb::matmul(x, (w * 3.0f).t());
  }
  nb::Tensor y = f(x);
  expect_close(y, expected);
  y.sum().backward();  // the saved weight version is this call's: no "modified in place" error
  EXPECT_EQ(f.traces(), 1u);
}

// A view of a parameter made before tracing is replayed too.
TEST(JitParams, ANonLeafMadeBeforeTheTraceIsReplayed) {
  nb::Tensor w = nb::randn({3, 5}).requires_grad_();
  nb::Tensor wt = w.t();
  auto f = nb::jit([&wt](const nb::Tensor& x) { return nb::matmul(x, wt).sum(); });
  nb::Tensor x = nb::randn({2, 5});
  f(x).backward();
  f(x).backward();
  expect_close(w.grad(), nb::matmul(nb::ones({3, 2}), x) * 2.0f);
  // After an in-place update of w the view still shows w: a new signature traces and replays it.
  {
    nb::NoGradGuard off;
    w.mul_(nb::full({3, 5}, 2.0f));
  }
  nb::Tensor x3 = nb::randn({4, 5});
  w.set_grad(nb::Tensor());
  f(x3).backward();
  expect_close(w.grad(), nb::matmul(nb::ones({3, 4}), x3));
  EXPECT_EQ(f.traces(), 2u);
}

// A value the trace reads (here to branch on) computed from a parameter still retraces when
// the parameter changes, even though the graph also replays it.
TEST(JitParams, ReadingAReplayedValueStillRetraces) {
  nb::Tensor w = nb::full({4}, 1.0f).requires_grad_();
  auto f = nb::jit([&w](const nb::Tensor& x) {
    nb::Tensor scaled = w * 2.0f;
    nb::Tensor y = x * scaled;
    return scaled.sum().item<float>() > 0 ? y : -y;
  });
  nb::Tensor x = nb::randn({4});
  expect_close(f(x), x * 2.0f);
  {
    nb::NoGradGuard off;
    w.fill_(-1.0f);
  }
  expect_close(f(x), x * 2.0f);  // -(x * -2)
  EXPECT_EQ(f.traces(), 2u);
}

TEST(JitParams, TensorsThatCannotBeReplayedAreTypedErrors) {
  nb::Tensor w = nb::randn({3}).requires_grad_();
  nb::Tensor x = nb::randn({3});

  nb::Tensor freed = w * 2.0f;
  freed.sum().backward();
  auto f1 = nb::jit([&freed](const nb::Tensor& t) { return t * freed; });
  try {
    f1(x);
    FAIL() << "expected AutogradError";
  } catch (const nb::AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("'mul'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("freed"), std::string::npos) << e.what();
  }

  nb::Tensor stale = w * 2.0f;
  {
    nb::NoGradGuard off;
    w.add_(nb::ones({3}));
  }
  auto f2 = nb::jit([&stale](const nb::Tensor& t) { return t * stale; });
  EXPECT_THROW(f2(x), nb::AutogradError);

  nb::Tensor written = w * 2.0f;
  {
    nb::NoGradGuard off;
    written.add_(nb::ones({3}));  // not recorded by autograd: a replay of the mul would miss it
  }
  auto f5 = nb::jit([&written](const nb::Tensor& t) { return t * written; });
  try {
    f5(x);
    FAIL() << "expected AutogradError";
  } catch (const nb::AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("modified in place"), std::string::npos) << e.what();
  }

  nb::CustomFunction square;
  square.name = "square";
  square.forward = [](const std::vector<nb::Tensor>& in) { return in[0] * in[0]; };
  square.backward = [](const std::vector<nb::Tensor>& in, const nb::Tensor&, const nb::Tensor& g) {
    return std::vector<nb::Tensor>{g * in[0] * 2.0f};
  };
  auto f3 = nb::jit([&](const nb::Tensor& t) { return t * square({w}); });
  try {
    f3(x);
    FAIL() << "expected AutogradError";
  } catch (const nb::AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("custom"), std::string::npos) << e.what();
  }
  // Detached, the value is a plain captured tensor.
  nb::Tensor kept = (w * 2.0f).detach();
  auto f4 = nb::jit([&kept](const nb::Tensor& t) { return t * kept; });
  expect_close(f4(x), x * kept);
}

// A trace made without grad mode freezes weight.t() as a plain view: a call with grad mode on
// must trace again so that gradients reach the weight.
TEST(JitParams, GradModeIsPartOfTheSignature) {
  nb::Tensor w = nb::randn({3, 5}).requires_grad_();
  auto f = nb::jit([&w](const nb::Tensor& x) { return nb::matmul(x, w.t()).sum(); });
  nb::Tensor x = nb::randn({2, 5});
  {
    nb::NoGradGuard off;
    EXPECT_FALSE(f(x).requires_grad());
  }
  nb::Tensor y = f(x);
  ASSERT_TRUE(y.requires_grad());
  y.backward();
  expect_close(w.grad(), nb::matmul(nb::ones({3, 2}), x));
  EXPECT_EQ(f.cache_size(), 2u);
}
