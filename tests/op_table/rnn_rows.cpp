// Rows for rnn_scan (and, through its gradient, rnn_scan_backward): a float64 reference that
// runs the recurrences of torch.nn.RNN/LSTM/GRU step by step with plain loops.
#include <cmath>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

double sigm(double x) { return 1 / (1 + std::exp(-x)); }

// in: xp (T, N, G*H), w (G*H, H), h0 (N, H), [c0], [b_hn], [mask (T, N)]; out (S, T, N, H).
Ref scan_ref(const std::vector<Ref>& in, const std::string& mode, bool reverse, bool masked) {
  const Ref &xp = in[0], &w = in[1];
  int64_t T = xp.shape[0], N = xp.shape[1], GH = w.shape[0], H = w.shape[1];
  std::size_t next = 3;
  const Ref* c0 = mode == "lstm" ? &in[next++] : nullptr;
  const Ref* b_hn = mode == "gru" ? &in[next++] : nullptr;
  const Ref* mask = masked ? &in[next++] : nullptr;
  int64_t S = mode == "lstm" ? 6 : mode == "gru" ? 5 : 1;
  Ref y{{S, T, N, H}, std::vector<double>(std::size_t(S * T * N * H), 0.0)};
  auto at = [&](int64_t s, int64_t t, int64_t n, int64_t j) -> double& {
    return y.v[std::size_t(((s * T + t) * N + n) * H + j)];
  };
  std::vector<double> h(in[2].v), c(c0 ? c0->v : std::vector<double>());
  for (int64_t step = 0; step < T; ++step) {
    int64_t t = reverse ? T - 1 - step : step;
    std::vector<double> hn = h, cn = c;
    for (int64_t n = 0; n < N; ++n) {
      bool on = !mask || mask->at({t, n}) != 0;
      std::vector<double> pre(static_cast<std::size_t>(GH));
      for (int64_t g = 0; g < GH; ++g) {
        double s = 0;
        for (int64_t k = 0; k < H; ++k) s += w.at({g, k}) * h[std::size_t(n * H + k)];
        pre[std::size_t(g)] = s;
      }
      for (int64_t j = 0; j < H; ++j) {
        std::size_t nj = std::size_t(n * H + j);
        auto x = [&](int64_t gate) { return xp.at({t, n, gate * H + j}); };
        auto p = [&](int64_t gate) { return pre[std::size_t(gate * H + j)]; };
        std::vector<double> acts;
        double hv = 0;
        if (mode == "rnn_tanh") {
          hv = std::tanh(x(0) + p(0));
        } else if (mode == "rnn_relu") {
          hv = std::max(0.0, x(0) + p(0));
        } else if (mode == "lstm") {
          double i = sigm(x(0) + p(0)), f = sigm(x(1) + p(1)), g = std::tanh(x(2) + p(2)),
                 o = sigm(x(3) + p(3));
          double cv = f * c[nj] + i * g;
          hv = o * std::tanh(cv);
          if (on) cn[nj] = cv;
          acts = {i, f, g, o};
        } else {
          double r = sigm(x(0) + p(0)), z = sigm(x(1) + p(1)), bn = p(2) + b_hn->v[std::size_t(j)];
          double nv = std::tanh(x(2) + r * bn);
          hv = (1 - z) * nv + z * h[nj];
          acts = {r, z, nv, bn};
        }
        if (on) hn[nj] = hv;
        int64_t s = 0;
        at(s++, t, n, j) = hn[nj];
        if (mode == "lstm") at(s++, t, n, j) = cn[nj];
        for (double a : acts) at(s++, t, n, j) = on ? a : 0.0;
      }
    }
    h = hn;
    c = cn;
  }
  return y;
}

int64_t gate_count(const std::string& mode) { return mode == "lstm" ? 4 : mode == "gru" ? 3 : 1; }

// xp, w_hh, h0, [c0], [b_hn], [mask]; the non-contiguous flag goes to xp.
std::vector<Arg> sample(const std::string& mode, bool masked, int64_t T, int64_t N, int64_t H,
                        bool nc = false) {
  int64_t G = gate_count(mode);
  std::vector<Arg> a{Arg{.shape = {T, N, G * H}, .non_contiguous = nc},
                     Arg{.shape = {G * H, H}, .lo = -1, .hi = 1}, Arg{.shape = {N, H}}};
  if (mode == "lstm") a.push_back(Arg{.shape = {N, H}});
  if (mode == "gru") a.push_back(Arg{.shape = {H}});
  if (masked)
    a.push_back(
        Arg{.shape = {T, N}, .lo = 0, .hi = 2, .integer_values = true, .differentiable = false});
  return a;
}

Row scan_row(const std::string& mode, bool reverse, bool masked) {
  std::string variant = mode + (reverse ? "_reverse" : "") + (masked ? "_masked" : "");
  return Row{
      .op = "rnn_scan",
      .variant = variant,
      .samples = {sample(mode, masked, 3, 2, 2), sample(mode, masked, 2, 3, 2, true),
                  sample(mode, masked, 0, 2, 3), sample(mode, masked, 1, 1, 1),
                  sample(mode, masked, 5, 16, 24)},
      .run =
          [=](const std::vector<Tensor>& in) {
            std::size_t next = 3;
            Tensor c0 = mode == "lstm" ? in[next++] : Tensor();
            Tensor b_hn = mode == "gru" ? in[next++] : Tensor();
            Tensor mask = masked ? in[next++] : Tensor();
            return rnn_scan(mode, in[0], in[1], in[2], c0, b_hn, mask, reverse);
          },
      .ref = [=](const std::vector<Ref>& in) { return scan_ref(in, mode, reverse, masked); },
      .second_order = mode == "lstm" && masked,
      .also_covers = {"rnn_scan_backward"},
  };
}

}  // namespace

NABLA_OP_ROWS(scan_row("rnn_tanh", false, false), scan_row("rnn_relu", true, false),
              scan_row("rnn_tanh", false, true), scan_row("lstm", false, false),
              scan_row("lstm", true, true), scan_row("gru", false, false),
              scan_row("gru", true, true));

}  // namespace nabla::optable
