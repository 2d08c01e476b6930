// Recurrent layers: RNN (tanh/relu), LSTM, GRU over whole sequences, their single-step cells,
// and pad_sequence. Parameter names, shapes, gate order and initialisation are torch.nn's, so
// a PyTorch state_dict loads as is (docs/recurrent.md).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "nabla/nn/module.h"

namespace nabla::nn {

struct RecurrentOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;  // (N, T, C) instead of (T, N, C)
  double dropout = 0.0;      // on the outputs of every layer but the last, training mode only
  bool bidirectional = false;
  std::string nonlinearity = "tanh";  // RNN only: "tanh" | "relu"
};

// h (and c for LSTM): (num_layers * directions, N, H), layer-major, forward direction first.
// An undefined tensor stands for zeros.
struct RecurrentState {
  Tensor h;
  Tensor c;
};

struct SequenceOutput {
  Tensor output;  // (T, N, directions * H), or (N, T, directions * H) when batch_first
  RecurrentState state;
};

namespace detail {
enum class CellKind { rnn_tanh, rnn_relu, lstm, gru };

// The common machinery of RNN, LSTM and GRU: parameters weight_ih_l{k}[_reverse],
// weight_hh_l{k}[_reverse], bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse].
class RecurrentBase : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  // lengths: int64 (N,) valid steps per sequence, 0 <= length <= T; the steps after a
  // sequence's length leave its state unchanged and give zero outputs (PyTorch's packed
  // sequences). Undefined: every sequence has T steps.
  SequenceOutput forward(const Tensor& x, const RecurrentState& initial,
                         const Tensor& lengths = Tensor());
  std::string describe() const override;
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const RecurrentOptions& options() const { return options_; }

 protected:
  RecurrentBase(const char* name, CellKind kind, int64_t input_size, int64_t hidden_size,
                RecurrentOptions options);

 private:
  const char* name_;
  CellKind kind_;
  int64_t input_size_, hidden_size_;
  RecurrentOptions options_;
  // Per layer and direction (index layer * dirs + dir): w_ih, w_hh, b_ih, b_hh.
  std::vector<std::array<Tensor, 4>> weights_;
};
}  // namespace detail

// Elman RNN: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.
class RNN : public detail::RecurrentBase {
 public:
  RNN(int64_t input_size, int64_t hidden_size, RecurrentOptions options = {});
  using RecurrentBase::forward;
};

// LSTM with gates i, f, g, o (in that order in the stacked weights).
class LSTM : public detail::RecurrentBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, RecurrentOptions options = {});
  using RecurrentBase::forward;
};

// GRU with gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h.
class GRU : public detail::RecurrentBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, RecurrentOptions options = {});
  using RecurrentBase::forward;
};

namespace detail {
// One step of a cell: parameters weight_ih, weight_hh, bias_ih, bias_hh.
class CellBase : public Module {
 public:
  Tensor forward(const Tensor& x) override;  // h' from a zero state
  // x (N, C) or (C); h and c (N, H) or (H) (undefined: zeros). Returns h' [and c' for LSTM].
  RecurrentState forward(const Tensor& x, const RecurrentState& state);
  std::string describe() const override;

 protected:
  CellBase(const char* name, CellKind kind, int64_t input_size, int64_t hidden_size, bool bias);

 private:
  const char* name_;
  CellKind kind_;
  int64_t input_size_, hidden_size_;
  Tensor w_ih_, w_hh_, b_ih_, b_hh_;
};
}  // namespace detail

class RNNCell : public detail::CellBase {
 public:
  RNNCell(int64_t input_size, int64_t hidden_size, bool bias = true,
          const std::string& nonlinearity = "tanh");
  using CellBase::forward;
};

class LSTMCell : public detail::CellBase {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  using CellBase::forward;
};

class GRUCell : public detail::CellBase {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  using CellBase::forward;
};

// Stacks variable-length sequences (T_i, *) into (T_max, N, *), or (N, T_max, *) with
// batch_first, filling the missing steps with padding_value (torch.nn.utils.rnn.pad_sequence).
Tensor pad_sequence(const std::vector<Tensor>& sequences, bool batch_first = false,
                    double padding_value = 0.0);
// The int64 (N,) lengths of the sequences, for the lengths argument of the recurrent layers.
Tensor sequence_lengths(const std::vector<Tensor>& sequences);

}  // namespace nabla::nn
