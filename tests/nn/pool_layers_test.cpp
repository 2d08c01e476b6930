// Pooling and upsampling layers: output shapes, bad construction, and values and gradients
// against PyTorch's layers on the same inputs (tests/torch/pool_reference.py, run live with
// Debian's python3-torch; skipped where it is not installed).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

namespace nb = nabla;
namespace nn = nabla::nn;
using nlohmann::json;

namespace {

json reference() {
  static json ref = nabla::testing::torch_reference("pool_reference.py");
  return ref;
}

nb::Tensor from_json(const json& j) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  return nb::tensor(j["data"].get<std::vector<double>>(), nb::Shape(shape.begin(), shape.end()));
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-12 + 1e-9 * std::fabs(want[i])) << what << " element " << i;
}

// Runs `layer` on the case's input in float64 and compares output and input gradient.
void check(const std::string& name, nn::Module&& layer) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& c = ref.at(name);
  nb::Tensor x = from_json(c["input"]).requires_grad_();
  nb::Tensor out = layer.forward(x);
  nb::Tensor want = from_json(c["output"]);
  ASSERT_EQ(nb::shape_str(out.shape()), nb::shape_str(want.shape())) << name;
  expect_near(out.to_vector<double>(), want.to_vector<double>(), name + " value");
  (out * from_json(c["weight"])).sum().backward();
  ASSERT_TRUE(x.grad().defined()) << name;
  expect_near(x.grad().to_vector<double>(), c["grad"].get<std::vector<double>>(),
              name + " gradient");
}

TEST(PoolLayers, OutputShapes) {
  auto shape_of = [](nn::Module&& m, const nb::Shape& in) {
    return nb::shape_str(m.forward(nb::randn(in)).shape());
  };
  EXPECT_EQ(shape_of(nn::MaxPool1d(3, 2, 1), {2, 3, 9}), "(2, 3, 5)");
  EXPECT_EQ(shape_of(nn::MaxPool1d(2), {2, 3, 9}), "(2, 3, 4)");
  EXPECT_EQ(shape_of(nn::AvgPool1d(4, 1, 2, false), {2, 3, 9}), "(2, 3, 10)");
  EXPECT_EQ(shape_of(nn::MaxPool3d(2), {1, 2, 4, 5, 6}), "(1, 2, 2, 2, 3)");
  EXPECT_EQ(shape_of(nn::AvgPool3d(3, 2, 1), {1, 2, 5, 6, 7}), "(1, 2, 3, 3, 4)");
  EXPECT_EQ(shape_of(nn::AdaptiveAvgPool1d(4), {2, 3, 10}), "(2, 3, 4)");
  EXPECT_EQ(shape_of(nn::AdaptiveMaxPool1d(1), {2, 3, 10}), "(2, 3, 1)");
  EXPECT_EQ(shape_of(nn::AdaptiveMaxPool2d({3, 4}), {2, 2, 7, 9}), "(2, 2, 3, 4)");
  EXPECT_EQ(shape_of(nn::Upsample({.scale_factor = {2}}), {1, 2, 3, 4}), "(1, 2, 6, 8)");
  EXPECT_EQ(shape_of(nn::Upsample({.scale_factor = {1.5}}, "linear"), {1, 2, 5}), "(1, 2, 7)");
  EXPECT_EQ(shape_of(nn::Upsample({.size = {5, 7}}, "bilinear"), {1, 2, 3, 4}), "(1, 2, 5, 7)");
  EXPECT_EQ(shape_of(nn::Upsample({.size = {4}}, "trilinear"), {1, 2, 2, 3, 2}), "(1, 2, 4, 4, 4)");
}

TEST(PoolLayers, BadConstructionThrows) {
  EXPECT_THROW(nn::MaxPool1d(0), nb::ValueError);
  EXPECT_THROW(nn::AvgPool3d(-2), nb::ValueError);
  EXPECT_THROW(nn::AdaptiveMaxPool1d(0), nb::ValueError);
  EXPECT_THROW(nn::Upsample({.scale_factor = {2}}, "bicubic"), nb::ValueError);
  EXPECT_THROW(nn::Upsample({}), nb::ValueError);
  EXPECT_THROW(nn::Upsample({.size = {4}, .align_corners = true}), nb::ValueError);
  nn::Upsample bilinear({.size = {4, 4}}, "bilinear");
  EXPECT_THROW(bilinear.forward(nb::randn({1, 2, 3})), nb::ShapeError);
  EXPECT_EQ(nn::Upsample({.scale_factor = {2, 1.5}}, "bilinear").describe(),
            "Upsample(scale_factor=(2, 1.5), mode=bilinear)");
}

TEST(PoolLayers, MatchTorchPools) {
  check("max_pool1d", nn::MaxPool1d(3, 2, 1));
  check("max_pool1d_default_stride", nn::MaxPool1d(2));
  check("avg_pool1d", nn::AvgPool1d(3, 2, 1));
  check("avg_pool1d_exclude_pad", nn::AvgPool1d(4, 1, 2, false));
  check("max_pool3d", nn::MaxPool3d(2));
  check("max_pool3d_stride_pad", nn::MaxPool3d(3, 2, 1));
  check("avg_pool3d", nn::AvgPool3d(3, 2, 1));
  check("avg_pool3d_exclude_pad", nn::AvgPool3d(3, 2, 1, false));
  check("adaptive_avg_pool1d", nn::AdaptiveAvgPool1d(4));
  check("adaptive_max_pool1d", nn::AdaptiveMaxPool1d(4));
  check("adaptive_max_pool2d", nn::AdaptiveMaxPool2d({3, 4}));
}

TEST(PoolLayers, MatchTorchUpsample) {
  check("nearest_scale2", nn::Upsample({.scale_factor = {2}}));
  check("nearest_size", nn::Upsample({.size = {5, 7}}));
  check("nearest_scale_1d", nn::Upsample({.scale_factor = {2.5}}));
  check("nearest_scale_3d", nn::Upsample({.scale_factor = {2, 1.5, 3}}));
  check("nearest_down", nn::Upsample({.size = {2, 3}}));
  check("bilinear_size", nn::Upsample({.size = {5, 7}}, "bilinear"));
  check("bilinear_align", nn::Upsample({.size = {5, 7}, .align_corners = true}, "bilinear"));
  check("bilinear_scale", nn::Upsample({.scale_factor = {1.5}}, "bilinear"));
  check("bilinear_down", nn::Upsample({.size = {3, 2}}, "bilinear"));
  check("linear_scale", nn::Upsample({.scale_factor = {2.5}}, "linear"));
  check("trilinear_size", nn::Upsample({.size = {3, 5, 4}}, "trilinear"));
  check("trilinear_align", nn::Upsample({.size = {3, 5, 4}, .align_corners = true}, "trilinear"));
}

}  // namespace
