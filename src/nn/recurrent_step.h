// One time step of each recurrent cell, shared by the sequence layers and the cells.
#pragma once
#include "nabla/nn/recurrent.h"

namespace nabla::nn::detail {

inline int64_t gate_count(CellKind k) {
  return k == CellKind::lstm ? 4 : k == CellKind::gru ? 3 : 1;
}

// xp: the input projection x W_ih^T + b_ih (N, G*H), plus b_hh for the kinds other than GRU
// (GRU keeps b_hn inside r * (W_hn h + b_hn)). h, c: (N, H). b_hh is only read for GRU.
// Returns h' (and c' for LSTM).
RecurrentState cell_step(CellKind kind, const Tensor& xp, const Tensor& h, const Tensor& c,
                         const Tensor& w_hh, const Tensor& b_hh);

}  // namespace nabla::nn::detail
