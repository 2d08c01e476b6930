// rnn_scan: the whole time loop of one recurrent layer direction as one op, so that autograd
// sees one node per layer instead of a dozen per step (one select of the input projection per
// step would cost a full-size gradient each). The kernel saves the gate activations; the
// gradient rule runs one fused backward kernel (rnn_scan_backward) for the time loop and
// forms the weight gradient with ONE matmul over all steps. Under create_graph the rule runs
// the same backward loop written with ops instead, so gradients of any order work.
#include "nabla/ops/rnn.h"

#include "nabla/ops/binary.h"
#include "nabla/ops/compare.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/join.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/ternary.h"
#include "nabla/ops/unary.h"
#include "ops/common.h"

namespace nabla {
namespace {

enum class Mode { rnn_tanh, rnn_relu, lstm, gru };

Mode parse_mode(const std::string& m) {
  if (m == "rnn_tanh") return Mode::rnn_tanh;
  if (m == "rnn_relu") return Mode::rnn_relu;
  if (m == "lstm") return Mode::lstm;
  if (m == "gru") return Mode::gru;
  throw ValueError(
      "[rnn_scan] mode must be \"rnn_tanh\", \"rnn_relu\", \"lstm\" or \"gru\", got \"" + m + "\"");
}
int64_t gates(Mode m) { return m == Mode::lstm ? 4 : m == Mode::gru ? 3 : 1; }
int64_t sections(Mode m) { return m == Mode::lstm ? 6 : m == Mode::gru ? 5 : 1; }

// Positions of the optional inputs: xp, w_hh, h0, [c0], [b_hn], [mask].
struct Inputs {
  Mode mode;
  int c0 = -1, b_hn = -1, mask = -1;
};
Inputs layout(const Attrs& a) {
  Inputs l{parse_mode(a.get<std::string>("mode"))};
  int next = 3;
  if (l.mode == Mode::lstm) l.c0 = next++;
  if (l.mode == Mode::gru) l.b_hn = next++;
  if (a.get<bool>("masked")) l.mask = next++;
  return l;
}

// The gradients of the whole loop from dXP, dHP (T, N, G*H) and the initial states' gradients:
// dW_hh = sum_t dHP_t^T h_{t-1} as one matmul over every step, and GRU's b_hn.
std::vector<Tensor> finish_vjp(const VjpContext& c, const Inputs& l, const Tensor& dxp,
                               const Tensor& dhp, const Tensor& dh0, const Tensor& dc0) {
  const Tensor &w = c.inputs[1], &h0 = c.inputs[2], &y = c.output;
  int64_t T = dxp.size(0), N = dxp.size(1), H = w.size(1), GH = w.size(0);
  std::vector<Tensor> out(c.inputs.size());
  out[0] = dxp;
  out[2] = dh0;
  if (l.c0 >= 0) out[std::size_t(l.c0)] = dc0;
  if (T == 0) {
    out[1] = zeros_like(w);
  } else {
    Tensor hs = y.select(0, 0), h0e = h0.unsqueeze(0);
    Tensor hprev = T == 1                         ? h0e
                   : c.attrs.get<bool>("reverse") ? concat({hs.slice(0, 1, T), h0e}, 0)
                                                  : concat({h0e, hs.slice(0, 0, T - 1)}, 0);
    out[1] = matmul(dhp.reshape({T * N, GH}).t(), hprev.reshape({T * N, H}));
  }
  if (l.b_hn >= 0) out[std::size_t(l.b_hn)] = sum(dhp.slice(2, 2 * H, 3 * H), {0, 1});
  return out;
}

// The backward time loop written with ops (what the fused kernel computes), used under
// create_graph so that gradients of any order work.
std::vector<Tensor> scan_vjp_with_ops(const VjpContext& c, const Inputs& l) {
  const Tensor &xp = c.inputs[0], &w = c.inputs[1], &h0 = c.inputs[2], &y = c.output,
               &g = c.cotangent;
  int64_t T = xp.size(0), N = xp.size(1), H = w.size(1);
  bool reverse = c.attrs.get<bool>("reverse");
  Tensor c0 = l.c0 >= 0 ? c.inputs[std::size_t(l.c0)] : Tensor();
  Tensor dh_carry = zeros({N, H}, xp.dtype()),
         dc_carry = c0.defined() ? zeros({N, H}, xp.dtype()) : Tensor();
  std::vector<Tensor> dxps(static_cast<std::size_t>(T)), dhps(static_cast<std::size_t>(T));
  auto at = [&](int64_t sec, int64_t t) { return y.select(0, sec).select(0, t); };
  auto cot = [&](int64_t sec, int64_t t) { return g.select(0, sec).select(0, t); };
  for (int64_t s = T - 1; s >= 0; --s) {
    int64_t t = reverse ? T - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    bool first = s == 0;
    Tensor hprev = first ? h0 : at(0, tp);
    Tensor dh = cot(0, t) + dh_carry, dc, dx, dhp, direct;
    switch (l.mode) {
      case Mode::rnn_tanh:
      case Mode::rnn_relu: {
        Tensor h = at(0, t);
        dx = dh * (l.mode == Mode::rnn_tanh ? 1 - h * h : (h > 0).astype(h.dtype()));
        break;
      }
      case Mode::lstm: {
        Tensor i = at(2, t), f = at(3, t), gg = at(4, t), o = at(5, t), tc = tanh(at(1, t));
        Tensor cprev = first ? c0 : at(1, tp);
        Tensor d_o = dh * tc + cot(5, t);
        dc = cot(1, t) + dc_carry + dh * o * (1 - tc * tc);
        Tensor di = dc * gg + cot(2, t), df = dc * cprev + cot(3, t), dg = dc * i + cot(4, t);
        dx = concat({di * i * (1 - i), df * f * (1 - f), dg * (1 - gg * gg), d_o * o * (1 - o)}, 1);
        break;
      }
      case Mode::gru: {
        Tensor r = at(1, t), z = at(2, t), n = at(3, t), hn = at(4, t);
        Tensor dnpre = (dh * (1 - z) + cot(3, t)) * (1 - n * n);
        Tensor dz = (dh * (hprev - n) + cot(2, t)) * z * (1 - z);
        Tensor dr = (dnpre * hn + cot(1, t)) * r * (1 - r);
        dx = concat({dr, dz, dnpre}, 1);
        dhp = concat({dr, dz, dnpre * r + cot(4, t)}, 1);
        direct = dh * z;
        break;
      }
    }
    if (!dhp.defined()) dhp = dx;
    Tensor dprev = matmul(dhp, w);
    if (direct.defined()) dprev = dprev + direct;
    if (l.mask >= 0) {
      Tensor m = c.inputs[std::size_t(l.mask)].select(0, t).unsqueeze(1) > 0;
      dx = where(m, dx, 0.0);
      dhp = where(m, dhp, 0.0);
      dprev = where(m, dprev, dh);
      if (dc.defined()) dc = where(m, dc * at(3, t), dc);
    } else if (dc.defined()) {
      dc = dc * at(3, t);
    }
    dxps[std::size_t(t)] = dx;
    dhps[std::size_t(t)] = dhp;
    dh_carry = dprev;
    dc_carry = dc;
  }
  Tensor dxp = T ? stack(dxps, 0) : zeros_like(xp);
  Tensor dhp = T ? stack(dhps, 0) : dxp;
  return finish_vjp(c, l, dxp, dhp, dh_carry, dc_carry);
}

const OpDef& backward_op();

std::vector<Tensor> scan_vjp(const VjpContext& c) {
  Inputs l = layout(c.attrs);
  if (grad_mode_enabled()) return scan_vjp_with_ops(c, l);
  const Tensor &xp = c.inputs[0], &w = c.inputs[1];
  int64_t T = xp.size(0), N = xp.size(1), H = w.size(1), GH = w.size(0);
  std::vector<Tensor> bin{c.cotangent.contiguous(), c.output, w, c.inputs[2]};
  if (l.c0 >= 0) bin.push_back(c.inputs[std::size_t(l.c0)]);
  if (l.mask >= 0) bin.push_back(c.inputs[std::size_t(l.mask)]);
  Tensor b = apply(backward_op(), std::span<const Tensor>(bin), c.attrs);
  int64_t at = 0;
  auto take = [&](int64_t n, const Shape& s) {
    Tensor t = b.slice(0, at, at + n).reshape(s);
    at += n;
    return t;
  };
  Tensor dxp = take(T * N * GH, {T, N, GH});
  Tensor dhp = l.mode == Mode::gru ? take(T * N * GH, {T, N, GH}) : dxp;
  Tensor dh0 = take(N * H, {N, H});
  Tensor dc0 = l.c0 >= 0 ? take(N * H, {N, H}) : Tensor();
  return finish_vjp(c, l, dxp, dhp, dh0, dc0);
}

OutputMeta scan_infer(std::span<const Tensor> in, const Attrs& a) {
  Inputs l = layout(a);
  const Tensor &xp = in[0], &w = in[1];
  return {{sections(l.mode), xp.size(0), xp.size(1), w.size(1)}, xp.dtype()};
}

const OpDef& kRnnScan = define_op({
    .name = "rnn_scan",
    .arity = -1,
    .infer = scan_infer,
    .vjp = scan_vjp,
});

// (gY, Y, w_hh, h0, [c0], [mask]) -> flat dXP (T*N*G*H), [dHP (T*N*G*H), GRU], dh0 (N*H),
// [dc0 (N*H), LSTM]: the gradients of the pre-activations that came from the input projection
// and from the hidden projection (they differ for GRU only), and of the initial states.
const OpDef& kRnnScanBackward = define_op({
    .name = "rnn_scan_backward",
    .arity = -1,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Inputs l = layout(a);
      const Tensor &y = in[1], &w = in[2];
      int64_t T = y.size(1), N = y.size(2), H = y.size(3), GH = w.size(0);
      int64_t n =
          T * N * GH * (l.mode == Mode::gru ? 2 : 1) + N * H * (l.mode == Mode::lstm ? 2 : 1);
      return {{n}, y.dtype()};
    },
    .vjp = [](const VjpContext&) -> std::vector<Tensor> {
      throw NotImplementedError(
          "[rnn_scan_backward] is not differentiable: take higher-order gradients of recurrent "
          "layers with "
          "create_graph=true in the first backward");
    },
});
const OpDef& backward_op() { return kRnnScanBackward; }

}  // namespace

