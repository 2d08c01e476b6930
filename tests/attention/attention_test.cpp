// scaled_dot_product_attention and the transformer modules without PyTorch: float64
// finite-difference gradients (composed path, fused op through symbolic gradients, second
// order), mask conventions, typed errors, state_dict round trips, deep copies and dropout.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/samples.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

using Fn = std::function<nb::Tensor(const std::vector<nb::Tensor>&)>;

// Analytic gradients of the scalar f at xs (float64) against central differences.
void fd_check(const Fn& f, std::vector<nb::Tensor> xs, double tol = 1e-6) {
  for (auto& x : xs) x = x.astype(nb::float64).detach().requires_grad_();
  f(xs).backward();
  const double h = 1e-6;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    ASSERT_TRUE(xs[i].grad().defined()) << "input " << i;
    std::vector<double> g = xs[i].grad().to_vector<double>(), vals = xs[i].to_vector<double>();
    for (std::size_t j = 0; j < vals.size(); ++j) {
      auto at = [&](double d) {
        nb::NoGradGuard no_grad;
        std::vector<nb::Tensor> ys;
        for (auto& x : xs) ys.push_back(x.detach());
        std::vector<double> v = vals;
        v[j] += d;
        ys[i] = nb::tensor(v, xs[i].shape());
        return f(ys).item<double>();
      };
      double num = (at(h) - at(-h)) / (2 * h);
      EXPECT_NEAR(g[j], num, tol * (1 + std::fabs(num))) << "input " << i << " element " << j;
    }
  }
}

nb::Tensor weighted(const nb::Tensor& out) {
  nb::Tensor w = nb::linspace(0.5, 1.5, out.numel(), nb::float64).reshape(out.shape());
  return (out * w).sum();
}

using nabla::testing::message_of;

}  // namespace

TEST(Attention, FiniteDifferenceGradientsWithFloatMask) {
  nb::manual_seed(1);
  fd_check(
      [](const auto& x) {
        return weighted(nb::scaled_dot_product_attention(x[0], x[1], x[2], x[3]));
      },
      {nb::randn({2, 3, 4}), nb::randn({2, 5, 4}), nb::randn({2, 5, 3}), nb::randn({3, 5})});
}

TEST(Attention, FiniteDifferenceGradientsCausalBoolMaskAndScale) {
  nb::manual_seed(2);
  nb::Tensor keep = nb::rand({4, 4}) > 0.3;
  keep = nb::logical_or(keep,
                        nb::eye(4).astype(nb::bool_));  // the diagonal keeps each causal row alive
  fd_check(
      [&](const auto& x) {
        return weighted(nb::scaled_dot_product_attention(x[0], x[1], x[2], keep, 0.0, true, 0.4));
      },
      {nb::randn({2, 4, 3}), nb::randn({2, 4, 3}), nb::randn({2, 4, 2})});
}

TEST(Attention, SymbolicGradientsUseTheFusedOpsRule) {
  // Placeholders need no gradient, so the fused op is recorded; nb::gradients then runs its VJP.
  auto Q = nb::placeholder("Q", {2, 3, 4}, nb::float64),
       K = nb::placeholder("K", {2, 5, 4}, nb::float64),
       V = nb::placeholder("V", {2, 5, 3}, nb::float64),
       M = nb::placeholder("M", {3, 5}, nb::float64);
  nb::Tensor out = nb::scaled_dot_product_attention(Q, K, V, M, 0.0, true);
  ASSERT_EQ(out.node()->op->name, "scaled_dot_product_attention");
  nb::Tensor W = nb::linspace(0.5, 1.5, 18, nb::float64).reshape({2, 3, 3});
  nb::Function f = nb::compile(nb::gradients((out * W).sum(), {Q, K, V, M}));
  nb::manual_seed(3);
  std::vector<nb::Tensor> xs{nb::randn({2, 3, 4}, nb::float64), nb::randn({2, 5, 4}, nb::float64),
                             nb::randn({2, 5, 3}, nb::float64), nb::randn({3, 5}, nb::float64)};
  std::vector<nb::Tensor> sym = f.run({{"Q", xs[0]}, {"K", xs[1]}, {"V", xs[2]}, {"M", xs[3]}});
  for (auto& x : xs) x.requires_grad_();
  ((nb::scaled_dot_product_attention(xs[0], xs[1], xs[2], xs[3], 0.0, true) * W).sum()).backward();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    std::vector<double> a = sym[i].to_vector<double>(), b = xs[i].grad().to_vector<double>();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 1e-12) << i << " " << j;
  }
}

