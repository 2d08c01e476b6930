// nn::Bilinear: shapes, errors, PyTorch's initialisation, a float64 gradient check and a
// live comparison with torch.nn.Bilinear (tests/torch/bilinear_reference.py).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

namespace nb = nabla;
namespace nn = nabla::nn;
using nlohmann::json;

namespace {

nb::Tensor from_json(const json& j) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  return nb::tensor(j["data"].get<std::vector<double>>(), nb::Shape(shape.begin(), shape.end()));
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-10 + 1e-9 * std::fabs(want[i])) << what << " element " << i;
}

// Uses a Bilinear layer inside a model, as a similarity head would.
class PairScore : public nn::Module {
 public:
  nb::Tensor forward(const nb::Tensor& x) override { return (*head)(nb::tanh(x), x * 2); }
  std::string describe() const override { return "PairScore"; }
  std::shared_ptr<nn::Bilinear> head = register_module("head", nn::Bilinear(4, 4, 2));
};

}  // namespace

TEST(Bilinear, InsideAModelWithSummaryAndStateDict) {
  PairScore m;
  EXPECT_EQ(m.forward(nb::randn({3, 4})).shape(), (nb::Shape{3, 2}));
  auto sd = m.state_dict();
  EXPECT_EQ(sd.at("head.weight").shape(), (nb::Shape{2, 4, 4}));
  EXPECT_EQ(sd.count("head.bias"), 1u);
  std::string s = m.summary({3, 4});
  EXPECT_NE(s.find("head: Bilinear(in1=4, in2=4"), std::string::npos) << s;
  EXPECT_NE(s.find("(3, 2)"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 34"), std::string::npos) << s;
}

TEST(Bilinear, ShapesParametersAndErrors) {
  nn::Bilinear layer(3, 4, 5);
  EXPECT_EQ(layer.weight.shape(), (nb::Shape{5, 3, 4}));
  EXPECT_EQ(layer.bias.shape(), (nb::Shape{5}));
  EXPECT_EQ(layer.num_parameters(), 5 * 3 * 4 + 5);
  EXPECT_EQ(layer.forward(nb::randn({7, 3}), nb::randn({7, 4})).shape(), (nb::Shape{7, 5}));
  EXPECT_EQ(layer(nb::randn({2, 6, 3}), nb::randn({2, 6, 4})).shape(), (nb::Shape{2, 6, 5}));
  EXPECT_EQ(layer(nb::randn({3}), nb::randn({4})).shape(), (nb::Shape{5}));
  EXPECT_EQ(layer(nb::randn({0, 3}), nb::randn({0, 4})).shape(), (nb::Shape{0, 5}));
  EXPECT_THROW(layer(nb::randn({7, 4}), nb::randn({7, 4})), nb::ShapeError);  // in1 wrong
  EXPECT_THROW(layer(nb::randn({7, 3}), nb::randn({7, 3})), nb::ShapeError);  // in2 wrong
  EXPECT_THROW(layer(nb::randn({7, 3}), nb::randn({6, 4})), nb::ShapeError);  // leading dims differ
  EXPECT_THROW(layer(nb::randn({}), nb::randn({4})), nb::ShapeError);
  EXPECT_THROW(layer.forward(nb::randn({7, 3})), nb::ValueError);  // needs two inputs
  EXPECT_THROW(nn::Bilinear(0, 4, 5), nb::ValueError);
  EXPECT_THROW(nn::Bilinear(3, 4, -1), nb::ValueError);
  nn::Bilinear no_bias(3, 4, 5, /*bias=*/false);
  EXPECT_FALSE(no_bias.bias.defined());
  EXPECT_EQ(no_bias.state_dict().size(), 1u);
  EXPECT_EQ(layer.describe(), "Bilinear(in1=3, in2=4, out=5)");
}

TEST(Bilinear, InitialisesAsPyTorch) {
  // uniform(-1/sqrt(in1), 1/sqrt(in1)) for weight and bias: bounded, with the uniform's spread.
  nb::manual_seed(3);
  nn::Bilinear layer(16, 20, 30);
  double bound = 1 / std::sqrt(16.0);
  auto w = layer.weight.to_vector<double>();
  double sq = 0;
  for (double v : w) {
    EXPECT_LE(std::fabs(v), bound);
    sq += v * v;
  }
  EXPECT_NEAR(std::sqrt(sq / double(w.size())), bound / std::sqrt(3.0), 0.05 * bound);
  for (double v : layer.bias.to_vector<double>()) EXPECT_LE(std::fabs(v), bound);
}

TEST(Bilinear, StateDictRoundTripsThroughSafetensors) {
  nn::Bilinear a(3, 2, 4), b(3, 2, 4);
  auto sd = a.state_dict();
  ASSERT_EQ(sd.count("weight") + sd.count("bias"), 2u);
  std::string path = ::testing::TempDir() + "bilinear.safetensors";
  nb::save_safetensors(path, sd);
  b.load_state_dict(nb::load_safetensors(path));
  auto x1 = nb::randn({5, 3}), x2 = nb::randn({5, 2});
  EXPECT_EQ(a(x1, x2).to_vector<float>(), b(x1, x2).to_vector<float>());
}

TEST(Bilinear, GradientsMatchCentralDifferences) {
  nb::manual_seed(1);
  nn::Bilinear layer(3, 2, 4);
  layer.to(nb::float64);
  nb::Tensor x1 = nb::randn({5, 3}, nb::float64).requires_grad_();
  nb::Tensor x2 = nb::randn({5, 2}, nb::float64).requires_grad_();
  nb::Tensor w = nb::randn({5, 4}, nb::float64);
  auto loss = [&] { return (layer(x1, x2) * w).sum(); };
  layer.zero_grad();
  loss().backward();
  // Perturbs each element of each leaf in place and compares with its analytic gradient.
  for (nb::Tensor* t : {&x1, &x2, &layer.weight, &layer.bias}) {
    auto analytic = t->grad().to_vector<double>();
    auto base = t->detach().to_vector<double>();
    for (std::size_t i = 0; i < base.size(); ++i) {
      const double h = 1e-6;
      auto set = [&](double v) {
        auto vals = base;
        vals[i] = v;
        nb::NoGradGuard off;
        nb::Tensor(*t).copy_(nb::tensor(vals, t->shape()));
      };
      set(base[i] + h);
      double up = loss().item<double>();
      set(base[i] - h);
      double down = loss().item<double>();
      set(base[i]);
      EXPECT_NEAR(analytic[i], (up - down) / (2 * h), 1e-6 * (1 + std::fabs(analytic[i])));
    }
  }
}

TEST(Bilinear, MatchesPyTorchValuesAndGradients) {
  static json ref = nabla::testing::torch_reference("bilinear_reference.py");
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  for (auto& [name, c] : ref.items()) {
    nb::Tensor weight = from_json(c["weight"]);
    bool bias = c.contains("bias");
    nn::Bilinear layer(weight.size(1), weight.size(2), weight.size(0), bias);
    layer.to(nb::float64);
    nb::TensorMap sd{{"weight", weight}};
    if (bias) sd["bias"] = from_json(c["bias"]);
    layer.load_state_dict(sd);
    nb::Tensor x1 = from_json(c["x1"]).requires_grad_(), x2 = from_json(c["x2"]).requires_grad_();
    nb::Tensor y = layer(x1, x2);
    ASSERT_EQ(y.shape(), from_json(c["output"]).shape()) << name;
    expect_near(y.to_vector<double>(), c["output"]["data"].get<std::vector<double>>(),
                name + " output");
    (y * from_json(c["w"])).sum().backward();
    expect_near(x1.grad().to_vector<double>(), c["grad_x1"]["data"].get<std::vector<double>>(),
                name + " grad x1");
    expect_near(x2.grad().to_vector<double>(), c["grad_x2"]["data"].get<std::vector<double>>(),
                name + " grad x2");
    expect_near(layer.weight.grad().to_vector<double>(),
                c["grad_weight"]["data"].get<std::vector<double>>(), name + " grad weight");
    if (bias)
      expect_near(layer.bias.grad().to_vector<double>(),
                  c["grad_bias"]["data"].get<std::vector<double>>(), name + " grad bias");
  }
}
