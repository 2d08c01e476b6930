// Recurrent layers on their own: float64 gradients against central differences (first and
// second order), variable lengths, dropout between layers, parameters and state dicts,
// pad_sequence, and the typed errors of bad input.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <cstdio>
#include <functional>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

std::vector<double> values(const nb::Tensor& t) { return t.to_vector<double>(); }

void expect_close(const nb::Tensor& a, const nb::Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(nb::shape_str(a.shape()), nb::shape_str(b.shape())) << what;
  auto x = values(a), y = values(b);
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(x[i], y[i], tol) << what << " element " << i;
}

// Central differences of loss() along every element of t (float64, in place).
std::vector<double> numeric_grad(nb::Tensor t, const std::function<double()>& loss) {
  nb::NoGradGuard off;
  std::vector<double> g(std::size_t(t.numel()));
  double* p = t.data_ptr<double>();
  for (std::size_t i = 0; i < g.size(); ++i) {
    double keep = p[i];
    p[i] = keep + 1e-6;
    double plus = loss();
    p[i] = keep - 1e-6;
    double minus = loss();
    p[i] = keep;
    g[i] = (plus - minus) / 2e-6;
  }
  return g;
}

void expect_grad(const nb::Tensor& analytic, const std::vector<double>& numeric,
                 const std::string& what) {
  ASSERT_TRUE(analytic.defined()) << what;
  auto a = values(analytic);
  ASSERT_EQ(a.size(), numeric.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], numeric[i], 1e-6 + 1e-5 * std::fabs(numeric[i])) << what << " element " << i;
}

template <class Layer>
void gradient_check(nn::RecurrentOptions o, bool lstm) {
  nb::manual_seed(3);
  Layer m(3, 2, o);
  m.to(nb::float64);
  int64_t dirs = o.bidirectional ? 2 : 1, T = 4, N = 3;
  nb::Tensor x = (o.batch_first ? nb::randn({N, T, 3}) : nb::randn({T, N, 3})).astype(nb::float64);
  nn::RecurrentState init{nb::randn({o.num_layers * dirs, N, 2}).astype(nb::float64), nb::Tensor()};
  if (lstm) init.c = nb::randn({o.num_layers * dirs, N, 2}).astype(nb::float64);
  nb::Tensor lengths = nb::tensor(std::vector<int64_t>{4, 1, 3}, {3});
  nb::Tensor wo = nb::randn(o.batch_first ? nb::Shape{N, T, 2 * dirs} : nb::Shape{T, N, 2 * dirs})
                      .astype(nb::float64);
  nb::Tensor wh = nb::randn({o.num_layers * dirs, N, 2}).astype(nb::float64);
  auto loss = [&]() {
    nn::SequenceOutput out = m.forward(x, init, lengths);
    nb::Tensor l = (out.output * wo).sum() + (out.state.h * wh).sum();
    if (lstm) l = l + (out.state.c * out.state.c).sum();
    return l;
  };
  std::vector<nb::Tensor> wrt{x, init.h};
  if (lstm) wrt.push_back(init.c);
  for (auto& [name, p] : m.named_parameters()) wrt.push_back(p);
  for (nb::Tensor& t : wrt) t.requires_grad_();
  loss().backward();
  for (std::size_t k = 0; k < wrt.size(); ++k)
    expect_grad(wrt[k].grad(), numeric_grad(wrt[k], [&] { return loss().template item<double>(); }),
                "input " + std::to_string(k));
}

}  // namespace

TEST(Recurrent, LstmGradientsMatchCentralDifferences) {
  gradient_check<nn::LSTM>({.num_layers = 2, .bidirectional = true}, true);
}
TEST(Recurrent, GruGradientsMatchCentralDifferences) {
  gradient_check<nn::GRU>({.num_layers = 2, .batch_first = true, .bidirectional = true}, false);
}
TEST(Recurrent, RnnGradientsMatchCentralDifferences) {
  gradient_check<nn::RNN>({.num_layers = 1, .bidirectional = true}, false);
}

TEST(Recurrent, SecondOrderGradientsMatchCentralDifferences) {
  nb::manual_seed(4);
  nn::GRU m(2, 3);
  m.to(nb::float64);
  nb::Tensor x = nb::randn({3, 2, 2}).astype(nb::float64).requires_grad_();
  // f(x) = |d sum(out^2) / dx|^2, whose gradient needs the gradient's own gradient.
  auto f = [&](bool create) {
    nb::Tensor y = m.forward(x);
    nb::Tensor g = nb::gradients((y * y).sum(), {x}, nb::Tensor(), {.create_graph = create})[0];
    return (g * g).sum();
  };
  f(true).backward();
  nb::Tensor analytic = x.grad().clone();
  expect_grad(analytic,
              numeric_grad(x,
                           [&] {
                             nb::EnableGradGuard on;
                             return f(false).item<double>();
                           }),
              "d|grad|^2/dx");
}