TEST(Attention, SecondOrderGradients) {
  // h(q) = |d weighted(sdpa(q, k, v)) / dq|^2: its gradient against central differences of h.
  nb::manual_seed(4);
  nb::Tensor k = nb::randn({1, 3, 2}, nb::float64), v = nb::randn({1, 3, 2}, nb::float64);
  auto h = [&](const nb::Tensor& q, bool create_graph) {
    nb::Tensor y = weighted(nb::scaled_dot_product_attention(q, k, v, nb::Tensor(), 0.0, true));
    auto g = nb::gradients(y, {q}, nb::Tensor(), {.create_graph = create_graph});
    return (g[0] * g[0]).sum();
  };
  nb::Tensor q = nb::randn({1, 3, 2}, nb::float64).requires_grad_();
  h(q, true).backward();
  std::vector<double> grad = q.grad().to_vector<double>(), vals = q.to_vector<double>();
  for (std::size_t j = 0; j < vals.size(); ++j) {
    auto at = [&](double d) {
      std::vector<double> v2 = vals;
      v2[j] += d;
      return h(nb::tensor(v2, q.shape()).requires_grad_(), false).item<double>();
    };
    double num = (at(1e-5) - at(-1e-5)) / 2e-5;
    EXPECT_NEAR(grad[j], num, 1e-5 * (1 + std::fabs(num))) << j;
  }
}

TEST(Attention, BoolMaskKeepsTrueAndMatchesAdditiveMask) {
  nb::manual_seed(5);
  nb::Tensor q = nb::randn({2, 3, 4}), k = nb::randn({2, 5, 4}), v = nb::randn({2, 5, 3});
  nb::Tensor keep = nb::rand({3, 5}) > 0.5;
  keep = nb::logical_or(keep, nb::arange(0, 5, 1, nb::int64).reshape({1, 5}) == 0);
  nb::Tensor additive =
      nb::where(keep, nb::zeros({}), nb::full({}, -std::numeric_limits<double>::infinity()));
  std::vector<float> a = nb::scaled_dot_product_attention(q, k, v, keep).to_vector<float>(),
                     b = nb::scaled_dot_product_attention(q, k, v, additive).to_vector<float>();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_FLOAT_EQ(a[i], b[i]);
  // A key masked out everywhere has no influence.
  nb::Tensor only_first = nb::arange(0, 5, 1, nb::int64).reshape({1, 5}) == 0;
  nb::Tensor out = nb::scaled_dot_product_attention(q, k, v, only_first);
  std::vector<float> got = out.to_vector<float>(),
                     v0 = v.slice(1, 0, 1).expand({2, 3, 3}).to_vector<float>();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], v0[i], 1e-6);
}

TEST(Attention, FusedAndComposedPathsAgreeInFloat32) {
  nb::manual_seed(6);
  nb::Tensor q = nb::randn({2, 4, 70, 16}), k = nb::randn({2, 4, 300, 16}),
             v = nb::randn({2, 4, 300, 8});
  nb::Tensor mask = nb::randn({70, 300});
  for (bool causal : {false, true}) {
    nb::Tensor fused;
    {
      nb::NoGradGuard g;
      fused = nb::scaled_dot_product_attention(q, k, v, mask, 0.0, causal);
    }
    nb::Tensor composed =
        nb::scaled_dot_product_attention(q.detach().requires_grad_(), k, v, mask, 0.0, causal);
    std::vector<float> a = fused.to_vector<float>(), b = composed.to_vector<float>();
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5) << i;
  }
}

TEST(Attention, DropoutDropsWeightsAndKeepsTheExpectation) {
  nb::manual_seed(7);
  nb::Tensor q = nb::zeros({1, 4000, 2}), k = nb::zeros({1, 2, 2}), v = nb::ones({1, 2, 1});
  // Uniform weights 0.5 each: with p = 0.5 each output is 0, 1 or 2 (kept weights scaled by 2).
  std::vector<float> out = nb::scaled_dot_product_attention(q, k, v, {}, 0.5).to_vector<float>();
  double mean = 0;
  for (float x : out) {
    EXPECT_TRUE(x == 0 || std::fabs(x - 1) < 1e-6 || std::fabs(x - 2) < 1e-6) << x;
    mean += x / double(out.size());
  }
  EXPECT_NEAR(mean, 1.0, 0.05);
}

