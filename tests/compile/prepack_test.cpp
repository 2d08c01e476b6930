// Pre-packed conv/matmul weights (src/compile/passes/prepack_weights.cpp, compile/prepacked.h):
// the graph before and after the pass, results equal to eager mode, a weight packed once and
// packed again after it changes in place, gradients through a pre-packed forward, the option.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <thread>

#include "compile/graph.h"
#include "compile/prepacked.h"
#include "ir/node.h"

namespace nb = nabla;
namespace cd = nabla::compile_detail;

namespace {

void expect_close(const nb::Tensor& got, const nb::Tensor& want, double tol = 1e-4) {
  ASSERT_EQ(got.shape(), want.shape());
  ASSERT_EQ(got.dtype(), want.dtype());
  std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << "element " << i;
}

// The compiled graph's pre-packed nodes.
std::vector<const cd::GraphNode*> prepacked_nodes(const nb::Function& f) {
  std::vector<const cd::GraphNode*> out;
  for (const cd::GraphNode& n : f.plan()->graph.nodes)
    if (n.prepacked) out.push_back(&n);
  return out;
}

std::size_t packs(const nb::Function& f) {
  std::size_t total = 0;
  for (const cd::GraphNode* n : prepacked_nodes(f)) total += n->prepacked->packs();
  return total;
}

nb::Tensor conv(const nb::Tensor& x, const nb::Tensor& w, const nb::Tensor& b,
                nb::Conv2dOptions o) {
  return nb::conv2d(x, w, b, o);
}

}  // namespace

TEST(PrepackWeights, MarksConvAndMatmulOnCapturedWeights) {
  nb::manual_seed(1);
  auto x = nb::placeholder("x", {2, 3, 8, 8});
  nb::Tensor w = nb::randn({4, 3, 3, 3}), b = nb::randn({4});
  nb::Tensor fc = nb::randn({5, 64});
  auto h = nb::relu(conv(x, w, b, {.stride = {2, 2}, .padding = {1, 1}}));
  auto y = nb::matmul(h.reshape({2, 64}), fc.t());
  auto other = nb::matmul(h.reshape({2, 64}), nb::ones({64, 64}) * x.sum());  // not a weight
  cd::Graph g = cd::build_graph({y, other});
  const std::string before = cd::describe(g);
  EXPECT_EQ(before.find("prepacked"), std::string::npos) << before;
  EXPECT_EQ(cd::prepack_weights(g), 2);
  const std::string after = cd::describe(g);
  std::cout << "before:\n" << before << "after:\n" << after;
  EXPECT_NE(after.find("conv2d(%0, %1, %2) prepacked (2, 4, 4, 4) float32"), std::string::npos)
      << after;
  int marked_matmuls = 0;
  for (const cd::GraphNode& n : g.nodes)
    if (n.prepacked && n.op->name == "matmul") {
      ++marked_matmuls;
      EXPECT_EQ(g.nodes[std::size_t(n.inputs[1])].kind, cd::NodeKind::captured);
    }
  EXPECT_EQ(marked_matmuls, 1);
  EXPECT_EQ(cd::prepack_weights(g), 0);  // already marked
}

TEST(PrepackWeights, CompileRunsThePassUnlessTurnedOff) {
  auto x = nb::placeholder("x", {1, 2, 6, 6});
  nb::Tensor w = nb::randn({3, 2, 3, 3});
  auto y = nb::conv2d(x, w, nb::Tensor(), {});
  nb::Function on = nb::compile(y), off = nb::compile(y, {.prepack_weights = false});
  EXPECT_EQ(prepacked_nodes(on).size(), 1u);
  EXPECT_TRUE(prepacked_nodes(off).empty());
  EXPECT_NE(on.to_dot().find("conv2d (prepacked)"), std::string::npos);
  EXPECT_EQ(off.to_dot().find("prepacked"), std::string::npos);
  nb::Tensor in = nb::randn({1, 2, 6, 6});
  nb::Tensor eager = nb::conv2d(in, w, nb::Tensor(), {});
  expect_close(on({in}), eager);
  expect_close(off({in}), eager);
}

