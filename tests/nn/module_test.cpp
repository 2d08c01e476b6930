#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nabla/nabla.h>
#include <nabla/nn/module.h>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {
// y = x * w + b, elementwise: enough to exercise the Module machinery.
class Scale : public nn::Module {
 public:
  explicit Scale(int64_t n) {
    w_ = register_parameter("weight", nb::ones({n}));
    b_ = register_parameter("bias", nb::zeros({n}));
    register_buffer("calls", nb::zeros({1}, nb::int64));
  }
  nb::Tensor forward(const nb::Tensor& x) override { return x * w_ + b_; }
  std::string describe() const override { return "Scale"; }

 private:
  nb::Tensor w_, b_;
};

// Compiled float32 matmuls by a weight run oneDNN's matmul primitive on a pre-packed weight
// (docs/symbolic.md), which sums in another order than eager sgemm: equal up to the last bits.
void expect_near_values(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * (1 + std::abs(want[i])));
}
}  // namespace

TEST(Module, NamesParametersBuffersAndChildren) {
  nn::Sequential net(Scale(3), Scale(3));
  auto names = net.named_parameters();
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0].first, "0.weight");
  EXPECT_EQ(names[3].first, "1.bias");
  EXPECT_EQ(net.num_parameters(), 12);
  EXPECT_EQ(net.state_dict().count("1.calls"), 1u);
  for (auto& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  net.eval();
  EXPECT_FALSE(net[1].is_training());
  net.train();
  EXPECT_TRUE(net[0].is_training());
}

TEST(Module, ForwardBackwardThroughSequential) {
  nn::Sequential net(Scale(2), Scale(2));
  auto y = net.forward(nb::tensor(std::vector<float>{1, 2})).sum();
  y.backward();
  EXPECT_EQ(net.parameters()[0].grad().to_vector<float>(), (std::vector<float>{1, 2}));
  net.zero_grad();
  EXPECT_FALSE(net.parameters()[0].grad().defined());
}

TEST(Module, StateDictRoundTripAndStrictErrors) {
  nn::Sequential a(Scale(2)), b(Scale(2));
  {
    nb::NoGradGuard off;
    a.parameters()[0].fill_(5);
  }
  auto path = (std::filesystem::temp_directory_path() / "nabla_module_test.safetensors").string();
  nb::save_safetensors(path, a.state_dict());
  b.load_state_dict(nb::load_safetensors(path));
  EXPECT_EQ(b.parameters()[0].to_vector<float>(), (std::vector<float>{5, 5}));

  auto sd = a.state_dict();
  sd.erase("0.bias");
  sd["0.extra"] = nb::ones({1});
  try {
    b.load_state_dict(sd);
    FAIL();
  } catch (const nb::ValueError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("missing keys: 0.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected keys: 0.extra"), std::string::npos) << m;
  }
  auto wrong = a.state_dict();
  wrong["0.weight"] = nb::ones({3});
  EXPECT_THROW(b.load_state_dict(wrong), nb::ShapeError);
  b.load_state_dict(sd, /*strict=*/false);  // loads what matches
}

TEST(Module, ToDtypeKeepsHandles) {
  Scale s(2);
  auto w = s.parameters()[0];
  s.to(nb::float64);
  EXPECT_EQ(w.dtype(), nb::float64);
  EXPECT_EQ(s.forward(nb::ones({2}, nb::float64)).dtype(), nb::float64);
  EXPECT_THROW(s.to(nb::int32), nb::DTypeError);
}

TEST(Module, SummaryListsLayers) {
  nn::Sequential net(Scale(4), Scale(4));
  std::string s = net.summary({2, 4});
  EXPECT_NE(s.find("0: Scale"), std::string::npos) << s;
  EXPECT_NE(s.find("(2, 4)"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 16"), std::string::npos) << s;
}

namespace {
std::vector<double> values(const nb::Tensor& t) { return t.to_vector<double>(); }
nb::Tensor scalar_like(double v, const nb::Tensor& t) { return nb::tensor(std::vector<double>{v}, {}).astype(t.dtype()); }
}  // namespace

TEST(Module, HybridizedForwardEqualsEagerAndFollowsInPlaceUpdates) {
  nb::manual_seed(7);
  nn::Sequential net(nn::Linear(6, 8), nn::BatchNorm1d(8), nn::ReLU(), nn::Dropout(0.5), nn::Linear(8, 3));
  nn::Sequential eager = net;  // shares the parameters, not hybridized
  net.hybridize();
  ASSERT_TRUE(net.is_hybridized());
  nb::Tensor x = nb::randn({5, 6});

  // Training mode stays eager: BatchNorm updates its running statistics at every call.
  nb::Tensor rm = net.named_buffers().at(0).second;
  std::vector<double> before = values(rm);
  net(x);
  EXPECT_EQ(net.hybrid_signatures(), 0u);
  EXPECT_NE(values(rm), before);

  net.eval();
  // Parameters require gradients and grad mode is on: compiled, and backward reaches them.
  nb::Tensor with_grad = net(x);
  EXPECT_EQ(net.hybrid_signatures(), 1u);
  with_grad.sum().backward();
  for (const nb::Tensor& p : net.parameters()) EXPECT_TRUE(p.grad().defined());
  for (nb::Tensor& p : net.parameters()) p.set_grad(nb::Tensor());

  nb::NoGradGuard no_grad;
  nb::Tensor want = eager(x), got = net(x);
  EXPECT_EQ(net.hybrid_signatures(), 2u);  // grad mode is part of the signature
  expect_near_values(values(got), values(want));
  expect_near_values(values(with_grad), values(want));
  expect_near_values(values(net(x)), values(want));  // the cached Function
  EXPECT_EQ(net.hybrid_signatures(), 2u);
  nb::Tensor x2 = nb::randn({2, 6});
  expect_near_values(values(net(x2)), values(eager(x2)));
  EXPECT_EQ(net.hybrid_signatures(), 3u);

  // In-place updates of parameters and buffers are seen (BatchNorm's eval scale and shift,
  // computed from them alone, would otherwise stay frozen in the trace).
  for (nb::Tensor& p : net.parameters()) p.mul_(scalar_like(1.5, p));
  rm.add_(scalar_like(0.25, rm));
  EXPECT_NE(values(eager(x)), values(want));
  expect_near_values(values(net(x)), values(eager(x)));
  EXPECT_EQ(net.hybrid_signatures(), 1u);  // retraced for this shape only
  net.load_state_dict(nb::nn::Sequential(nn::Linear(6, 8), nn::BatchNorm1d(8), nn::ReLU(), nn::Dropout(0.5),
                                          nn::Linear(8, 3)).state_dict());
  expect_near_values(values(net(x)), values(eager(x)));

  // A dtype change drops the compiled Functions.
  net.to(nb::float64);
  nb::Tensor xd = x.astype(nb::float64);
  nb::Tensor gd = net(xd);
  EXPECT_EQ(gd.dtype(), nb::float64);
  EXPECT_EQ(values(gd), values(eager(xd)));
  EXPECT_EQ(net.hybrid_signatures(), 1u);
  net.hybridize(false);
  EXPECT_EQ(net.hybrid_signatures(), 0u);
}
