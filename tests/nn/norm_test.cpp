// Normalisation layers: shapes, train vs eval, running stats, state_dict names and round
// trip, gradients, and a live comparison with torch.nn (tests/torch/norm_reference.py).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

namespace nb = nabla;
namespace nn = nabla::nn;
using nlohmann::json;

namespace {

nb::Tensor rnd(const nb::Shape& s, double seed = 0, nb::DType t = nb::float32) {
  std::vector<double> v(std::size_t(nb::numel_of(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(double(i) * 1.37 + seed) * 1.5 + seed;
  return nb::tensor(v, s).astype(t);
}

double max_diff(const nb::Tensor& a, const nb::Tensor& b) {
  return nb::max(nb::abs(a.astype(nb::float64) - b.astype(nb::float64))).item<double>();
}

std::vector<std::string> keys(const nb::TensorMap& m) {
  std::vector<std::string> k;
  for (auto& [n, t] : m) k.push_back(n);
  return k;
}

TEST(NormLayers, OutputShapesAndDefaults) {
  nn::BatchNorm1d b1(3);
  nn::BatchNorm2d b2(4);
  nn::LayerNorm ln({5});
  nn::GroupNorm gn(2, 4);
  EXPECT_EQ(b1.forward(rnd({6, 3})).shape(), (nb::Shape{6, 3}));
  EXPECT_EQ(b1.forward(rnd({6, 3, 7})).shape(), (nb::Shape{6, 3, 7}));
  EXPECT_EQ(b2.forward(rnd({2, 4, 3, 3})).shape(), (nb::Shape{2, 4, 3, 3}));
  EXPECT_EQ(ln.forward(rnd({2, 3, 5})).shape(), (nb::Shape{2, 3, 5}));
  EXPECT_EQ(gn.forward(rnd({2, 4, 3, 3})).shape(), (nb::Shape{2, 4, 3, 3}));
  for (nn::Module* m : std::vector<nn::Module*>{&b1, &b2, &ln, &gn}) {
    auto p = m->named_parameters();
    ASSERT_EQ(p.size(), 2u) << m->describe();
    EXPECT_EQ(nb::min(p[0].second).item<double>(), 1.0);
    EXPECT_EQ(nb::max(p[0].second).item<double>(), 1.0);
    EXPECT_EQ(nb::max(nb::abs(p[1].second)).item<double>(), 0.0);
  }
  EXPECT_EQ(b2.describe(), "BatchNorm2d(4)");
  EXPECT_EQ(nn::BatchNorm1d(3, {.affine = false}).parameters().size(), 0u);
  EXPECT_EQ(nn::LayerNorm({5}, {.elementwise_affine = false}).parameters().size(), 0u);
}

TEST(NormLayers, BadInputsThrowTypedErrors) {
  nn::BatchNorm1d b1(3);
  nn::BatchNorm2d b2(3);
  EXPECT_THROW(b1.forward(rnd({2, 3, 4, 5})), nb::ShapeError);
  EXPECT_THROW(b1.forward(rnd({2, 4})), nb::ShapeError);
  EXPECT_THROW(b2.forward(rnd({2, 3, 4})), nb::ShapeError);
  EXPECT_THROW(nn::GroupNorm(4, 6), nb::ValueError);
  EXPECT_THROW(nn::BatchNorm2d(0), nb::ValueError);
  EXPECT_THROW(nn::LayerNorm(nb::Shape{}), nb::ValueError);
  EXPECT_THROW(nn::GroupNorm(2, 4).forward(rnd({2, 6, 3})), nb::ShapeError);
  EXPECT_THROW(nn::LayerNorm({4}).forward(rnd({2, 5})), nb::ShapeError);
}

TEST(NormLayers, TrainUpdatesRunningStatsEvalUsesThem) {
  nn::BatchNorm2d bn(2);
  nb::Tensor x = rnd({4, 2, 3, 3}, 1.0);
  nb::Tensor y = bn.forward(x);
  // Training output: zero mean, unit (biased) variance per channel.
  nb::Tensor m = nb::mean(y, {0, 2, 3}), v = nb::var(y, {0, 2, 3}, 0);
  EXPECT_LT(nb::max(nb::abs(m)).item<double>(), 1e-5);
  EXPECT_LT(nb::max(nb::abs(v - 1)).item<double>(), 1e-3);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  nb::Tensor want_mean = nb::mean(x, {0, 2, 3}) * 0.1;
  nb::Tensor want_var = nb::var(x, {0, 2, 3}, 1) * 0.1 + 0.9;
  EXPECT_LT(max_diff(bn.running_mean, want_mean), 1e-6);
  EXPECT_LT(max_diff(bn.running_var, want_var), 1e-5);
  bn.eval();
  nb::Tensor before = bn.running_mean.clone();
  nb::Tensor e = bn.forward(x);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  EXPECT_EQ(bn.running_mean.to_vector<float>(), before.to_vector<float>());
  nb::Tensor want = (x - bn.running_mean.reshape({1, 2, 1, 1})) /
                    nb::sqrt(bn.running_var.reshape({1, 2, 1, 1}) + 1e-5);
  EXPECT_LT(max_diff(e, want), 1e-5);
  bn.train();
  bn.forward(x);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 2);
  bn.reset_running_stats();
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);
  EXPECT_EQ(nb::max(bn.running_var).item<double>(), 1.0);
}

TEST(NormLayers, UntrackedStatsUseBatchStatsInEval) {
  nn::BatchNorm1d bn(3, {.track_running_stats = false});
  EXPECT_TRUE(bn.named_buffers().empty());
  bn.eval();
  nb::Tensor y = bn.forward(rnd({5, 3}, 2.0));
  EXPECT_LT(nb::max(nb::abs(nb::mean(y, {0}))).item<double>(), 1e-5);
}

TEST(NormLayers, StateDictKeysAndRoundTrip) {
  nn::Sequential net(nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2), nn::ReLU(), nn::Flatten(),
                     nn::LayerNorm({8}));
  std::vector<std::string> want = {
      "0.bias",   "0.weight", "1.bias",  "1.num_batches_tracked", "1.running_mean", "1.running_var",
      "1.weight", "4.bias",   "4.weight"};
  EXPECT_EQ(keys(net.state_dict()), want);
  EXPECT_EQ(net.state_dict().at("1.num_batches_tracked").dtype(), nb::int64);
  nb::Tensor x = rnd({3, 1, 4, 4});
  net.forward(x);  // moves the running stats
  net.forward(x * 2);
  auto& bn = static_cast<nn::BatchNorm2d&>(net[1]);
  std::string path = ::testing::TempDir() + "norm_state.safetensors";
  nb::save_safetensors(path, net.state_dict());
  nn::Sequential other(nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2), nn::ReLU(), nn::Flatten(),
                       nn::LayerNorm({8}));
  other.load_state_dict(nb::load_safetensors(path));
  auto& bn2 = static_cast<nn::BatchNorm2d&>(other[1]);
  EXPECT_EQ(bn2.running_mean.to_vector<float>(), bn.running_mean.to_vector<float>());
  EXPECT_EQ(bn2.running_var.to_vector<float>(), bn.running_var.to_vector<float>());
  EXPECT_EQ(bn2.num_batches_tracked.item<int64_t>(), 2);
  net.eval();
  other.eval();
  EXPECT_EQ(net.forward(x).to_vector<float>(), other.forward(x).to_vector<float>());
}