TEST(Recurrent, PaddedStepsKeepTheStateAndGiveZeros) {
  nb::manual_seed(5);
  nn::LSTM m(3, 4, {.bidirectional = true});
  nb::Tensor x = nb::randn({5, 2, 3});
  nb::Tensor lengths = nb::tensor(std::vector<int64_t>{5, 2}, {2});
  nn::SequenceOutput all = m.forward(x, {}, lengths);
  // Sequence 1 alone, truncated to its 2 steps, gives the same outputs and final states.
  nn::SequenceOutput one = m.forward(x.slice(0, 0, 2).slice(1, 1, 2), {});
  expect_close(all.output.slice(0, 0, 2).slice(1, 1, 2), one.output, 1e-5, "outputs");
  expect_close(all.state.h.slice(1, 1, 2), one.state.h, 1e-5, "h_n");
  expect_close(all.state.c.slice(1, 1, 2), one.state.c, 1e-5, "c_n");
  for (double v : values(all.output.slice(0, 2, 5).slice(1, 1, 2))) EXPECT_EQ(v, 0.0);
  // Full lengths are the same as no lengths.
  nn::SequenceOutput full = m.forward(x, {}, nb::tensor(std::vector<int64_t>{5, 5}, {2}));
  expect_close(full.output, m.forward(x), 0, "full lengths");
}

TEST(Recurrent, UnbatchedInputIsABatchOfOne) {
  nb::manual_seed(6);
  nn::GRU m(3, 4, {.num_layers = 2});
  nb::Tensor x = nb::randn({5, 3});
  nn::SequenceOutput a = m.forward(x, {});
  nn::SequenceOutput b = m.forward(x.unsqueeze(1), {});
  expect_close(a.output, b.output.squeeze(1), 0, "output");
  expect_close(a.state.h, b.state.h.squeeze(1), 0, "h_n");
  EXPECT_EQ(a.state.h.shape(), (nb::Shape{2, 4}));
}

TEST(Recurrent, DropoutOnlyBetweenLayersAndOnlyInTraining) {
  nb::manual_seed(7);
  nn::LSTM drop(3, 8, {.num_layers = 2, .dropout = 0.5});
  nn::LSTM plain(3, 8, {.num_layers = 2});
  plain.load_state_dict(drop.state_dict());
  nb::Tensor x = nb::randn({4, 2, 3});
  nb::Tensor a = drop.forward(x), b = drop.forward(x);
  EXPECT_NE(values(a), values(b)) << "training mode drops different units each call";
  EXPECT_NE(values(a), values(plain.forward(x)));
  drop.eval();
  expect_close(drop.forward(x), plain.forward(x), 0, "eval mode has no dropout");
  // One layer: nothing between layers, so no dropout even in training (as PyTorch).
  nn::GRU one(3, 8, {.dropout = 0.5});
  expect_close(one.forward(x), one.forward(x), 0, "single layer");
}

TEST(Recurrent, ParametersFollowPyTorch) {
  nn::LSTM m(3, 4, {.num_layers = 2, .bidirectional = true});
  std::vector<std::string> names;
  for (auto& [k, v] : m.named_parameters()) names.push_back(k + nb::shape_str(v.shape()));
  std::vector<std::string> want{"weight_ih_l0(16, 3)",
                                "weight_hh_l0(16, 4)",
                                "bias_ih_l0(16,)",
                                "bias_hh_l0(16,)",
                                "weight_ih_l0_reverse(16, 3)",
                                "weight_hh_l0_reverse(16, 4)",
                                "bias_ih_l0_reverse(16,)",
                                "bias_hh_l0_reverse(16,)",
                                "weight_ih_l1(16, 8)",
                                "weight_hh_l1(16, 4)",
                                "bias_ih_l1(16,)",
                                "bias_hh_l1(16,)",
                                "weight_ih_l1_reverse(16, 8)",
                                "weight_hh_l1_reverse(16, 4)",
                                "bias_ih_l1_reverse(16,)",
                                "bias_hh_l1_reverse(16,)"};
  EXPECT_EQ(names, want);
  for (auto& [k, v] : m.named_parameters()) {
    auto x = values(v);
    for (double e : x) EXPECT_LE(std::fabs(e), 0.5 + 1e-7) << k;  // 1 / sqrt(4)
    EXPECT_GT(*std::max_element(x.begin(), x.end()) - *std::min_element(x.begin(), x.end()), 0.1)
        << k;
  }
  nn::GRUCell cell(3, 5, false);
  EXPECT_EQ(cell.named_parameters().size(), 2u);
  EXPECT_EQ(cell.named_parameters()[0].first, "weight_ih");
  EXPECT_EQ(cell.named_parameters()[0].second.shape(), (nb::Shape{15, 3}));
  EXPECT_EQ(nn::RNN(3, 4, {.num_layers = 3}).parameters().size(), 12u);
  EXPECT_EQ(nn::GRU(3, 4, {.bias = false}).parameters().size(), 2u);
}

