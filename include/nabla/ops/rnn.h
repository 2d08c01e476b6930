// The time loop of a recurrent layer as one op (what nn::RNN, nn::LSTM and nn::GRU run; see
// docs/recurrent.md). float32 and float64.
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla {

// Runs one direction of a recurrence over a whole sequence. mode: "rnn_tanh", "rnn_relu",
// "lstm" or "gru", with G = 1, 1, 4, 3 gates.
//   xp   (T, N, G*H)  the input projection x W_ih^T plus the biases: b_ih + b_hh, except that
//                     GRU's b_hn stays apart (it is multiplied by r);
//   w_hh (G*H, H)     PyTorch's weight_hh (gates i, f, g, o for LSTM; r, z, n for GRU);
//   h0   (N, H)       and c0 (N, H) for LSTM only;
//   b_hn (H)          GRU only (undefined: zeros);
//   mask (T, N)       1 where step t is part of sequence n, 0 after its end: those steps keep
//                     the state as it was (undefined: every step counts).
// reverse runs t = T-1 .. 0. Returns Y (S, T, N, H): Y[0][t] is the hidden state after step t;
// LSTM also has the cell state (1) and the gates i, f, g, o after their activations (2..5);
// GRU the gates r, z, n (1..3) and W_hn h + b_hn (4). Saved gates are 0 at masked steps.
Tensor rnn_scan(const std::string& mode, const Tensor& xp, const Tensor& w_hh, const Tensor& h0,
                const Tensor& c0 = Tensor(), const Tensor& b_hn = Tensor(),
                const Tensor& mask = Tensor(), bool reverse = false);
// S of rnn_scan's result for `mode`.
int64_t rnn_scan_sections(const std::string& mode);

}  // namespace nabla