TEST(NormLayers, GradientsMatchCentralDifferences) {
  auto check = [](nn::Module& m, const nb::Shape& shape) {
    m.to(nb::float64);
    nb::Tensor x = rnd(shape, 0.5, nb::float64).requires_grad_();
    nb::Tensor w = rnd(shape, 3.0, nb::float64);
    for (auto& [n, p] : m.named_parameters()) {
      nb::NoGradGuard off;
      p.copy_(rnd(p.shape(), n == "weight" ? 1.0 : 2.0, nb::float64));
    }
    auto loss = [&](const nb::Tensor& in) { return (m.forward(in) * w).sum(); };
    loss(x).backward();
    std::vector<double> g = x.grad().to_vector<double>(), xv = x.to_vector<double>();
    nb::NoGradGuard off;
    for (std::size_t i = 0; i < xv.size(); ++i) {
      auto at = [&](double d) {
        std::vector<double> v = xv;
        v[i] += d;
        return loss(nb::tensor(v, shape)).item<double>();
      };
      EXPECT_NEAR(g[i], (at(1e-6) - at(-1e-6)) / 2e-6, 1e-5) << m.describe() << " element " << i;
    }
  };
  nn::BatchNorm1d b(3);
  check(b, {4, 3, 2});
  nn::LayerNorm l({2, 3});
  check(l, {2, 2, 3});
  nn::GroupNorm gn(2, 4);
  check(gn, {2, 4, 3});
}

