// Recurrent layers and cells against PyTorch (tests/torch/rnn_reference.py, run live with
// Debian's python3-torch; skipped where it is not installed): the same weights and inputs must
// give the same outputs, final states and gradients for the inputs, states and parameters.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

namespace nb = nabla;
namespace nn = nabla::nn;
using nlohmann::json;

namespace {

json reference() {
  static json ref = nabla::testing::torch_reference("rnn_reference.py");
  return ref;
}

nb::Tensor from_json(const json& j) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  auto data = j["data"].get<std::vector<double>>();
  return nb::tensor(data, nb::Shape(shape.begin(), shape.end()));
}

void expect_near(const nb::Tensor& got, const json& want, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what << " is undefined";
  nb::Tensor w = from_json(want);
  ASSERT_EQ(nb::shape_str(got.shape()), nb::shape_str(w.shape())) << what;
  auto g = got.to_vector<double>(), v = w.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], v[i], 1e-10 + 1e-8 * std::fabs(v[i])) << what << " element " << i;
}

void load(nn::Module& m, const json& c) {
  m.to(nb::float64);
  nb::TensorMap sd;
  for (auto& [k, v] : c["params"].items()) sd[k] = from_json(v);
  m.load_state_dict(sd);
}

void check_grads(nn::Module& m, const json& c, const std::string& name) {
  for (auto& [k, p] : m.named_parameters()) {
    ASSERT_TRUE(c["grads"].contains(k)) << name << ": PyTorch has no parameter " << k;
    expect_near(p.grad(), c["grads"][k], name + " gradient of " + k);
  }
}

template <class Layer>
void check_layer(const std::string& name) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& c = ref.at(name);
  nn::RecurrentOptions o{.num_layers = c["num_layers"].get<int64_t>(),
                         .bias = c["bias"].get<bool>(),
                         .batch_first = c["batch_first"].get<bool>(),
                         .bidirectional = c["bidirectional"].get<bool>(),
                         .nonlinearity = c["nonlinearity"].get<std::string>()};
  Layer m(c["input_size"].get<int64_t>(), c["hidden_size"].get<int64_t>(), o);
  load(m, c);
  nb::Tensor x = from_json(c["x"]).requires_grad_();
  nn::RecurrentState init;
  if (c.contains("h0")) init.h = from_json(c["h0"]).requires_grad_();
  if (c.contains("c0")) init.c = from_json(c["c0"]).requires_grad_();
  nb::Tensor lengths;
  if (c.contains("lengths")) {
    auto v = c["lengths"].get<std::vector<int64_t>>();
    lengths = nb::tensor(v, {int64_t(v.size())});
  }
  nn::SequenceOutput out = m.forward(x, init, lengths);
  expect_near(out.output, c["output"], name + " output");
  expect_near(out.state.h, c["h_n"], name + " h_n");
  nb::Tensor loss =
      (out.output * from_json(c["w_out"])).sum() + (out.state.h * from_json(c["w_h"])).sum();
  if (c.contains("c_n")) {
    expect_near(out.state.c, c["c_n"], name + " c_n");
    loss = loss + (out.state.c * from_json(c["w_c"])).sum();
  } else {
    EXPECT_FALSE(out.state.c.defined()) << name;
  }
  loss.backward();
  expect_near(x.grad(), c["grad_x"], name + " grad x");
  if (init.h.defined()) expect_near(init.h.grad(), c["grad_h0"], name + " grad h0");
  if (init.c.defined()) expect_near(init.c.grad(), c["grad_c0"], name + " grad c0");
  check_grads(m, c, name);
}

template <class Cell>
void check_cell(const std::string& name, Cell m) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& c = ref.at(name);
  load(m, c);
  nb::Tensor x = from_json(c["x"]).requires_grad_();
  nn::RecurrentState st{from_json(c["h0"]).requires_grad_(), nb::Tensor()};
  if (c.contains("c0")) st.c = from_json(c["c0"]).requires_grad_();
  nn::RecurrentState out = m.forward(x, st);
  expect_near(out.h, c["h_n"], name + " h");
  nb::Tensor loss = (out.h * from_json(c["w_h"])).sum();
  if (c.contains("c_n")) {
    expect_near(out.c, c["c_n"], name + " c");
    loss = loss + (out.c * from_json(c["w_c"])).sum();
  }
  loss.backward();
  expect_near(x.grad(), c["grad_x"], name + " grad x");
  expect_near(st.h.grad(), c["grad_h0"], name + " grad h0");
  if (st.c.defined()) expect_near(st.c.grad(), c["grad_c0"], name + " grad c0");
  check_grads(m, c, name);
}

}  // namespace

TEST(RecurrentTorch, RnnTanh) { check_layer<nn::RNN>("rnn_tanh"); }
TEST(RecurrentTorch, RnnRelu2Layers) { check_layer<nn::RNN>("rnn_relu_2layers"); }
TEST(RecurrentTorch, Lstm) { check_layer<nn::LSTM>("lstm"); }
TEST(RecurrentTorch, Lstm2Layers) { check_layer<nn::LSTM>("lstm_2layers"); }
TEST(RecurrentTorch, Gru2Layers) { check_layer<nn::GRU>("gru_2layers"); }
TEST(RecurrentTorch, LstmNoBias) { check_layer<nn::LSTM>("lstm_no_bias"); }
TEST(RecurrentTorch, LstmBidirectionalBatchFirstInitialState) {
  check_layer<nn::LSTM>("lstm_bidir_batch_first_initial");
}
TEST(RecurrentTorch, GruBidirectionalInitialState) { check_layer<nn::GRU>("gru_bidir_initial"); }
TEST(RecurrentTorch, RnnBidirectionalInitialState) { check_layer<nn::RNN>("rnn_bidir_initial"); }
TEST(RecurrentTorch, LstmLengthsBidirectional) { check_layer<nn::LSTM>("lstm_lengths_bidir"); }
TEST(RecurrentTorch, GruLengthsBatchFirst) { check_layer<nn::GRU>("gru_lengths_batch_first"); }
TEST(RecurrentTorch, RnnLengths) { check_layer<nn::RNN>("rnn_lengths"); }
TEST(RecurrentTorch, LstmCell) { check_cell("lstm_cell", nn::LSTMCell(5, 4)); }
TEST(RecurrentTorch, GruCell) { check_cell("gru_cell", nn::GRUCell(5, 4)); }
TEST(RecurrentTorch, RnnCellRelu) { check_cell("rnn_cell_relu", nn::RNNCell(5, 4, true, "relu")); }