TEST(Attention, ErrorsNameTheOpAndShapes) {
  nb::Tensor q = nb::randn({2, 3, 4}), k = nb::randn({2, 5, 4}), v = nb::randn({2, 5, 3});
  EXPECT_THROW(nb::scaled_dot_product_attention(q, nb::randn({2, 5, 6}), v), nb::ShapeError);
  std::string msg = message_of([&] {
    nb::scaled_dot_product_attention(q, nb::randn({2, 5, 6}), v);
  });
  EXPECT_NE(msg.find("[scaled_dot_product_attention]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(2, 5, 6)"), std::string::npos) << msg;
  EXPECT_THROW(nb::scaled_dot_product_attention(q, k, nb::randn({2, 4, 3})), nb::ShapeError);
  EXPECT_THROW(nb::scaled_dot_product_attention(q, nb::randn({3, 5, 4}), nb::randn({3, 5, 3})),
               nb::ShapeError);
  EXPECT_THROW(nb::scaled_dot_product_attention(nb::randn({4}), k, v), nb::ShapeError);
  msg = message_of([&] { nb::scaled_dot_product_attention(q, k, v, nb::randn({4, 5})); });
  EXPECT_NE(msg.find("(4, 5)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(2, 3, 5)"), std::string::npos) << msg;
  EXPECT_THROW(nb::scaled_dot_product_attention(q, k, v, nb::randn({4, 5})), nb::ShapeError);
  EXPECT_THROW(nb::scaled_dot_product_attention(q, k, v, nb::zeros({3, 5}, nb::int64)),
               nb::DTypeError);
  EXPECT_THROW(nb::scaled_dot_product_attention(q.astype(nb::int32), k, v), nb::DTypeError);
  EXPECT_THROW(nb::scaled_dot_product_attention(q.astype(nb::float64), k, v), nb::DTypeError);
  EXPECT_THROW(nb::scaled_dot_product_attention(q, k, v, {}, 1.0), nb::ValueError);
  EXPECT_THROW(nb::scaled_dot_product_attention(nb::Tensor(), k, v), nb::ValueError);
  EXPECT_THROW(nb::scaled_masked_softmax(nb::randn({3}), {}, 1.0, true), nb::ShapeError);
  EXPECT_THROW(nb::scaled_masked_softmax(nb::randn({3, 4}), nb::randn({2, 4})), nb::ShapeError);
  EXPECT_THROW(nb::scaled_masked_softmax(nb::zeros({3, 4}, nb::int64)), nb::DTypeError);
}

TEST(Attention, EmptyAndHalfPrecision) {
  nb::Tensor out = nb::scaled_dot_product_attention(nb::randn({2, 3, 4}), nb::randn({2, 0, 4}),
                                                    nb::randn({2, 0, 5}));
  EXPECT_EQ(out.shape(), (nb::Shape{2, 3, 5}));
  for (float x : out.to_vector<float>()) EXPECT_EQ(x, 0.f);
  nb::manual_seed(8);
  nb::Tensor q = nb::randn({2, 6, 8}), k = nb::randn({2, 7, 8}), v = nb::randn({2, 7, 4});
  std::vector<float> want = nb::scaled_dot_product_attention(q, k, v).to_vector<float>();
  for (nb::DType t : {nb::bfloat16, nb::float16}) {
    nb::Tensor got = nb::scaled_dot_product_attention(q.astype(t), k.astype(t), v.astype(t));
    EXPECT_EQ(got.dtype(), t);
    std::vector<float> g = got.astype(nb::float32).to_vector<float>();
    for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], 0.05);
  }
}