TEST(PrepackWeights, ConvEqualsEagerAcrossShapesAndOptions) {
  nb::manual_seed(2);
  struct Case {
    int64_t n, c, o, k, hw, groups;
    nb::Conv2dOptions opt;
    bool bias;
  };
  const std::vector<Case> cases = {
      {1, 3, 8, 3, 10, 1, {}, true},
      {4, 3, 8, 3, 10, 1, {.stride = {2, 2}, .padding = {1, 1}}, true},
      {2, 16, 32, 5, 12, 1, {.padding = {2, 2}}, false},
      {3, 8, 8, 3, 9, 2, {.stride = {2, 1}, .padding = {0, 1, 1, 2}, .groups = 2}, true},
      {2, 4, 6, 3, 11, 1, {.padding = {2, 2}, .dilation = {2, 2}}, true},
      {5, 1, 32, 5, 28, 1, {.padding = {2, 2}}, true},  // the Fashion-MNIST CNN's first conv
  };
  for (const Case& c : cases) {
    nb::Tensor w = nb::randn({c.o, c.c / c.groups, c.k, c.k});
    nb::Tensor b = c.bias ? nb::randn({c.o}) : nb::Tensor();
    auto x = nb::placeholder("x", {c.n, c.c, c.hw, c.hw});
    nb::Function f = nb::compile(conv(x, w, b, c.opt));
    ASSERT_EQ(prepacked_nodes(f).size(), 1u);
    for (int call = 0; call < 3; ++call) {
      nb::Tensor in = nb::randn({c.n, c.c, c.hw, c.hw});
      // The same oneDNN primitive as eager mode's (forward inference, the weights' format left
      // to oneDNN) on the same values: equal bit for bit.
      expect_close(f({in}), conv(in, w, b, c.opt), 0);
    }
    EXPECT_EQ(packs(f), 1u) << "the weight is packed once, not per call";
  }
}

TEST(PrepackWeights, Conv1dAndConv3dShareThePath) {
  nb::manual_seed(3);
  nb::Tensor w1 = nb::randn({6, 4, 3}), b1 = nb::randn({6});
  auto x1 = nb::placeholder("x", {2, 4, 20});
  nb::Function f1 = nb::compile(nb::conv1d(x1, w1, b1, {.stride = 2, .padding = 1}));
  EXPECT_EQ(prepacked_nodes(f1).size(), 1u);  // conv2d on the unsqueezed (captured) weight
  nb::Tensor in1 = nb::randn({2, 4, 20});
  expect_close(f1({in1}), nb::conv1d(in1, w1, b1, {.stride = 2, .padding = 1}));

  nb::Tensor w3 = nb::randn({4, 2, 3, 3, 3}), b3 = nb::randn({4});
  auto x3 = nb::placeholder("x", {2, 2, 6, 6, 6});
  nb::Function f3 = nb::compile(nb::conv3d(x3, w3, b3, {.padding = {1, 1, 1}}));
  EXPECT_EQ(prepacked_nodes(f3).size(), 1u);
  nb::Tensor in3 = nb::randn({2, 2, 6, 6, 6});
  expect_close(f3({in3}), nb::conv3d(in3, w3, b3, {.padding = {1, 1, 1}}));
}

TEST(PrepackWeights, LinearEqualsEagerForBatchSizes) {
  nb::manual_seed(4);
  nb::nn::Linear lin(96, 40);
  auto x = nb::placeholder("x", {-1, 96});  // one Function for every batch size
  nb::Function f = nb::compile(lin.forward(x));
  ASSERT_EQ(prepacked_nodes(f).size(), 1u);
  nb::NoGradGuard no_grad;
  nb::Tensor one = nb::randn({1, 96});
  expect_close(f({one}), lin.forward(one));
  // One row runs sgemm's matrix-vector product on the plain weight: nothing to pack.
  EXPECT_EQ(packs(f), 0u);
  for (int64_t batch : {7, 64, 1, 7}) {
    nb::Tensor in = nb::randn({batch, 96});
    expect_close(f({in}), lin.forward(in));
  }
  EXPECT_GE(packs(f), 1u);
  // 3-d inputs fold their leading dims into the rows of one product.
  auto x3 = nb::placeholder("x", {3, 5, 96});
  nb::Function f3 = nb::compile(lin.forward(x3));
  nb::Tensor in3 = nb::randn({3, 5, 96});
  expect_close(f3({in3}), lin.forward(in3));
  // A strided x (a transposed view) has no pre-packed kernel: the node runs as usual.
  auto xt = nb::placeholder("x", {96, 4});
  nb::Function ft = nb::compile(lin.forward(xt.t()));
  nb::Tensor int_ = nb::randn({96, 4});
  expect_close(ft({int_}), lin.forward(int_.t()));
}