TEST(Recurrent, StateDictRoundTrip) {
  nb::manual_seed(8);
  nn::GRU a(3, 4, {.num_layers = 2, .bidirectional = true});
  nn::GRU b(3, 4, {.num_layers = 2, .bidirectional = true});
  std::string path = ::testing::TempDir() + "rnn_state.safetensors";
  nb::save_safetensors(path, a.state_dict());
  b.load_state_dict(nb::load_safetensors(path));
  std::remove(path.c_str());
  nb::Tensor x = nb::randn({5, 2, 3});
  expect_close(a.forward(x), b.forward(x), 0, "loaded");
  nn::GRU other(3, 4, {.num_layers = 1});
  EXPECT_THROW(other.load_state_dict(a.state_dict()), nb::Error);
}

TEST(Recurrent, CellsAreOneStepOfTheLayer) {
  nb::manual_seed(9);
  nn::LSTM layer(3, 4);
  nn::LSTMCell cell(3, 4);
  nb::TensorMap sd;
  for (auto& [k, v] : layer.state_dict()) sd[k.substr(0, k.size() - 3)] = v;  // drop "_l0"
  cell.load_state_dict(sd);
  nb::Tensor x = nb::randn({3, 2, 3});
  nn::SequenceOutput seq = layer.forward(x, {});
  nn::RecurrentState st;
  for (int64_t t = 0; t < 3; ++t) st = cell.forward(x[t], st);
  expect_close(st.h, seq.state.h[0], 1e-6, "h");
  expect_close(st.c, seq.state.c[0], 1e-6, "c");
  EXPECT_EQ(cell.forward(x[0]).shape(), (nb::Shape{2, 4}));
  EXPECT_EQ(cell.forward(x[0][0], {}).h.shape(), (nb::Shape{4}));  // unbatched
}

TEST(Recurrent, PadSequence) {
  std::vector<nb::Tensor> seqs{nb::ones({3, 2}), nb::ones({1, 2}) * 2, nb::ones({2, 2}) * 3};
  nb::Tensor p = nn::pad_sequence(seqs, false, -1);
  EXPECT_EQ(p.shape(), (nb::Shape{3, 3, 2}));
  EXPECT_EQ(values(p.select(1, 1)), (std::vector<double>{2, 2, -1, -1, -1, -1}));
  nb::Tensor q = nn::pad_sequence(seqs, true);
  EXPECT_EQ(q.shape(), (nb::Shape{3, 3, 2}));
  EXPECT_EQ(values(q[2]), (std::vector<double>{3, 3, 3, 3, 0, 0}));
  EXPECT_EQ(values(nn::sequence_lengths(seqs)), (std::vector<double>{3, 1, 2}));
  EXPECT_THROW(nn::pad_sequence({}), nb::ValueError);
  EXPECT_THROW(nn::pad_sequence({nb::ones({2, 2}), nb::ones({2, 3})}), nb::ShapeError);
  EXPECT_THROW(nn::pad_sequence({nb::ones({})}), nb::ShapeError);
}

TEST(Recurrent, Describe) {
  EXPECT_EQ(nn::LSTM(3, 4, {.num_layers = 2, .bidirectional = true}).describe(),
            "LSTM(3, 4, num_layers=2, bidirectional=true)");
  EXPECT_EQ(nn::RNNCell(3, 4, true, "relu").describe(), "RNNCell(3, 4, nonlinearity=relu)");
}