TEST(MultiheadAttention, ParameterLayoutAndErrors) {
  nn::MultiheadAttention m(8, 2);
  auto state = m.state_dict();
  EXPECT_EQ(state.at("in_proj_weight").shape(), (nb::Shape{24, 8}));
  EXPECT_EQ(state.at("in_proj_bias").shape(), (nb::Shape{24}));
  EXPECT_EQ(state.at("out_proj.weight").shape(), (nb::Shape{8, 8}));
  EXPECT_EQ(state.size(), 4u);
  nn::MultiheadAttention c(8, 2, {.bias = false, .kdim = 3, .vdim = 5});
  state = c.state_dict();
  EXPECT_EQ(state.at("k_proj_weight").shape(), (nb::Shape{8, 3}));
  EXPECT_EQ(state.at("v_proj_weight").shape(), (nb::Shape{8, 5}));
  EXPECT_EQ(state.size(), 4u);  // q/k/v_proj_weight and out_proj.weight
  EXPECT_THROW(nn::MultiheadAttention(10, 3), nb::ValueError);
  nb::Tensor x = nb::randn({5, 2, 8});
  EXPECT_THROW(m.forward(nb::randn({5, 2, 7})), nb::ShapeError);
  EXPECT_THROW(m.forward(x, nb::randn({4, 3, 8}), nb::randn({4, 3, 8})), nb::ShapeError);
  std::string msg = message_of([&] { m.forward(x, x, x, nb::zeros({2, 4}, nb::bool_)); });
  EXPECT_NE(msg.find("[MultiheadAttention] key_padding_mask must be (2, 5)"), std::string::npos)
      << msg;
  EXPECT_THROW(m.forward(x, x, x, {}, nb::zeros({5, 4}, nb::bool_)), nb::ShapeError);
  EXPECT_THROW(m.forward(x, x, x, {}, nb::zeros({5, 5}, nb::int64)), nb::DTypeError);
  EXPECT_THROW(m.forward(nb::randn({8})), nb::ShapeError);
}

TEST(MultiheadAttention, CausalFlagMatchesAnExplicitMask) {
  nb::manual_seed(9);
  nn::MultiheadAttention m(8, 2, {.batch_first = true});
  nb::Tensor x = nb::randn({2, 5, 8});
  nb::Tensor upper = nb::triu(nb::ones({5, 5}), 1).astype(nb::bool_);
  nn::AttentionOutput a = m.forward(x, x, x, {}, {}, true, true, true),
                      b = m.forward(x, x, x, {}, upper);
  std::vector<float> va = a.output.to_vector<float>(), vb = b.output.to_vector<float>();
  for (std::size_t i = 0; i < va.size(); ++i) EXPECT_NEAR(va[i], vb[i], 1e-6);
  std::vector<float> w = a.weights.to_vector<float>();  // (2, 5, 5): zero above the diagonal
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = i + 1; j < 5; ++j) EXPECT_EQ(w[std::size_t((n * 5 + i) * 5 + j)], 0.f);
}

TEST(TransformerEncoder, StateDictNamesRoundTripAndDeepCopies) {
  nn::TransformerEncoderLayer layer(16, 4, {.dim_feedforward = 32});
  nn::TransformerEncoder enc(layer, 2, nn::LayerNorm({16}));
  auto state = enc.state_dict();
  for (const char* key :
       {"layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
        "layers.0.self_attn.out_proj.weight", "layers.1.linear1.weight", "layers.1.linear2.bias",
        "layers.1.norm1.weight", "layers.0.norm2.bias", "norm.weight"})
    EXPECT_TRUE(state.count(key)) << key;
  EXPECT_EQ(state.size(), 2 * 12 + 2u);
  // Deep copies: equal initial values, separate storage.
  std::vector<float> a = enc.layers[0]->linear1->weight.to_vector<float>(),
                     b = enc.layers[1]->linear1->weight.to_vector<float>(),
                     c = layer.linear1->weight.to_vector<float>();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  {
    nb::NoGradGuard g;
    enc.layers[0]->linear1->weight.fill_(2.0);
  }
  EXPECT_EQ(enc.layers[1]->linear1->weight.to_vector<float>(), c);
  // Round trip through safetensors into a fresh encoder.
  enc.eval();
  nb::Tensor x = nb::randn({6, 3, 16});
  std::string path = testing::TempDir() + "/encoder.safetensors";
  nb::save_safetensors(path, enc.state_dict());
  nn::TransformerEncoder other(nn::TransformerEncoderLayer(16, 4, {.dim_feedforward = 32}), 2,
                               nn::LayerNorm({16}));
  other.load_state_dict(nb::load_safetensors(path));
  other.eval();
  EXPECT_EQ(enc.forward(x).to_vector<float>(), other.forward(x).to_vector<float>());
}