TEST(PrepackWeights, JitAndHybridizeUseIt) {
  nb::manual_seed(5);
  namespace nn = nb::nn;
  nn::Sequential net(nn::Conv2d(1, 8, 5, {.padding = 2}), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Flatten(), nn::Linear(8 * 14 * 14, 10));
  net.eval();
  nb::Tensor in = nb::randn({3, 1, 28, 28});
  nb::Tensor eager;
  {
    nb::NoGradGuard no_grad;
    eager = net.forward(in);
  }
  auto fn = nb::jit([&](const nb::Tensor& t) { return net.forward(t); });
  {
    nb::NoGradGuard no_grad;
    expect_close(fn(in), eager);
    expect_close(fn(in), eager);
    net.hybridize();
    expect_close(net(in), eager);
    expect_close(net(in), eager);
  }
}

TEST(PrepackWeights, WeightChangedInPlaceIsPackedAgain) {
  nb::manual_seed(6);
  nb::Tensor w = nb::randn({8, 3, 3, 3}), b = nb::randn({8});
  nb::Tensor fc = nb::randn({12, 20});
  auto x = nb::placeholder("x", {2, 3, 7, 7});
  auto v = nb::placeholder("v", {4, 20});
  nb::Function f =
      nb::compile({conv(x, w, b, {.padding = {1, 1}}), nb::matmul(v, fc.t())}, {.inputs = {x, v}});
  ASSERT_EQ(prepacked_nodes(f).size(), 2u);
  nb::Tensor in = nb::randn({2, 3, 7, 7}), vin = nb::randn({4, 20});
  f.run({in, vin});
  f.run({in, vin});
  EXPECT_EQ(packs(f), 2u);
  w.mul_(nb::scalar(2.0, nb::float32));  // in-place ops bump the version
  fc.sub_(nb::ones({12, 20}));
  auto out = f.run({in, vin});
  expect_close(out[0], conv(in, w, b, {.padding = {1, 1}}));
  expect_close(out[1], nb::matmul(vin, fc.t()));
  EXPECT_EQ(packs(f), 4u);
  f.run({in, vin});
  EXPECT_EQ(packs(f), 4u);
  // The bias is read afresh at each call (never packed).
  b.fill_(0.5);
  expect_close(f.run({in, vin})[0], conv(in, w, b, {.padding = {1, 1}}));
}

TEST(PrepackWeights, JitAfterAnOptimizerStepUsesTheNewWeights) {
  nb::manual_seed(7);
  nb::nn::Linear lin(30, 6);
  nb::optim::SGD opt(lin.parameters(), {.lr = 0.5});
  auto fn = nb::jit([&](const nb::Tensor& t) { return lin.forward(t); });
  nb::Tensor in = nb::randn({4, 30});
  for (int step = 0; step < 3; ++step) {
    nb::Tensor eager;
    {
      nb::NoGradGuard no_grad;
      eager = lin.forward(in);
      expect_close(fn(in), eager);
    }
    opt.zero_grad();
    nb::Tensor loss = (lin.forward(in) * lin.forward(in)).mean();
    loss.backward();
    opt.step();  // writes the weight in place (bumps its version)
  }
  EXPECT_EQ(fn.traces(), 1u) << "the plan is kept; only the packed weight is remade";
}

