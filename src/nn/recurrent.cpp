// The recurrent layers and cells: argument checks, PyTorch's parameters, and per layer and
// direction one input-projection matmul plus one rnn_scan (docs/recurrent.md).
#include "nabla/nn/recurrent.h"

#include <cmath>

#include "nabla/nabla.h"
#include "nabla/nn/init.h"
#include "nabla/ops/rnn.h"

namespace nabla::nn {
namespace detail {

CellKind rnn_kind(const char* layer, const std::string& nonlinearity) {
  if (nonlinearity == "tanh") return CellKind::rnn_tanh;
  if (nonlinearity == "relu") return CellKind::rnn_relu;
  throw ValueError(std::string("[") + layer +
                   "] nonlinearity must be \"tanh\" or \"relu\", got \"" + nonlinearity + "\"");
}

namespace {

std::string str(int64_t v) { return std::to_string(v); }

void check_sizes(const char* layer, int64_t input_size, int64_t hidden_size) {
  if (input_size <= 0 || hidden_size <= 0)
    throw ValueError(std::string("[") + layer +
                     "] input_size and hidden_size must be positive, got " + str(input_size) +
                     " and " + str(hidden_size));
}

// torch.nn's RNNBase.reset_parameters: every weight and bias uniform(-1/sqrt(H), 1/sqrt(H)).
void init_uniform(Tensor& t, int64_t hidden) {
  double k = 1 / std::sqrt(double(hidden));
  init::uniform_(t, -k, k);
}

// The state tensor `s` (layers*dirs, N, H) of `what`, or zeros.
Tensor state_or_zeros(const char* layer, const char* what, const Tensor& s, const Shape& want,
                      DType dtype) {
  if (!s.defined()) return zeros(want, dtype);
  if (s.shape() != want)
    throw ShapeError(std::string("[") + layer + "] expects initial state " + what + " of shape " +
                     shape_str(want) + ", got " + shape_str(s.shape()));
  if (s.dtype() != dtype)
    throw DTypeError(std::string("[") + layer + "] expects initial state " + what + " of dtype " +
                     std::string(dtype_name(dtype)) + " like the input, got " +
                     std::string(dtype_name(s.dtype())));
  return s;
}

int64_t gate_count(CellKind k) { return k == CellKind::lstm ? 4 : k == CellKind::gru ? 3 : 1; }

const char* mode_name(CellKind k) {
  switch (k) {
    case CellKind::rnn_tanh:
      return "rnn_tanh";
    case CellKind::rnn_relu:
      return "rnn_relu";
    case CellKind::lstm:
      return "lstm";
    case CellKind::gru:
      return "gru";
  }
  return "";
}

// x (T*N, C) -> (T, N, G*H) projection with the biases rnn_scan expects folded in, and GRU's b_hn.
struct Projection {
  Tensor xp, b_hn;
};
Projection project(CellKind kind, const Tensor& x, int64_t T, int64_t N, const Tensor& w_ih,
                   const Tensor& b_ih, const Tensor& b_hh) {
  Tensor xp = matmul(x, w_ih.t());
  Tensor b_hn;
  if (b_ih.defined()) {
    if (kind == CellKind::gru) {
      int64_t H = w_ih.size(0) / 3;
      xp = xp +
           concat({b_ih.slice(0, 0, 2 * H) + b_hh.slice(0, 0, 2 * H), b_ih.slice(0, 2 * H, 3 * H)},
                  0);
      b_hn = b_hh.slice(0, 2 * H, 3 * H);
    } else {
      xp = xp + (b_ih + b_hh);
    }
  }
  return {xp.reshape({T, N, w_ih.size(0)}), b_hn};
}

}  // namespace

RecurrentBase::RecurrentBase(const char* name, CellKind kind, int64_t input_size,
                             int64_t hidden_size, RecurrentOptions o)
    : name_(name),
      kind_(kind),
      input_size_(input_size),
      hidden_size_(hidden_size),
      options_(std::move(o)) {
  check_sizes(name, input_size, hidden_size);
  if (options_.num_layers <= 0)
    throw ValueError(std::string("[") + name + "] num_layers must be positive, got " +
                     str(options_.num_layers));
  if (!(options_.dropout >= 0 && options_.dropout < 1))
    throw ValueError(std::string("[") + name + "] dropout must be in [0, 1), got " +
                     std::to_string(options_.dropout));
  int64_t dirs = options_.bidirectional ? 2 : 1, G = gate_count(kind) * hidden_size;
  for (int64_t l = 0; l < options_.num_layers; ++l) {
    for (int64_t d = 0; d < dirs; ++d) {
      std::string sfx = "_l" + str(l) + (d ? "_reverse" : "");
      int64_t in = l == 0 ? input_size : hidden_size * dirs;
      std::array<Tensor, 4> w;
      w[0] = register_parameter("weight_ih" + sfx, empty({G, in}));
      w[1] = register_parameter("weight_hh" + sfx, empty({G, hidden_size}));
      if (options_.bias) {
        w[2] = register_parameter("bias_ih" + sfx, empty({G}));
        w[3] = register_parameter("bias_hh" + sfx, empty({G}));
      }
      for (Tensor& t : w)
        if (t.defined()) init_uniform(t, hidden_size);
      weights_.push_back(w);
    }
  }
}

Tensor RecurrentBase::forward(const Tensor& x) { return forward(x, {}, Tensor()).output; }

SequenceOutput RecurrentBase::forward(const Tensor& x_in, const RecurrentState& initial,
                                      const Tensor& lengths) {
  const char* L = name_;
  if (x_in.ndim() != 3 && x_in.ndim() != 2)
    throw ShapeError(std::string("[") + L + "] expects input (T, N, " + str(input_size_) + ")" +
                     (options_.batch_first ? " with batch_first (N, T, C)" : "") +
                     " or unbatched (T, C), got " + shape_str(x_in.shape()));
  if (x_in.size(-1) != input_size_)
    throw ShapeError(std::string("[") + L + "] expects input_size " + str(input_size_) +
                     " in the last dim, got " + shape_str(x_in.shape()));
  if (!is_floating(x_in.dtype()))
    throw DTypeError(std::string("[") + L + "] expects a floating input, got " +
                     std::string(dtype_name(x_in.dtype())));
  bool unbatched = x_in.ndim() == 2;
  Tensor xs = unbatched ? x_in.unsqueeze(1) : options_.batch_first ? x_in.transpose(0, 1) : x_in;
  int64_t T = xs.size(0), N = xs.size(1), H = hidden_size_, dirs = options_.bidirectional ? 2 : 1;
  int64_t layers = options_.num_layers;
  DType dt = x_in.dtype();

  auto state_in = [&](const Tensor& s, const char* what) {
    Tensor t = s;
    if (unbatched && t.defined()) {
      if (t.ndim() != 2)
        throw ShapeError(std::string("[") + L + "] expects initial state " + what + " of shape " +
                         shape_str({layers * dirs, H}) + " for an unbatched input, got " +
                         shape_str(t.shape()));
      t = t.unsqueeze(1);
    }
    return state_or_zeros(L, what, t, {layers * dirs, N, H}, dt);
  };
  Tensor h0 = state_in(initial.h, "h");
  Tensor c0;
  if (kind_ == CellKind::lstm)
    c0 = state_in(initial.c, "c");
  else if (initial.c.defined())
    throw ValueError(std::string("[") + L + "] has no cell state: pass only RecurrentState::h");

  // mask (T, N): 1 where step t is inside sequence n.
  Tensor mask;
  if (lengths.defined()) {
    if (lengths.dtype() != int64)
      throw DTypeError(std::string("[") + L + "] expects int64 lengths, got " +
                       std::string(dtype_name(lengths.dtype())));
    if (lengths.ndim() != 1 || lengths.size(0) != N)
      throw ShapeError(std::string("[") + L + "] expects lengths of shape (" + str(N) + "), got " +
                       shape_str(lengths.shape()));
    for (int64_t v : lengths.to_vector<int64_t>())
      if (v < 0 || v > T)
        throw ValueError(std::string("[") + L + "] lengths must be in [0, " + str(T) +
                         "] for input " + shape_str(x_in.shape()) + ", got " + str(v));
    mask = (arange(T).unsqueeze(1) < lengths.unsqueeze(0)).astype(dt);
  }

  Tensor layer_in = xs;
  std::vector<Tensor> h_out, c_out;
  for (int64_t l = 0; l < layers; ++l) {
    std::vector<Tensor> dir_out;
    for (int64_t d = 0; d < dirs; ++d) {
      const auto& [w_ih, w_hh, b_ih, b_hh] = weights_[l * dirs + d];
      // One matmul projects the inputs of every step; rnn_scan runs the time loop.
      Projection p =
          project(kind_, layer_in.reshape({T * N, layer_in.size(2)}), T, N, w_ih, b_ih, b_hh);
      Tensor h = h0[l * dirs + d], c = c0.defined() ? c0[l * dirs + d] : Tensor();
      Tensor y = rnn_scan(mode_name(kind_), p.xp, w_hh, h, c, p.b_hn, mask, d == 1);
      Tensor hs = y.select(0, 0);
      int64_t last = d == 1 ? 0 : T - 1;
      h_out.push_back(T ? hs.select(0, last) : h);
      if (c.defined()) c_out.push_back(T ? y.select(0, 1).select(0, last) : c);
      dir_out.push_back(mask.defined() ? hs * mask.unsqueeze(2) : hs);
    }
    layer_in = dirs == 2 ? concat(dir_out, 2) : dir_out[0];
    if (l + 1 < layers && is_training() && options_.dropout > 0) {
      double p = options_.dropout;
      layer_in = layer_in * bernoulli(1 - p, layer_in.shape(), dt) * (1 / (1 - p));
    }
  }
  SequenceOutput out;
  out.output = unbatched              ? layer_in.squeeze(1)
               : options_.batch_first ? layer_in.transpose(0, 1)
                                      : layer_in;
  out.state.h = stack(h_out, 0);
  if (!c_out.empty()) out.state.c = stack(c_out, 0);
  if (unbatched) {
    out.state.h = out.state.h.squeeze(1);
    if (out.state.c.defined()) out.state.c = out.state.c.squeeze(1);
  }
  return out;
}

std::string RecurrentBase::describe() const {
  std::string s = std::string(name_) + "(" + str(input_size_) + ", " + str(hidden_size_);
  if (options_.num_layers != 1) s += ", num_layers=" + str(options_.num_layers);
  if (!options_.bias) s += ", bias=false";
  if (options_.batch_first) s += ", batch_first=true";
  if (options_.dropout > 0) s += ", dropout=" + std::to_string(options_.dropout).substr(0, 4);
  if (options_.bidirectional) s += ", bidirectional=true";
  if (kind_ == CellKind::rnn_relu) s += ", nonlinearity=relu";
  return s + ")";
}

CellBase::CellBase(const char* name, CellKind kind, int64_t input_size, int64_t hidden_size,
                   bool bias)
    : name_(name), kind_(kind), input_size_(input_size), hidden_size_(hidden_size) {
  check_sizes(name, input_size, hidden_size);
  int64_t G = gate_count(kind) * hidden_size;
  w_ih_ = register_parameter("weight_ih", empty({G, input_size}));
  w_hh_ = register_parameter("weight_hh", empty({G, hidden_size}));
  if (bias) {
    b_ih_ = register_parameter("bias_ih", empty({G}));
    b_hh_ = register_parameter("bias_hh", empty({G}));
  }
  for (Tensor* t : {&w_ih_, &w_hh_, &b_ih_, &b_hh_})
    if (t->defined()) init_uniform(*t, hidden_size);
}

Tensor CellBase::forward(const Tensor& x) { return forward(x, {}).h; }

RecurrentState CellBase::forward(const Tensor& x_in, const RecurrentState& state) {
  const char* L = name_;
  if ((x_in.ndim() != 2 && x_in.ndim() != 1) || x_in.size(-1) != input_size_)
    throw ShapeError(std::string("[") + L + "] expects input (N, " + str(input_size_) + ") or (" +
                     str(input_size_) + "), got " + shape_str(x_in.shape()));
  if (!is_floating(x_in.dtype()))
    throw DTypeError(std::string("[") + L + "] expects a floating input, got " +
                     std::string(dtype_name(x_in.dtype())));
  bool unbatched = x_in.ndim() == 1;
  Tensor x = unbatched ? x_in.unsqueeze(0) : x_in;
  int64_t N = x.size(0), H = hidden_size_;
  auto st = [&](const Tensor& s, const char* what) {
    if (!s.defined()) return zeros({N, H}, x.dtype());
    Shape want = unbatched ? Shape{H} : Shape{N, H};
    if (s.shape() != want)
      throw ShapeError(std::string("[") + L + "] expects state " + what + " of shape " +
                       shape_str(want) + ", got " + shape_str(s.shape()));
    if (s.dtype() != x.dtype())
      throw DTypeError(std::string("[") + L + "] expects state " + what + " of dtype " +
                       std::string(dtype_name(x.dtype())) + " like the input, got " +
                       std::string(dtype_name(s.dtype())));
    return unbatched ? s.unsqueeze(0) : s;
  };
  Tensor h = st(state.h, "h"), c;
  if (kind_ == CellKind::lstm)
    c = st(state.c, "c");
  else if (state.c.defined())
    throw ValueError(std::string("[") + L + "] has no cell state: pass only RecurrentState::h");
  // One step of the sequence op.
  Projection p = project(kind_, x, 1, N, w_ih_, b_ih_, b_hh_);
  Tensor y = rnn_scan(mode_name(kind_), p.xp, w_hh_, h, c, p.b_hn);
  RecurrentState out{y.select(0, 0).select(0, 0),
                     c.defined() ? y.select(0, 1).select(0, 0) : Tensor()};
  if (unbatched) {
    out.h = out.h.squeeze(0);
    if (out.c.defined()) out.c = out.c.squeeze(0);
  }
  return out;
}

std::string CellBase::describe() const {
  std::string s = std::string(name_) + "(" + str(input_size_) + ", " + str(hidden_size_);
  if (!b_ih_.defined()) s += ", bias=false";
  if (kind_ == CellKind::rnn_relu) s += ", nonlinearity=relu";
  return s + ")";
}

}  // namespace detail

RNN::RNN(int64_t input_size, int64_t hidden_size, RecurrentOptions options)
    : RecurrentBase("RNN", detail::rnn_kind("RNN", options.nonlinearity), input_size, hidden_size,
                    options) {}
LSTM::LSTM(int64_t input_size, int64_t hidden_size, RecurrentOptions options)
    : RecurrentBase("LSTM", detail::CellKind::lstm, input_size, hidden_size, options) {}
GRU::GRU(int64_t input_size, int64_t hidden_size, RecurrentOptions options)
    : RecurrentBase("GRU", detail::CellKind::gru, input_size, hidden_size, options) {}

RNNCell::RNNCell(int64_t input_size, int64_t hidden_size, bool bias,
                 const std::string& nonlinearity)
    : CellBase("RNNCell", detail::rnn_kind("RNNCell", nonlinearity), input_size, hidden_size,
               bias) {}
LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, bool bias)
    : CellBase("LSTMCell", detail::CellKind::lstm, input_size, hidden_size, bias) {}