TEST(TransformerEncoder, DropoutOnlyInTraining) {
  nb::manual_seed(10);
  nn::TransformerEncoderLayer layer(8, 2,
                                    {.dim_feedforward = 16, .dropout = 0.5, .batch_first = true});
  nb::Tensor x = nb::randn({2, 5, 8});
  layer.eval();
  EXPECT_EQ(layer.forward(x).to_vector<float>(), layer.forward(x).to_vector<float>());
  layer.train();
  EXPECT_NE(layer.forward(x).to_vector<float>(), layer.forward(x).to_vector<float>());
  EXPECT_THROW(nn::TransformerEncoderLayer(8, 2, {.activation = "tanh"}), nb::ValueError);
  EXPECT_THROW(layer.forward(nb::randn({2, 5, 6})), nb::ShapeError);
}

TEST(TransformerEncoder, LearnsToCopyAToken) {
  // A tiny classifier must learn to output the first token's class: it needs attention.
  nb::manual_seed(11);
  nn::LearnedPositionalEmbedding pos(6, 16);
  nn::Embedding emb(4, 16);
  nn::TransformerEncoderLayer layer(16, 2,
                                    {.dim_feedforward = 32, .dropout = 0.0, .batch_first = true});
  nn::Linear head(16, 4);
  std::vector<nb::Tensor> params;
  for (nn::Module* m : std::initializer_list<nn::Module*>{&pos, &emb, &layer, &head})
    for (auto& p : m->parameters()) params.push_back(p);
  nb::optim::Adam opt(params, {.lr = 1e-2});
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    nb::Tensor tokens = nb::randint(0, 4, {32, 6});
    nb::Tensor h = layer.forward(pos.forward(emb.forward(tokens)));
    nb::Tensor logits = head.forward(h.slice(1, 5, 6).squeeze(1));
    nb::Tensor loss = nn::cross_entropy(logits, tokens.slice(1, 0, 1).squeeze(1));
    opt.zero_grad();
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<float>();
  }
  EXPECT_LT(last, 0.3 * first) << first << " -> " << last;
}

TEST(PositionalEncoding, SinusoidalTableAndLayouts) {
  nn::SinusoidalPositionalEncoding pe(6, 10, 0.0);
  std::vector<float> t = pe.pe.to_vector<float>();
  EXPECT_FLOAT_EQ(t[1 * 6 + 0], std::sin(1.f));
  EXPECT_FLOAT_EQ(t[1 * 6 + 1], std::cos(1.f));
  EXPECT_NEAR(t[3 * 6 + 2], std::sin(3.0 / std::pow(10000.0, 2.0 / 6)), 1e-6);
  EXPECT_NEAR(t[3 * 6 + 5], std::cos(3.0 / std::pow(10000.0, 4.0 / 6)), 1e-6);
  nb::Tensor x = nb::zeros({2, 4, 6});
  EXPECT_EQ(pe.forward(x).slice(0, 1, 2).squeeze(0).to_vector<float>(),
            pe.pe.slice(0, 0, 4).to_vector<float>());
  nn::SinusoidalPositionalEncoding seq_first(6, 10, 0.0, false);
  EXPECT_EQ(seq_first.forward(nb::zeros({4, 2, 6})).slice(1, 1, 2).squeeze(1).to_vector<float>(),
            pe.pe.slice(0, 0, 4).to_vector<float>());
  EXPECT_THROW(pe.forward(nb::zeros({2, 11, 6})), nb::ShapeError);
  EXPECT_THROW(pe.forward(nb::zeros({2, 4, 5})), nb::ShapeError);
  EXPECT_TRUE(pe.state_dict().count("pe"));
  nn::LearnedPositionalEmbedding lp(10, 6);
  EXPECT_EQ(lp.weight.shape(), (nb::Shape{10, 6}));
  EXPECT_EQ(lp.forward(nb::zeros({4, 6})).to_vector<float>(),
            lp.weight.slice(0, 0, 4).to_vector<float>());
  EXPECT_THROW(lp.forward(nb::zeros({11, 6})), nb::ShapeError);
}