TEST(PrepackWeights, FreedStorageIsNeverMistakenForANewWeight) {
  // The cache holds the weight's storage weakly: a block freed and handed out again by the
  // allocator (same address, version 0 again) must not match.
  cd::PrepackedWeights cache;
  auto x = nb::randn({2, 16});
  auto packed_for = [&](const nb::Tensor& w) {
    std::vector<const nb::Node*> in{x.node(), w.node()};
    auto k = nb::cpu::packed_kernel("matmul", in, {});
    EXPECT_TRUE(k);
    return cache.get(*w.node(), *k);
  };
  const void* address = nullptr;
  {
    nb::Tensor w = nb::ones({16, 8});
    address = w.raw_data();
    packed_for(w);
    packed_for(w);
    EXPECT_EQ(cache.packs(), 1u);
  }
  nb::Tensor w2 = nb::zeros({16, 8});
  packed_for(w2);
  EXPECT_EQ(cache.packs(), 2u) << (w2.raw_data() == address ? "same address reused" : "");
}

TEST(PrepackWeights, GradientsFlowThroughAPrepackedForward) {
  nb::manual_seed(8);
  nb::Tensor w = nb::randn({4, 2, 3, 3}).requires_grad_(), b = nb::randn({4}).requires_grad_();
  nb::Tensor fc = nb::randn({3, 4 * 5 * 5}).requires_grad_();
  auto x = nb::placeholder("x", {2, 2, 5, 5});
  auto y = nb::matmul(conv(x, w, b, {.padding = {1, 1}}).reshape({2, 100}), fc.t());
  nb::Function f = nb::compile(y);
  ASSERT_EQ(prepacked_nodes(f).size(), 2u);
  nb::Tensor in = nb::randn({2, 2, 5, 5}).requires_grad_();

  auto grads = [&](const nb::Tensor& out) {
    for (nb::Tensor* t : {&w, &b, &fc, &in}) t->zero_grad();
    (out * out).sum().backward();
    return std::vector<nb::Tensor>{w.grad(), b.grad(), fc.grad(), in.grad()};
  };
  nb::Tensor compiled = f({in});
  EXPECT_TRUE(compiled.requires_grad());
  std::vector<nb::Tensor> got = grads(compiled);
  EXPECT_EQ(packs(f), 2u) << "the forward ran pre-packed";
  nb::Tensor eager = nb::matmul(conv(in, w, b, {.padding = {1, 1}}).reshape({2, 100}), fc.t());
  expect_close(compiled, eager);
  std::vector<nb::Tensor> want = grads(eager);
  for (std::size_t i = 0; i < want.size(); ++i) expect_close(got[i], want[i]);
}

TEST(PrepackWeights, ConstantWeights) {
  nb::manual_seed(9);
  nb::Tensor w = nb::randn({5, 3, 3, 3});
  nb::Tensor m = nb::randn({10, 6});
  auto x = nb::placeholder("x", {2, 3, 6, 6});
  auto v = nb::placeholder("v", {3, 10});
  nb::Function f = nb::compile(
      {nb::conv2d(x, nb::constant(w), nb::Tensor(), {}), nb::matmul(v, nb::constant(m))},
      {.inputs = {x, v}});
  ASSERT_EQ(prepacked_nodes(f).size(), 2u);
  for (const cd::GraphNode* n : prepacked_nodes(f))
    EXPECT_EQ(f.plan()->graph.nodes[std::size_t(n->inputs[1])].kind, cd::NodeKind::constant);
  nb::Tensor in = nb::randn({2, 3, 6, 6}), vin = nb::randn({3, 10});
  for (int call = 0; call < 2; ++call) {
    auto out = f.run({in, vin});
    expect_close(out[0], nb::conv2d(in, w, nb::Tensor(), {}));
    expect_close(out[1], nb::matmul(vin, m));
  }
  EXPECT_EQ(packs(f), 2u);
}

