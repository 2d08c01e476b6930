// Attention against PyTorch: scaled_dot_product_attention, MultiheadAttention,
// TransformerEncoderLayer (post/pre norm, relu/gelu) and TransformerEncoder, loaded with the
// same weights, must give the same outputs, attention weights and gradients of sum(out * w)
// for the inputs and every parameter (tests/torch/attention_reference.py, run live with
// Debian's python3-torch; skipped where it is not installed).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

namespace nb = nabla;
namespace nn = nabla::nn;
using nlohmann::json;

namespace {

const json& reference() {
  static json ref = nabla::testing::torch_reference("attention_reference.py");
  return ref;
}

nb::Tensor from_json(const json& j) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  nb::Tensor t =
      nb::tensor(j["data"].get<std::vector<double>>(), nb::Shape(shape.begin(), shape.end()));
  return j.contains("bool") ? t.astype(nb::bool_) : t;
}

void expect_near(const nb::Tensor& got, const json& want, const std::string& what) {
  nb::Tensor w = from_json(want);
  ASSERT_EQ(nb::shape_str(got.shape()), nb::shape_str(w.shape())) << what;
  std::vector<double> g = got.to_vector<double>(), e = w.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], e[i], 1e-9 + 1e-7 * std::fabs(e[i])) << what << " element " << i;
}

struct Case {
  json c;
  std::map<std::string, nb::Tensor> in;
};

Case load(const std::string& name) {
  Case k{reference().at(name), {}};
  for (auto& [key, value] : k.c["inputs"].items()) {
    nb::Tensor t = from_json(value);
    if (t.dtype() != nb::bool_) t.requires_grad_();
    k.in[key] = t;
  }
  return k;
}

// Backpropagates sum(out * w) and compares the output, input gradients and, for a module,
// the parameter gradients.
void check(Case& k, const nb::Tensor& out, nn::Module* m, const std::string& name) {
  expect_near(out, k.c["output"], name + " output");
  (out * from_json(k.c["w"])).sum().backward();
  for (auto& [key, t] : k.in) {
    if (t.dtype() == nb::bool_) continue;
    ASSERT_TRUE(t.grad().defined()) << name << ": no gradient for " << key;
    expect_near(t.grad(), k.c["grads"][key], name + " gradient of " + key);
  }
  if (!m) return;
  for (auto& [key, p] : m->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name << ": no gradient for " << key;
    expect_near(p.grad(), k.c["grads"][key], name + " gradient of " + key);
  }
}

void load_state(nn::Module& m, const Case& k) {
  m.to(nb::float64);
  nb::TensorMap state;
  for (auto& [key, value] : k.c["state"].items()) state[key] = from_json(value);
  m.load_state_dict(state);
}

#define SKIP_WITHOUT_TORCH() \
  if (reference().is_null()) GTEST_SKIP() << "python3-torch is not installed"

void sdpa(const std::string& name) {
  Case k = load(name);
  std::optional<double> scale;
  if (!k.c["scale"].is_null()) scale = k.c["scale"].get<double>();
  nb::Tensor mask = k.in.count("mask") ? k.in["mask"] : nb::Tensor();
  nb::Tensor out = nb::scaled_dot_product_attention(k.in["q"], k.in["k"], k.in["v"], mask, 0.0,
                                                    k.c["causal"].get<bool>(), scale);
  check(k, out, nullptr, name);
  // Without gradients the fused kernel runs: same values.
  nb::NoGradGuard no_grad;
  expect_near(nb::scaled_dot_product_attention(
                  k.in["q"].detach(), k.in["k"].detach(), k.in["v"].detach(),
                  mask.defined() ? mask.detach() : mask, 0.0, k.c["causal"].get<bool>(), scale),
              k.c["output"], name + " fused output");
}

}  // namespace

TEST(AttentionTorch, SdpaFloatMask) {
  SKIP_WITHOUT_TORCH();
  sdpa("sdpa_float_mask");
}
TEST(AttentionTorch, SdpaBoolMask) {
  SKIP_WITHOUT_TORCH();
  sdpa("sdpa_bool_mask");
}
TEST(AttentionTorch, SdpaCausal) {
  SKIP_WITHOUT_TORCH();
  sdpa("sdpa_causal");
}
TEST(AttentionTorch, SdpaCausalRectangular) {
  SKIP_WITHOUT_TORCH();
  sdpa("sdpa_causal_rect");
}
TEST(AttentionTorch, SdpaBroadcastBatch) {
  SKIP_WITHOUT_TORCH();
  sdpa("sdpa_broadcast");
}