int64_t rnn_scan_sections(const std::string& mode) { return sections(parse_mode(mode)); }

Tensor rnn_scan(const std::string& mode_name, const Tensor& xp, const Tensor& w_hh,
                const Tensor& h0, const Tensor& c0, const Tensor& b_hn, const Tensor& mask,
                bool reverse) {
  Mode mode = parse_mode(mode_name);
  auto fail = [&](const std::string& what) { throw ShapeError("[rnn_scan] " + what); };
  if (!xp.defined() || !w_hh.defined() || !h0.defined())
    throw ValueError("[rnn_scan] xp, w_hh and h0 must be defined");
  DType dt = xp.dtype();
  if (dt != float32 && dt != float64)
    throw DTypeError("[rnn_scan] supports float32 and float64, got " + dtype_str(dt));
  if (w_hh.ndim() != 2 || w_hh.size(0) != gates(mode) * w_hh.size(1))
    fail("w_hh must be (" + std::to_string(gates(mode)) + "*H, H) for " + mode_name + ", got " +
         shape_str(w_hh.shape()));
  int64_t H = w_hh.size(1), GH = w_hh.size(0);
  if (xp.ndim() != 3 || xp.size(2) != GH)
    fail("xp must be (T, N, " + std::to_string(GH) + "), got " + shape_str(xp.shape()));
  int64_t T = xp.size(0), N = xp.size(1);
  auto check = [&](const Tensor& t, const char* what, const Shape& want) {
    if (t.shape() != want)
      fail(std::string(what) + " must be " + shape_str(want) + " for xp " + shape_str(xp.shape()) +
           ", got " + shape_str(t.shape()));
    if (t.dtype() != dt)
      throw DTypeError("[rnn_scan] " + std::string(what) + " must be " + dtype_str(dt) +
                       " like xp, got " + dtype_str(t.dtype()));
  };
  check(w_hh, "w_hh", {GH, H});
  check(h0, "h0", {N, H});
  std::vector<Tensor> in{xp.contiguous(), w_hh.contiguous(), h0.contiguous()};
  if (mode == Mode::lstm) {
    if (!c0.defined()) throw ValueError("[rnn_scan] lstm needs c0");
    check(c0, "c0", {N, H});
    in.push_back(c0.contiguous());
  } else if (c0.defined()) {
    throw ValueError("[rnn_scan] only lstm takes c0");
  }
  if (mode == Mode::gru) {
    Tensor b = b_hn.defined() ? b_hn : zeros({H}, dt);
    check(b, "b_hn", {H});
    in.push_back(b.contiguous());
  } else if (b_hn.defined()) {
    throw ValueError("[rnn_scan] only gru takes b_hn");
  }
  if (mask.defined()) {
    check(mask, "mask", {T, N});
    in.push_back(mask.contiguous());
  }
  return apply(kRnnScan, std::span<const Tensor>(in),
               {{"mode", mode_name}, {"reverse", reverse}, {"masked", mask.defined()}});
}

}  // namespace nabla