TEST(PrepackWeights, OtherDtypesRunAsUsual) {
  nb::Tensor w = nb::randn({3, 2, 3, 3}, nb::float64);
  auto x = nb::placeholder("x", {1, 2, 5, 5}, nb::float64);
  nb::Function f = nb::compile(nb::conv2d(x, w, nb::Tensor(), {}));
  EXPECT_TRUE(prepacked_nodes(f).empty());  // float32 only
  nb::Tensor in = nb::randn({1, 2, 5, 5}, nb::float64);
  expect_close(f({in}), nb::conv2d(in, w, nb::Tensor(), {}), 1e-12);
}

TEST(PrepackWeights, LoadedFunctionsPrepackToo) {
  nb::Tensor w = nb::randn({4, 3, 3, 3});
  auto x = nb::placeholder("x", {1, 3, 5, 5});
  nb::Function f = nb::compile(nb::conv2d(x, w, nb::Tensor(), {}));
  const std::string path = ::testing::TempDir() + "prepack_fn.nbf";
  nb::save_function(path, f);
  nb::Function g = nb::load_function(path);
  EXPECT_EQ(prepacked_nodes(g).size(), 1u);
  nb::Tensor in = nb::randn({1, 3, 5, 5});
  expect_close(g({in}), nb::conv2d(in, w, nb::Tensor(), {}));
}

TEST(PrepackWeights, ConcurrentCallsShareOnePackedWeight) {
  nb::manual_seed(10);
  nb::Tensor w = nb::randn({16, 8, 3, 3}), fc = nb::randn({10, 16 * 6 * 6});
  auto x = nb::placeholder("x", {4, 8, 6, 6});
  nb::Tensor h = nb::conv2d(x, w, nb::Tensor(), {.padding = {1, 1}});
  nb::Function f = nb::compile(nb::matmul(h.reshape({4, 16 * 6 * 6}), fc.t()));
  ASSERT_EQ(prepacked_nodes(f).size(), 2u);
  std::vector<nb::Tensor> in, out(8);
  for (int t = 0; t < 8; ++t) in.push_back(nb::randn({4, 8, 6, 6}));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] { out[std::size_t(t)] = f({in[std::size_t(t)]}); });
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 8; ++t) {
    nb::Tensor eager = nb::matmul(
        nb::conv2d(in[std::size_t(t)], w, nb::Tensor(), {.padding = {1, 1}}).reshape({4, 576}),
        fc.t());
    expect_close(out[std::size_t(t)], eager);
  }
  EXPECT_EQ(packs(f), 2u);
}

TEST(PrepackWeights, TrainingThroughAJittedForwardMatchesEagerTraining) {
  // The jitted forward's weights change at every step (SGD writes them in place); each call
  // packs the new weights, and backward runs through the recorded (plain-weight) nodes.
  nb::manual_seed(11);
  std::vector<nb::Tensor> pj = {nb::randn({4, 2, 3, 3}), nb::randn({4}), nb::randn({100, 3})};
  std::vector<nb::Tensor> pe;
  for (nb::Tensor& p : pj) {
    pe.push_back(p.clone().requires_grad_());
    p.requires_grad_();
  }
  auto net = [](const nb::Tensor& t, const std::vector<nb::Tensor>& p) {
    nb::Tensor h = nb::relu(nb::conv2d(t, p[0], p[1], {.padding = {1, 1}}));
    return nb::matmul(h.reshape({t.size(0), 100}), p[2]);
  };
  nb::optim::SGD opt_j(pj, {.lr = 0.1}), opt_e(pe, {.lr = 0.1});
  auto fn = nb::jit([&](const nb::Tensor& t) { return net(t, pj); });
  for (int step = 0; step < 3; ++step) {
    nb::Tensor in = nb::randn({6, 2, 5, 5});
    nb::Tensor out_j = fn(in), out_e = net(in, pe);
    expect_close(out_j, out_e);
    opt_j.zero_grad();
    opt_e.zero_grad();
    (out_j * out_j).mean().backward();
    (out_e * out_e).mean().backward();
    opt_j.step();
    opt_e.step();
  }
  for (std::size_t i = 0; i < pj.size(); ++i) expect_close(pj[i], pe[i]);
  EXPECT_EQ(fn.traces(), 1u);
}
