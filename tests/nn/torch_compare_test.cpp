// Composite functions, layers and losses against PyTorch: the same inputs must give the same
// values and gradients (tests/torch/functions_reference.py, run live with Debian's
// python3-torch; skipped where it is not installed).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

#include <nabla/nabla.h>

namespace nb = nabla;
namespace nn = nabla::nn;
using nlohmann::json;

namespace {

json reference() {
  static json ref = nabla::testing::torch_reference("functions_reference.py");
  return ref;
}

nb::Tensor from_json(const json& j, nb::DType dtype = nb::float64) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  auto data = j["data"].get<std::vector<double>>();
  return nb::tensor(data, nb::Shape(shape.begin(), shape.end())).astype(dtype);
}

using Fn = std::function<nb::Tensor(const std::vector<nb::Tensor>& x, const std::vector<nb::Tensor>& consts)>;

void expect_near(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-9 + 1e-7 * std::fabs(want[i])) << what << " element " << i;
}

void check(const std::string& name, const Fn& fn) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& c = ref.at(name);
  std::vector<nb::Tensor> xs, consts;
  for (const json& in : c["inputs"]) xs.push_back(from_json(in).requires_grad_());
  for (const json& in : c["consts"]) consts.push_back(from_json(in, in["integer"].get<bool>() ? nb::int64 : nb::float64));
  nb::Tensor out = fn(xs, consts);
  nb::Tensor want = from_json(c["output"]);
  ASSERT_EQ(nb::shape_str(out.shape()), nb::shape_str(want.shape())) << name;
  expect_near(out.to_vector<double>(), want.to_vector<double>(), name + " value");
  (out * from_json(c["weight"])).sum().backward();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    ASSERT_TRUE(xs[i].grad().defined()) << name << ": no gradient for input " << i;
    expect_near(xs[i].grad().to_vector<double>(), c["grads"][i].get<std::vector<double>>(),
                name + " gradient of input " + std::to_string(i));
  }
}

using X = const std::vector<nb::Tensor>&;

}  // namespace

TEST(TorchCompare, CompositeFunctions) {
  check("mlp_tanh_logsumexp", [](X x, X) { return nb::logsumexp(nb::matmul(nb::tanh(nb::matmul(x[0], x[1])), x[2]), {1}); });
  check("softmax_weighted", [](X x, X) { return nb::sum(nb::softmax(x[0], 1) * nb::arange(5, nb::float64), {1}); });
  check("gelu_sigmoid_mix", [](X x, X) { return nb::gelu(x[0]) * nb::sigmoid(x[1]) + nb::exp(x[0] * x[0] * -1.0); });
  check("norm_var", [](X x, X) { return nb::norm(x[0], 2, {1}) + nb::var(x[0], {1}) + nb::std(x[0], {0}).sum(); });
  check("gather_cumsum", [](X x, X) {
    return nb::gather(nb::cumsum(x[0], 1), 1, nb::tensor(std::vector<int64_t>{0, 2, 1, 1, 2, 0}, {3, 2}));
  });
  check("where_max", [](X x, X) { return nb::max(nb::where(x[0] > x[1], x[0] * x[1], nb::abs(x[0])), {0}); });
  check("pow_div_log", [](X x, X) {
    return nb::log(nb::pow(x[0], 2) + 1) / (x[1] * x[1] + 1) + nb::sqrt(x[1] * x[1] + 0.5);
  });
  check("einsum_batch", [](X x, X) { return nb::relu(nb::einsum("bij,bjk->bik", {x[0], x[1]})); });
}

TEST(TorchCompare, Layers) {
  check("linear", [](X x, X) {
    nn::Linear l(6, 3);
    l.load_state_dict({{"weight", x[1]}, {"bias", x[2]}});  // values only; gradients flow to x via matmul below
    return nb::matmul(x[0], x[1].t()) + x[2];
  });
  check("conv2d_stride_pad", [](X x, X) { return nb::conv2d(x[0], x[1], x[2], {.stride = {2, 2}, .padding = {1, 1}}); });
  check("conv2d_groups_dilation", [](X x, X) {
    return nb::conv2d(x[0], x[1], {}, {.padding = {2, 2}, .dilation = {2, 2}, .groups = 2});
  });
  check("max_pool2d", [](X x, X) { return nb::max_pool2d(x[0], {2, 2}); });
  check("avg_pool2d", [](X x, X) { return nb::avg_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}); });
  check("log_softmax", [](X x, X) { return nb::log_softmax(x[0], 1); });
}

TEST(TorchCompare, LayerModulesMatchFunctionalForms) {
  // nn::Linear and nn::Conv2d with the reference weights give the reference outputs.
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& c = ref["linear"];
  nn::Linear l(6, 3);
  l.to(nb::float64);
  l.load_state_dict({{"weight", from_json(c["inputs"][1])}, {"bias", from_json(c["inputs"][2])}});
  expect_near(l.forward(from_json(c["inputs"][0])).to_vector<double>(), c["output"]["data"].get<std::vector<double>>(), "Linear");
  const json& k = ref["conv2d_stride_pad"];
  nn::Conv2d conv(3, 4, 3, {.stride = 2, .padding = 1});
  conv.to(nb::float64);
  conv.load_state_dict({{"weight", from_json(k["inputs"][1])}, {"bias", from_json(k["inputs"][2])}});
  expect_near(conv.forward(from_json(k["inputs"][0])).to_vector<double>(), k["output"]["data"].get<std::vector<double>>(), "Conv2d");
}

TEST(TorchCompare, Losses) {
  check("cross_entropy", [](X x, X c) { return nn::cross_entropy(x[0], c[0]); });
  check("cross_entropy_weight_ignore_smooth", [](X x, X c) {
    return nn::cross_entropy(x[0], c[0], {.weight = c[1], .ignore_index = -100, .label_smoothing = 0.1});
  });
  check("cross_entropy_probs", [](X x, X) { return nn::cross_entropy(x[0], x[1], {.label_smoothing = 0.2}); });
  check("cross_entropy_sum_none", [](X x, X c) { return nn::cross_entropy(x[0], c[0], {.reduction = nn::Reduction::none}); });
  check("nll_loss", [](X x, X c) { return nn::nll_loss(nb::log_softmax(x[0], 1), c[0], {.reduction = nn::Reduction::sum}); });
  check("mse_loss", [](X x, X) { return nn::mse_loss(x[0], x[1]); });
  check("l1_loss", [](X x, X) { return nn::l1_loss(x[0], x[1], nn::Reduction::sum); });
  check("smooth_l1_loss", [](X x, X) { return nn::smooth_l1_loss(x[0], x[1], 0.5); });
  check("huber_loss", [](X x, X) { return nn::huber_loss(x[0], x[1], 0.7); });
  check("bce", [](X x, X c) { return nn::binary_cross_entropy(x[0], c[0]); });
  check("bce_with_logits", [](X x, X c) { return nn::binary_cross_entropy_with_logits(x[0], c[0], c[1]); });
  check("kl_div", [](X x, X) { return nn::kl_div(nb::log_softmax(x[0], 1), x[1], nn::Reduction::sum); });
  check("cosine_embedding", [](X x, X) {
    return nn::cosine_embedding_loss(x[0], x[1], nb::tensor(std::vector<double>{1, -1, 1, -1}), 0.1);
  });
  check("margin_ranking", [](X x, X) {
    return nn::margin_ranking_loss(x[0], x[1], nb::tensor(std::vector<double>{1, -1, 1}), 0.3);
  });
}