TEST(Recurrent, BadInputThrowsTypedErrors) {
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const nb::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nn::LSTM lstm(3, 4, {.num_layers = 2});
  EXPECT_THROW(lstm.forward(nb::randn({2, 3, 4, 3})), nb::ShapeError);
  EXPECT_THROW(lstm.forward(nb::randn({5, 2, 4})), nb::ShapeError);
  EXPECT_NE(message([&] { lstm.forward(nb::randn({5, 2, 4})); }).find("[LSTM]"), std::string::npos);
  EXPECT_NE(message([&] {
              lstm.forward(nb::randn({5, 2, 4}));
            }).find("(5, 2, 4)"),
            std::string::npos);
  EXPECT_THROW(lstm.forward(nb::ones({5, 2, 3}, nb::int64)), nb::DTypeError);
  nb::Tensor x = nb::randn({5, 2, 3});
  EXPECT_THROW(lstm.forward(x, {nb::zeros({1, 2, 4}), nb::Tensor()}), nb::ShapeError);
  EXPECT_THROW(lstm.forward(x, {nb::Tensor(), nb::zeros({2, 3, 4})}), nb::ShapeError);
  EXPECT_THROW(lstm.forward(x, {}, nb::tensor(std::vector<int64_t>{6, 1}, {2})), nb::ValueError);
  EXPECT_THROW(lstm.forward(x, {}, nb::tensor(std::vector<int64_t>{-1, 1}, {2})), nb::ValueError);
  EXPECT_THROW(lstm.forward(x, {}, nb::tensor(std::vector<int64_t>{1, 1, 1}, {3})), nb::ShapeError);
  EXPECT_THROW(lstm.forward(x, {}, nb::tensor(std::vector<double>{1, 1}, {2})), nb::DTypeError);
  EXPECT_THROW(lstm.forward(x, {nb::zeros({2, 2, 4}, nb::float64), nb::Tensor()}), nb::DTypeError);
  nn::GRU gru(3, 4);
  EXPECT_THROW(gru.forward(x, {nb::zeros({1, 2, 4}), nb::zeros({1, 2, 4})}), nb::ValueError);
  EXPECT_THROW(nn::RNN(3, 4, {.nonlinearity = "sigmoid"}), nb::ValueError);
  EXPECT_NE(message([] { nn::RNN(3, 4, {.nonlinearity = "sigmoid"}); }).find("[RNN]"),
            std::string::npos);
  EXPECT_THROW(nn::RNNCell(3, 4, true, "gelu"), nb::ValueError);
  EXPECT_THROW(nn::LSTM(0, 4), nb::ValueError);
  EXPECT_THROW(nn::GRU(3, 4, {.num_layers = 0}), nb::ValueError);
  EXPECT_THROW(nn::GRU(3, 4, {.dropout = 1.0}), nb::ValueError);
  nn::LSTMCell cell(3, 4);
  EXPECT_THROW(cell.forward(nb::randn({2, 5})), nb::ShapeError);
  EXPECT_THROW(cell.forward(nb::randn({2, 3}), {nb::zeros({3, 4}), nb::Tensor()}), nb::ShapeError);
  EXPECT_THROW(cell.forward(nb::randn({2, 3}), {nb::zeros({2, 4}, nb::float64), nb::Tensor()}),
               nb::DTypeError);
  EXPECT_THROW(nn::GRUCell(3, 4).forward(nb::randn({2, 3}), {nb::zeros({2, 4}), nb::zeros({2, 4})}),
               nb::ValueError);
  EXPECT_THROW(nb::rnn_scan("lstm", nb::zeros({2, 1, 8}), nb::zeros({8, 2}), nb::zeros({1, 2})),
               nb::ValueError);
  EXPECT_THROW(nb::rnn_scan("gru", nb::zeros({2, 1, 8}), nb::zeros({6, 2}), nb::zeros({1, 2})),
               nb::ShapeError);
  EXPECT_THROW(nb::rnn_scan("elman", nb::zeros({2, 1, 2}), nb::zeros({2, 2}), nb::zeros({1, 2})),
               nb::ValueError);
  EXPECT_THROW(nb::rnn_scan("rnn_tanh", nb::zeros({2, 1, 2}, nb::float16),
                            nb::zeros({2, 2}, nb::float16), nb::zeros({1, 2}, nb::float16)),
               nb::DTypeError);
}

TEST(Recurrent, HybridizedEvalMatchesEager) {
  nb::manual_seed(10);
  nn::LSTM m(3, 4, {.num_layers = 2, .bidirectional = true});
  m.eval();
  nb::Tensor x = nb::randn({5, 2, 3});
  nb::Tensor eager = m(x);
  m.hybridize();
  nb::NoGradGuard off;
  // Compiled matmuls by a weight use a pre-packed weight and oneDNN's matmul primitive
  // (docs/symbolic.md): equal to eager sgemm up to float32 rounding, not bit for bit.
  expect_close(m(x), eager, 1e-6, "hybridized");
  EXPECT_EQ(m.hybrid_signatures(), 1u);
}

TEST(Recurrent, Float32MatchesFloat64) {
  nb::manual_seed(11);
  nn::LSTM m(3, 16, {.num_layers = 2});
  nb::Tensor x = nb::randn({20, 4, 3});
  nb::Tensor y32 = m.forward(x);
  m.to(nb::float64);
  expect_close(y32, m.forward(x.astype(nb::float64)), 1e-5, "float32");
}
