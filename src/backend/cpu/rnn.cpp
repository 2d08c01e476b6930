// CPU kernels of rnn_scan and rnn_scan_backward (src/ops/rnn.cpp): the time loop of a
// recurrent layer. Each step is one GEMM (oneDNN's sgemm for float32) accumulating h W_hh^T
// onto the step's input projection, then one fused pass over the gates; nothing is allocated
// per step. Inputs are contiguous (the public function makes them so).
#include <dnnl.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/parallel.h"
#include "backend/cpu/unary_functors.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

enum class Mode { rnn_tanh, rnn_relu, lstm, gru };
Mode mode_of(const Attrs& a) {
  const std::string& m = a.get<std::string>("mode");
  return m == "lstm"       ? Mode::lstm
         : m == "gru"      ? Mode::gru
         : m == "rnn_relu" ? Mode::rnn_relu
                           : Mode::rnn_tanh;
}

// C (M, n) = beta C + A (M, K) B, B read as (K, n) row-major, or as the transpose of a
// row-major (n, K) with trans_b. Leading dims are the row lengths.
void gemm(bool trans_b, int64_t M, int64_t n, int64_t K, const float* A, const float* B, float beta,
          float* C) {
  if (M == 0 || n == 0) return;
  if (K == 0) {
    if (beta == 0) std::fill(C, C + M * n, 0.f);
    return;
  }
  dnnl_status_t st =
      dnnl_sgemm('N', trans_b ? 'T' : 'N', M, n, K, 1.f, A, K, B, trans_b ? K : n, beta, C, n);
  if (st != dnnl_success)
    throw Error("[rnn_scan] oneDNN sgemm failed with status " + std::to_string(int(st)));
}
void gemm(bool trans_b, int64_t M, int64_t n, int64_t K, const double* A, const double* B,
          double beta, double* C) {
  parallel_for(M, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n * K)),
               [&](int64_t b, int64_t e) {
                 std::vector<double> row(static_cast<std::size_t>(n));
                 for (int64_t i = b; i < e; ++i) {
                   for (int64_t j = 0; j < n; ++j)
                     row[std::size_t(j)] = beta == 0 ? 0 : beta * C[i * n + j];
                   for (int64_t k = 0; k < K; ++k) {
                     double a = A[i * K + k];
                     if (trans_b)
                       for (int64_t j = 0; j < n; ++j) row[std::size_t(j)] += a * B[j * K + k];
                     else
                       for (int64_t j = 0; j < n; ++j) row[std::size_t(j)] += a * B[k * n + j];
                   }
                   std::memcpy(C + i * n, row.data(), std::size_t(n) * sizeof(double));
                 }
               });
}

// Branch-free float tanh and sigmoid that vectorise (libm's do not); std:: math for float64.
template <class T>
[[gnu::always_inline]] inline T sigm(T x) {
  return SigmoidF{}(x);
}
template <class T>
[[gnu::always_inline]] inline T tanh_(T x) {
  return TanhF{}(x);
}

// Rows of a batch in parallel when a step has enough work.
template <class F>
void rows(int64_t N, int64_t H, F&& fn) {
  parallel_for(N, std::max<int64_t>(1, kGrain / 4 / std::max<int64_t>(H, 1)), fn);
}

struct Layout {
  Mode mode;
  int c0 = -1, b_hn = -1, mask = -1;
};
Layout layout(const Attrs& a, int first_optional) {
  Layout l{mode_of(a)};
  int next = first_optional;
  if (l.mode == Mode::lstm) l.c0 = next++;
  if (l.mode == Mode::gru && first_optional == 3) l.b_hn = next++;
  if (a.get<bool>("masked")) l.mask = next++;
  return l;
}