GRUCell::GRUCell(int64_t input_size, int64_t hidden_size, bool bias)
    : CellBase("GRUCell", detail::CellKind::gru, input_size, hidden_size, bias) {}

Tensor pad_sequence(const std::vector<Tensor>& seqs, bool batch_first, double padding_value) {
  if (seqs.empty()) throw ValueError("[pad_sequence] needs at least one sequence");
  Shape rest(seqs[0].shape().begin() + (seqs[0].ndim() ? 1 : 0), seqs[0].shape().end());
  int64_t T = 0;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const Tensor& s = seqs[i];
    Shape r(s.shape().begin() + (s.ndim() ? 1 : 0), s.shape().end());
    if (s.ndim() == 0 || r != rest || s.dtype() != seqs[0].dtype())
      throw ShapeError(
          "[pad_sequence] sequences must be (T_i, *) with the same trailing dims and dtype: "
          "sequence 0 is " +
          shape_str(seqs[0].shape()) + " " + std::string(dtype_name(seqs[0].dtype())) +
          ", sequence " + std::to_string(i) + " is " + shape_str(s.shape()) + " " +
          std::string(dtype_name(s.dtype())));
    T = std::max(T, s.size(0));
  }
  std::vector<Tensor> padded;
  for (const Tensor& s : seqs) {
    if (s.size(0) == T) {
      padded.push_back(s);
      continue;
    }
    Shape fill_shape = s.shape();
    fill_shape[0] = T - s.size(0);
    padded.push_back(concat({s, full(fill_shape, padding_value, s.dtype())}, 0));
  }
  return stack(padded, batch_first ? 0 : 1);
}

Tensor sequence_lengths(const std::vector<Tensor>& seqs) {
  std::vector<int64_t> v;
  for (const Tensor& s : seqs) {
    if (s.ndim() == 0)
      throw ShapeError("[sequence_lengths] sequences must have a time dim, got a 0-d tensor");
    v.push_back(s.size(0));
  }
  return tensor(v, {int64_t(v.size())});
}

}  // namespace nabla::nn