TEST(AttentionTorch, MhaSelfAttentionWithPaddingMask) {
  SKIP_WITHOUT_TORCH();
  Case k = load("mha_self_padding");
  nn::MultiheadAttention m(8, 2);
  load_state(m, k);
  nb::Tensor x = k.in["x"];
  nn::AttentionOutput r = m.forward(x, x, x, k.in["kpm"], k.in["mask"]);
  expect_near(r.weights, k.c["weights"], "mha_self_padding weights");
  check(k, r.output, &m, "mha_self_padding");
}

TEST(AttentionTorch, MhaCrossAttentionBatchFirstPerHeadWeights) {
  SKIP_WITHOUT_TORCH();
  Case k = load("mha_cross_batch_first");
  nn::MultiheadAttention m(8, 4, {.batch_first = true, .kdim = 6, .vdim = 4});
  load_state(m, k);
  nn::AttentionOutput r = m.forward(k.in["q"], k.in["k"], k.in["v"], {}, k.in["mask"], true, false);
  expect_near(r.weights, k.c["weights"], "mha_cross_batch_first weights");
  check(k, r.output, &m, "mha_cross_batch_first");
}

TEST(AttentionTorch, MhaUnbatchedWithoutBias) {
  SKIP_WITHOUT_TORCH();
  Case k = load("mha_unbatched_no_bias");
  nn::MultiheadAttention m(8, 2, {.bias = false});
  load_state(m, k);
  nn::AttentionOutput r = m.forward(k.in["q"], k.in["k"], k.in["v"]);
  expect_near(r.weights, k.c["weights"], "mha_unbatched_no_bias weights");
  check(k, r.output, &m, "mha_unbatched_no_bias");
}

TEST(AttentionTorch, MhaPerBatchHeadMaskWithoutWeights) {
  SKIP_WITHOUT_TORCH();
  Case k = load("mha_3d_mask_no_weights");
  nn::MultiheadAttention m(8, 2, {.batch_first = true});
  load_state(m, k);
  nb::Tensor x = k.in["x"];
  nn::AttentionOutput r = m.forward(x, x, x, k.in["kpm"], k.in["mask"], false);
  EXPECT_FALSE(r.weights.defined());
  check(k, r.output, &m, "mha_3d_mask_no_weights");
}

TEST(AttentionTorch, EncoderLayerPostNormRelu) {
  SKIP_WITHOUT_TORCH();
  Case k = load("encoder_layer_post_relu");
  nn::TransformerEncoderLayer m(8, 2, {.dim_feedforward = 16, .dropout = 0.0});
  load_state(m, k);
  check(k, m.forward(k.in["x"], {}, k.in["kpm"]), &m, "encoder_layer_post_relu");
}

TEST(AttentionTorch, EncoderLayerPreNormGelu) {
  SKIP_WITHOUT_TORCH();
  Case k = load("encoder_layer_pre_gelu");
  nn::TransformerEncoderLayer m(8, 2,
                                {.dim_feedforward = 16,
                                 .dropout = 0.0,
                                 .activation = "gelu",
                                 .layer_norm_eps = 1e-6,
                                 .batch_first = true,
                                 .norm_first = true});
  load_state(m, k);
  check(k, m.forward(k.in["x"], k.in["mask"]), &m, "encoder_layer_pre_gelu");
}

TEST(AttentionTorch, EncoderStackWithFinalNorm) {
  SKIP_WITHOUT_TORCH();
  Case k = load("encoder_stack");
  nn::TransformerEncoder m(
      nn::TransformerEncoderLayer(8, 2, {.dim_feedforward = 16, .dropout = 0.0}), 2,
      nn::LayerNorm({8}));
  load_state(m, k);
  check(k, m.forward(k.in["x"], {}, k.in["kpm"]), &m, "encoder_stack");
}