// inputs: xp (T, N, G*H), w_hh (G*H, H), h0 (N, H), [c0], [b_hn], [mask (T, N)]; out (S, T, N, H).
template <class T>
void scan_kernel(const KernelArgs& args) {
  Layout l = layout(args.attrs, 3);
  const Node &xpn = *args.inputs[0], &wn = *args.inputs[1];
  const int64_t Ts = xpn.shape[0], N = xpn.shape[1], GH = wn.shape[0], H = wn.shape[1], NH = N * H;
  const bool reverse = args.attrs.get<bool>("reverse");
  const T *xp = xpn.ptr<T>(), *w = wn.ptr<T>(), *h0 = args.inputs[2]->ptr<T>();
  const T* c0 = l.c0 >= 0 ? args.inputs[std::size_t(l.c0)]->ptr<T>() : nullptr;
  const T* b_hn = l.b_hn >= 0 ? args.inputs[std::size_t(l.b_hn)]->ptr<T>() : nullptr;
  const T* mask = l.mask >= 0 ? args.inputs[std::size_t(l.mask)]->ptr<T>() : nullptr;
  T* y = args.out.ptr<T>();
  const int64_t sec = Ts * NH;  // one section of Y
  std::vector<T> pre(std::size_t(N * GH));
  for (int64_t s = 0; s < Ts; ++s) {
    const int64_t t = reverse ? Ts - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    const T* hprev = s == 0 ? h0 : y + tp * NH;
    const T* cprev = l.mode == Mode::lstm ? (s == 0 ? c0 : y + sec + tp * NH) : nullptr;
    const T* x = xp + t * N * GH;
    T* out = y + t * NH;
    // pre = h W_hh^T, plus the input projection except for GRU (whose n gate needs it apart).
    if (l.mode == Mode::gru) {
      gemm(true, N, GH, H, hprev, w, T(0), pre.data());
    } else {
      std::memcpy(pre.data(), x, std::size_t(N * GH) * sizeof(T));
      gemm(true, N, GH, H, hprev, w, T(1), pre.data());
    }
    rows(N, H, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        const bool on = !mask || mask[t * N + n] != T(0);
        const T* p = pre.data() + n * GH;
        const T* hp = hprev + n * H;
        T* ho = out + n * H;
        switch (l.mode) {
          case Mode::rnn_tanh:
            for (int64_t j = 0; j < H; ++j) ho[j] = on ? tanh_(p[j]) : hp[j];
            break;
          case Mode::rnn_relu:
            for (int64_t j = 0; j < H; ++j) ho[j] = on ? std::max(p[j], T(0)) : hp[j];
            break;
          case Mode::lstm: {
            const T* cp = cprev + n * H;
            T *co = out + sec + n * H, *ig = out + 2 * sec + n * H, *fg = out + 3 * sec + n * H;
            T *gg = out + 4 * sec + n * H, *og = out + 5 * sec + n * H;
            if (!on) {
              std::memcpy(ho, hp, std::size_t(H) * sizeof(T));
              std::memcpy(co, cp, std::size_t(H) * sizeof(T));
              for (T* a : {ig, fg, gg, og}) std::fill(a, a + H, T(0));
              break;
            }
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) {
              T i = sigm(p[j]), f = sigm(p[H + j]), g = tanh_(p[2 * H + j]), o = sigm(p[3 * H + j]);
              T c = f * cp[j] + i * g;
              co[j] = c;
              ho[j] = o * tanh_(c);
              ig[j] = i, fg[j] = f, gg[j] = g, og[j] = o;
            }
            break;
          }
          case Mode::gru: {
            const T* xr = x + n * GH;
            T *rg = out + sec + n * H, *zg = out + 2 * sec + n * H, *ng = out + 3 * sec + n * H;
            T* hng = out + 4 * sec + n * H;
            if (!on) {
              std::memcpy(ho, hp, std::size_t(H) * sizeof(T));
              for (T* a : {rg, zg, ng, hng}) std::fill(a, a + H, T(0));
              break;
            }
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) {
              T r = sigm(xr[j] + p[j]), z = sigm(xr[H + j] + p[H + j]);
              T hn = p[2 * H + j] + b_hn[j];
              T nn = tanh_(xr[2 * H + j] + r * hn);
              ho[j] = nn + z * (hp[j] - nn);
              rg[j] = r, zg[j] = z, ng[j] = nn, hng[j] = hn;
            }
            break;
          }
        }
      }
    });
  }
}