// --- against torch.nn ---

json reference() {
  static json ref = nabla::testing::torch_reference("norm_reference.py");
  return ref;
}

nb::Tensor from_json(const json& j) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  return nb::tensor(j["data"].get<std::vector<double>>(), nb::Shape(shape.begin(), shape.end()));
}

void expect_close(const nb::Tensor& got, const json& want, const std::string& what) {
  nb::Tensor w = from_json(want);
  ASSERT_EQ(nb::shape_str(got.shape()), nb::shape_str(w.shape())) << what;
  std::vector<double> g = got.to_vector<double>(), v = w.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], v[i], 1e-9 + 1e-7 * std::fabs(v[i])) << what << " element " << i;
}

void compare(const std::string& name, nn::Module& m, nb::Tensor& weight, nb::Tensor& bias) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& c = ref.at(name);
  m.to(nb::float64);
  {
    nb::NoGradGuard off;
    weight.copy_(from_json(c["weight"]));
    bias.copy_(from_json(c["bias"]));
  }
  m.train();
  for (std::size_t s = 0; s < c["steps"].size(); ++s) {
    const json& st = c["steps"][s];
    std::string what = name + " step " + std::to_string(s);
    nb::Tensor x = from_json(st["x"]).requires_grad_();
    nb::Tensor y = m.forward(x);
    expect_close(y, st["y"], what + " output");
    m.zero_grad();
    (y * from_json(st["w"])).sum().backward();
    expect_close(x.grad(), st["grad_x"], what + " input gradient");
    expect_close(weight.grad(), st["grad_weight"], what + " weight gradient");
    expect_close(bias.grad(), st["grad_bias"], what + " bias gradient");
  }
  for (auto& [key, want] : c["buffers"].items()) {
    auto sd = m.state_dict();
    ASSERT_TRUE(sd.count(key)) << name << " has no buffer " << key;
    expect_close(sd.at(key).astype(nb::float64), want, name + " " + key);
  }
  EXPECT_EQ(m.named_buffers().size(), c["buffers"].size()) << name;
  m.eval();
  expect_close(m.forward(from_json(c["eval"]["x"])), c["eval"]["y"], name + " eval output");
}

TEST(NormTorch, BatchNorm1d) {
  nn::BatchNorm1d m(3);
  compare("batchnorm1d", m, m.weight, m.bias);
}
TEST(NormTorch, BatchNorm1dSequencesCumulativeAverage) {
  nn::BatchNorm1d m(3, {.momentum = std::nullopt});
  compare("batchnorm1d_seq", m, m.weight, m.bias);
}
TEST(NormTorch, BatchNorm2d) {
  nn::BatchNorm2d m(4);
  compare("batchnorm2d", m, m.weight, m.bias);
}
TEST(NormTorch, LayerNorm) {
  nn::LayerNorm m({5, 6});
  compare("layernorm", m, m.weight, m.bias);
}
TEST(NormTorch, GroupNorm) {
  nn::GroupNorm m(2, 6);
  compare("groupnorm", m, m.weight, m.bias);
}

}  // namespace
