// Conv3d, ConvTranspose1d and ConvTranspose2d: output shapes, PyTorch's default
// initialisation bounds, and values and gradients against PyTorch for the same parameters
// (tests/torch/conv_reference.py, run live; skipped where python3-torch is not installed).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

namespace nb = nabla;
namespace nn = nabla::nn;
using nlohmann::json;

namespace {

TEST(ConvLayers, ForwardShapes) {
  nn::Conv3d c3(3, 16, 3, {.stride = 2, .padding = 1});
  EXPECT_EQ(c3.weight.shape(), (nb::Shape{16, 3, 3, 3, 3}));
  EXPECT_EQ(c3.forward(nb::randn({2, 3, 8, 32, 30})).shape(), (nb::Shape{2, 16, 4, 16, 15}));
  nn::Conv3d same(4, 6, 3, {.groups = 2, .bias = false, .same = true});
  EXPECT_FALSE(same.bias.defined());
  EXPECT_EQ(same.forward(nb::randn({1, 4, 5, 6, 7})).shape(), (nb::Shape{1, 6, 5, 6, 7}));

  nn::ConvTranspose2d t2(8, 4, 4, {.stride = 2, .padding = 1});
  EXPECT_EQ(t2.weight.shape(), (nb::Shape{8, 4, 4, 4}));
  EXPECT_EQ(t2.forward(nb::randn({2, 8, 7, 9})).shape(), (nb::Shape{2, 4, 14, 18}));
  nn::ConvTranspose2d t2g(6, 4, 3, {.stride = 2, .output_padding = 1, .groups = 2});
  EXPECT_EQ(t2g.weight.shape(), (nb::Shape{6, 2, 3, 3}));
  EXPECT_EQ(t2g.forward(nb::randn({1, 6, 5, 5})).shape(), (nb::Shape{1, 4, 12, 12}));

  nn::ConvTranspose1d t1(4, 2, 5, {.stride = 3, .padding = 2, .output_padding = 1});
  EXPECT_EQ(t1.forward(nb::randn({3, 4, 10})).shape(), (nb::Shape{3, 2, 29}));
  EXPECT_EQ(t1.parameters().size(), 2u);

  EXPECT_THROW(nn::Conv3d(3, 4, 3, {.groups = 2}), nb::ValueError);
  EXPECT_THROW(nn::ConvTranspose2d(4, 3, 3, {.groups = 2}), nb::ValueError);
  EXPECT_THROW(nn::ConvTranspose1d(4, 3, 0), nb::ValueError);
  EXPECT_THROW(t2.forward(nb::randn({2, 3, 7, 9})), nb::ShapeError);
  EXPECT_THROW(c3.forward(nb::randn({2, 3, 32, 30})), nb::ShapeError);
}

// kaiming_uniform(a=sqrt(5)) and the bias both draw from +-1/sqrt(fan_in), fan_in from
// weight dim 1: out/groups * k^2 for the transposed conv (PyTorch's choice), not in * k^2.
void expect_bounds(const nb::Tensor& w, const nb::Tensor& b, int64_t fan_in) {
  double bound = 1 / std::sqrt(double(fan_in));
  for (const nb::Tensor& t : {w, b}) {
    std::vector<float> v = t.to_vector<float>();
    float hi = 0;
    for (float e : v) hi = std::max(hi, std::fabs(e));
    EXPECT_LE(hi, bound);
    EXPECT_GT(hi, 0.8 * bound);  // the values spread over the whole range
  }
}

TEST(ConvLayers, DefaultInitUsesPyTorchFanIn) {
  nn::Conv3d c3(4, 64, 3, {.groups = 2});
  expect_bounds(c3.weight, c3.bias, 2 * 27);
  nn::ConvTranspose2d t2(64, 40, 3, {.groups = 4});
  expect_bounds(t2.weight, t2.bias, 10 * 9);
  nn::ConvTranspose1d t1(16, 48, 5);
  expect_bounds(t1.weight, t1.bias, 48 * 5);
}

nb::Tensor from_json(const json& j) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  return nb::tensor(j["data"].get<std::vector<double>>(), nb::Shape(shape.begin(), shape.end()));
}

std::unique_ptr<nn::Module> make_layer(const std::string& name, const json& a) {
  auto get = [&](const char* key, int64_t fallback) { return a.value(key, fallback); };
  int64_t in = a["in"], out = a["out"], k = a["k"];
  if (name.rfind("conv3d", 0) == 0)
    return std::make_unique<nn::Conv3d>(in, out, k,
                                        nn::ConvOptions{.stride = get("stride", 1),
                                                        .padding = get("padding", 0),
                                                        .dilation = get("dilation", 1),
                                                        .groups = get("groups", 1),
                                                        .bias = get("bias", 1) != 0});
  nn::ConvTransposeOptions o{.stride = get("stride", 1),
                             .padding = get("padding", 0),
                             .output_padding = get("output_padding", 0),
                             .groups = get("groups", 1),
                             .dilation = get("dilation", 1),
                             .bias = get("bias", 1) != 0};
  if (name.rfind("conv_transpose2d", 0) == 0)
    return std::make_unique<nn::ConvTranspose2d>(in, out, k, o);
  return std::make_unique<nn::ConvTranspose1d>(in, out, k, o);
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-10 + 1e-9 * std::fabs(want[i])) << what << " element " << i;
}

class ConvLayersVsTorch : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvLayersVsTorch, SameValuesAndGradients) {
  static json ref = nabla::testing::torch_reference("conv_reference.py");
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const std::string& name = GetParam();
  const json& c = ref.at(name);
  std::unique_ptr<nn::Module> layer = make_layer(name, c["args"]);
  layer->to(nb::float64);
  std::map<std::string, nb::Tensor> state;
  for (auto& [k, v] : c["params"].items()) state[k] = from_json(v);
  layer->load_state_dict(state);
  nb::Tensor x = from_json(c["input"]).requires_grad_();
  nb::Tensor y = layer->forward(x);
  nb::Tensor want = from_json(c["output"]);
  ASSERT_EQ(y.shape(), want.shape()) << name;
  expect_near(y.to_vector<double>(), want.to_vector<double>(), name + " output");
  (y * from_json(c["weight"])).sum().backward();
  expect_near(x.grad().to_vector<double>(), c["grads"]["input"].get<std::vector<double>>(),
              name + " input gradient");
  for (auto& [k, p] : layer->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name << " " << k;
    expect_near(p.grad().to_vector<double>(), c["grads"][k].get<std::vector<double>>(),
                name + " " + k + " gradient");
  }
  EXPECT_EQ(layer->named_parameters().size(), c["params"].size());
}

INSTANTIATE_TEST_SUITE_P(Cases, ConvLayersVsTorch,
                         ::testing::Values("conv3d", "conv3d_dilated", "conv_transpose2d",
                                           "conv_transpose2d_dilated", "conv_transpose1d"));

}  // namespace