// inputs: gY (S, T, N, H), Y, w_hh, h0, [c0], [mask]; out: dXP | [dHP] | dh0 | [dc0] (flat).
template <class T>
void scan_backward_kernel(const KernelArgs& args) {
  Layout l = layout(args.attrs, 4);
  const Node &yn = *args.inputs[1], &wn = *args.inputs[2];
  const int64_t Ts = yn.shape[1], N = yn.shape[2], H = yn.shape[3], GH = wn.shape[0], NH = N * H;
  const bool reverse = args.attrs.get<bool>("reverse");
  const T *gy = args.inputs[0]->ptr<T>(), *y = yn.ptr<T>(), *w = wn.ptr<T>(),
          *h0 = args.inputs[3]->ptr<T>();
  const T* c0 = l.c0 >= 0 ? args.inputs[std::size_t(l.c0)]->ptr<T>() : nullptr;
  const T* mask = l.mask >= 0 ? args.inputs[std::size_t(l.mask)]->ptr<T>() : nullptr;
  const int64_t sec = Ts * NH;
  T* dxp = args.out.ptr<T>();
  T* dhp = l.mode == Mode::gru ? dxp + Ts * N * GH : dxp;
  T* dh0 = dxp + Ts * N * GH * (l.mode == Mode::gru ? 2 : 1);
  T* dc0 = l.mode == Mode::lstm ? dh0 + NH : nullptr;
  // dh: gradient reaching h_t (carried in from step t+1, then the output's); dprev: to h_{t-1}.
  std::vector<T> dh(std::size_t(NH), T(0)), dprev(static_cast<std::size_t>(NH)),
      dc(std::size_t(l.mode == Mode::lstm ? NH : 0), T(0));
  for (int64_t s = Ts - 1; s >= 0; --s) {
    const int64_t t = reverse ? Ts - 1 - s : s, tp = reverse ? t + 1 : t - 1;
    const T* hprev = s == 0 ? h0 : y + tp * NH;
    const T* cprev = l.mode == Mode::lstm ? (s == 0 ? c0 : y + sec + tp * NH) : nullptr;
    T* dx = dxp + t * N * GH;
    T* dhh = dhp + t * N * GH;
    const T* g = gy + t * NH;
    const T* yt = y + t * NH;
    bool any_on = false;
    for (int64_t n = 0; n < N && !any_on; ++n) any_on = !mask || mask[t * N + n] != T(0);
    rows(N, H, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        const bool on = !mask || mask[t * N + n] != T(0);
        T* d = dh.data() + n * H;
        const T* gn = g + n * H;
        for (int64_t j = 0; j < H; ++j) d[j] += gn[j];
        T* dxn = dx + n * GH;
        T* dpn = dprev.data() + n * H;
        if (l.mode == Mode::lstm) {
          T* dcn = dc.data() + n * H;
          const T* gc = g + sec + n * H;
          for (int64_t j = 0; j < H; ++j) dcn[j] += gc[j];
        }
        if (!on) {  // the state passed through: so do its gradients
          std::fill(dxn, dxn + GH, T(0));
          if (dhp != dxp) std::fill(dhh + n * GH, dhh + n * GH + GH, T(0));
          std::memcpy(dpn, d, std::size_t(H) * sizeof(T));
          continue;
        }
        const T* hn_ = yt + n * H;
        switch (l.mode) {
          case Mode::rnn_tanh:
            for (int64_t j = 0; j < H; ++j) dxn[j] = d[j] * (1 - hn_[j] * hn_[j]);
            std::fill(dpn, dpn + H, T(0));
            break;
          case Mode::rnn_relu:
            for (int64_t j = 0; j < H; ++j) dxn[j] = hn_[j] > 0 ? d[j] : T(0);
            std::fill(dpn, dpn + H, T(0));
            break;
          case Mode::lstm: {
            const T *c = yt + sec + n * H, *cp = cprev + n * H;
            const T *ig = yt + 2 * sec + n * H, *fg = yt + 3 * sec + n * H,
                    *gg = yt + 4 * sec + n * H, *og = yt + 5 * sec + n * H;
            const T *gi = g + 2 * sec + n * H, *gf = g + 3 * sec + n * H,
                    *g_g = g + 4 * sec + n * H, *go = g + 5 * sec + n * H;
            T* dcn = dc.data() + n * H;
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) {
              T i = ig[j], f = fg[j], gt = gg[j], o = og[j], tc = tanh_(c[j]);
              T dcj = dcn[j] + d[j] * o * (1 - tc * tc);
              T d_o = d[j] * tc + go[j];
              T di = dcj * gt + gi[j], df = dcj * cp[j] + gf[j], dg = dcj * i + g_g[j];
              dxn[j] = di * i * (1 - i);
              dxn[H + j] = df * f * (1 - f);
              dxn[2 * H + j] = dg * (1 - gt * gt);
              dxn[3 * H + j] = d_o * o * (1 - o);
              dcn[j] = dcj * f;
            }
            std::fill(dpn, dpn + H, T(0));
            break;
          }
          case Mode::gru: {
            const T *rg = yt + sec + n * H, *zg = yt + 2 * sec + n * H, *ng = yt + 3 * sec + n * H,
                    *hng = yt + 4 * sec + n * H;
            const T *gr = g + sec + n * H, *gz = g + 2 * sec + n * H, *gn2 = g + 3 * sec + n * H,
                    *ghn = g + 4 * sec + n * H;
            const T* hp = hprev + n * H;
            T* dhn = dhh + n * GH;
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) {
              T r = rg[j], z = zg[j], nn = ng[j];
              T dnpre = (d[j] * (1 - z) + gn2[j]) * (1 - nn * nn);
              T dz = (d[j] * (hp[j] - nn) + gz[j]) * z * (1 - z);
              T dr = (dnpre * hng[j] + gr[j]) * r * (1 - r);
              dxn[j] = dhn[j] = dr;
              dxn[H + j] = dhn[H + j] = dz;
              dxn[2 * H + j] = dnpre;
              dhn[2 * H + j] = dnpre * r + ghn[j];
              dpn[j] = d[j] * z;
            }
            break;
          }
        }
      }
    });
    // dprev += dHP_t W_hh for the rows that ran (masked rows have dHP_t = 0).
    if (any_on) gemm(false, N, H, GH, dhh, w, T(1), dprev.data());
    std::swap(dh, dprev);
  }
  std::memcpy(dh0, dh.data(), std::size_t(NH) * sizeof(T));
  if (dc0) std::memcpy(dc0, dc.data(), std::size_t(NH) * sizeof(T));
}

const bool registered = [] {
  register_kernel("rnn_scan", DeviceType::cpu, float32, scan_kernel<float>);
  register_kernel("rnn_scan", DeviceType::cpu, float64, scan_kernel<double>);
  register_kernel("rnn_scan_backward", DeviceType::cpu, float32, scan_backward_kernel<float>);
  register_kernel("rnn_scan_backward", DeviceType::cpu, float64, scan_backward_kernel<double>);
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
