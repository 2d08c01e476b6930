// Rows for the FFT ops (fft_c2c, fft_r2c, fft_c2r) and the features built on them (stft,
// spectrograms, log-mel, MFCC). The float64 references are direct O(n^2) DFT sums, the
// STFT frames by explicit reflection indices, and the mel filters as triangles between
// three mel points, all in plain loops.
#include <cmath>
#include <complex>
#include <numbers>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

using cd = std::complex<double>;

// A tensor seen as (outer, len, inner) around `dim`, optionally with a trailing (re, im) pair.
struct Lay {
  int64_t outer = 1, len = 1, inner = 1;
  Lay(const Shape& s, int64_t dim, bool complex) {
    int64_t nd = int64_t(s.size()) - (complex ? 1 : 0);
    if (dim < 0) dim += nd;
    for (int64_t i = 0; i < nd; ++i) {
      if (i < dim) outer *= s[std::size_t(i)];
      if (i > dim) inner *= s[std::size_t(i)];
    }
    len = s[std::size_t(dim)];
  }
};

int64_t norm_dim(int64_t dim, std::size_t nd) { return dim < 0 ? dim + int64_t(nd) : dim; }

cd expi(double a) { return {std::cos(a), std::sin(a)}; }

double scale_of(const std::string& norm, int64_t n, bool inverse) {
  if (norm == "ortho") return 1 / std::sqrt(double(n));
  if (norm == "forward") return inverse ? 1.0 : 1.0 / double(n);
  return inverse ? 1.0 / double(n) : 1.0;
}

// fft / ifft of a complex (..., 2) tensor along dim, the input cropped or zero-padded to n.
Ref ref_c2c(const Ref& x, int64_t dim, int64_t n, bool inverse, const std::string& norm) {
  Lay l(x.shape, dim, true);
  if (n < 0) n = l.len;
  Shape s = x.shape;
  s[std::size_t(norm_dim(dim, s.size() - 1))] = n;
  Ref y{s, std::vector<double>(std::size_t(numel_of(s)))};
  double sc = scale_of(norm, n, inverse), sign = inverse ? 1 : -1;
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i)
      for (int64_t k = 0; k < n; ++k) {
        cd acc = 0;
        for (int64_t j = 0; j < std::min(n, l.len); ++j) {
          std::size_t at = std::size_t(((o * l.len + j) * l.inner + i) * 2);
          acc += cd(x.v[at], x.v[at + 1]) *
                 expi(sign * 2 * std::numbers::pi * double(j * k % n) / double(n));
        }
        std::size_t at = std::size_t(((o * n + k) * l.inner + i) * 2);
        y.v[at] = acc.real() * sc;
        y.v[at + 1] = acc.imag() * sc;
      }
  return y;
}

Ref ref_r2c(const Ref& x, int64_t dim, int64_t n, const std::string& norm) {
  Lay l(x.shape, dim, false);
  if (n < 0) n = l.len;
  int64_t m = n / 2 + 1;
  Shape s = x.shape;
  s[std::size_t(norm_dim(dim, s.size()))] = m;
  s.push_back(2);
  Ref y{s, std::vector<double>(std::size_t(numel_of(s)))};
  double sc = scale_of(norm, n, false);
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i)
      for (int64_t k = 0; k < m; ++k) {
        cd acc = 0;
        for (int64_t j = 0; j < std::min(n, l.len); ++j)
          acc += x.v[std::size_t((o * l.len + j) * l.inner + i)] *
                 expi(-2 * std::numbers::pi * double(j * k % n) / double(n));
        std::size_t at = std::size_t(((o * m + k) * l.inner + i) * 2);
        y.v[at] = acc.real() * sc;
        y.v[at + 1] = acc.imag() * sc;
      }
  return y;
}

// irfft: the full spectrum X'_k = X_k (k <= n/2), conj(X_{n-k}) above, summed as real parts.
Ref ref_c2r(const Ref& x, int64_t dim, int64_t n, const std::string& norm) {
  Lay l(x.shape, dim, true);
  if (n < 0) n = 2 * (l.len - 1);
  Shape s = x.shape;
  s.pop_back();
  s[std::size_t(norm_dim(dim, s.size()))] = n;
  Ref y{s, std::vector<double>(std::size_t(numel_of(s)))};
  double sc = scale_of(norm, n, true);
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i) {
      auto X = [&](int64_t k) -> cd {
        bool mirrored = k > n / 2;
        int64_t kk = mirrored ? n - k : k;
        if (kk >= l.len) return 0;
        std::size_t at = std::size_t(((o * l.len + kk) * l.inner + i) * 2);
        cd v(x.v[at], x.v[at + 1]);
        return mirrored ? std::conj(v) : v;
      };
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < n; ++k)
          acc += (X(k) * expi(2 * std::numbers::pi * double(j * k % n) / double(n))).real();
        y.v[std::size_t((o * n + j) * l.inner + i)] = acc * sc;
      }
    }
  return y;
}

Arg A(Shape s, bool nc = false) { return Arg{.shape = std::move(s), .non_contiguous = nc}; }

// ---- STFT and features

struct Stft {
  int64_t n_fft, hop, win;
  bool center = true;
};

// x (B, L) real, window (win) -> (B, freq, frames, 2), onesided.
Ref ref_stft(const Ref& x, const Ref& w, const Stft& c) {
  int64_t B = x.shape[0], L = x.shape[1], pad = c.center ? c.n_fft / 2 : 0;
  int64_t Lp = L + 2 * pad, T = 1 + (Lp - c.n_fft) / c.hop, F = c.n_fft / 2 + 1;
  int64_t left = (c.n_fft - c.win) / 2;
  Shape s{B, F, T, 2};
  Ref y{s, std::vector<double>(std::size_t(numel_of(s)))};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t f = 0; f < F; ++f) {
        cd acc = 0;
        for (int64_t k = 0; k < c.n_fft; ++k) {
          int64_t wi = k - left;
          if (wi < 0 || wi >= c.win) continue;
          int64_t p = t * c.hop + k - pad;  // position in the unpadded signal, reflected
          if (p < 0) p = -p;
          if (p >= L) p = 2 * (L - 1) - p;
          acc += x.v[std::size_t(b * L + p)] * w.v[std::size_t(wi)] *
                 expi(-2 * std::numbers::pi * double(k * f % c.n_fft) / double(c.n_fft));
        }
        std::size_t at = std::size_t(((b * F + f) * T + t) * 2);
        y.v[at] = acc.real();
        y.v[at + 1] = acc.imag();
      }
  return y;
}

// (B, F, T, 2) -> (B, F, T) power
Ref ref_power(const Ref& s) {
  Shape p(s.shape.begin(), s.shape.end() - 1);
  Ref y{p, std::vector<double>(std::size_t(numel_of(p)))};
  for (std::size_t i = 0; i < y.v.size(); ++i)
    y.v[i] = s.v[2 * i] * s.v[2 * i] + s.v[2 * i + 1] * s.v[2 * i + 1];
  return y;
}

double htk_mel(double f) { return 2595 * std::log10(1 + f / 700); }
double htk_hz(double m) { return 700 * (std::pow(10, m / 2595) - 1); }

// Triangle m spans mel points m, m+1, m+2 (evenly spaced in mel from f_min to f_max): rising
// from 0 at the left point to 1 at the centre, falling to 0 at the right one.
std::vector<double> ref_fbank(int64_t F, int64_t M, double fmin, double fmax, int64_t sr) {
  std::vector<double> fb(std::size_t(F * M));
  for (int64_t m = 0; m < M; ++m) {
    double step = (htk_mel(fmax) - htk_mel(fmin)) / double(M + 1);
    double l = htk_hz(htk_mel(fmin) + step * double(m)),
           c = htk_hz(htk_mel(fmin) + step * double(m + 1)),
           r = htk_hz(htk_mel(fmin) + step * double(m + 2));
    for (int64_t f = 0; f < F; ++f) {
      double hz = double(sr / 2) * double(f) / double(F - 1);
      double w = hz <= l || hz >= r ? 0 : hz <= c ? (hz - l) / (c - l) : (r - hz) / (r - c);
      fb[std::size_t(f * M + m)] = w;
    }
  }
  return fb;
}

// power (B, F, T) through the filterbank -> (B, M, T)
Ref ref_mel(const Ref& p, int64_t M, int64_t sr) {
  int64_t B = p.shape[0], F = p.shape[1], T = p.shape[2];
  std::vector<double> fb = ref_fbank(F, M, 0, double(sr) / 2, sr);
  Ref y{{B, M, T}, std::vector<double>(std::size_t(B * M * T), 0.0)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t f = 0; f < F; ++f)
          y.v[std::size_t((b * M + m) * T + t)] +=
              fb[std::size_t(f * M + m)] * p.v[std::size_t((b * F + f) * T + t)];
  return y;
}

Ref ones_ref(int64_t n) { return Ref{{n}, std::vector<double>(std::size_t(n), 1.0)}; }

const Stft kStft{.n_fft = 16, .hop = 5, .win = 12};
const MelOptions kMel{.n_mels = 6, .sample_rate = 8000};

StftOptions stft_options(const Tensor& window) {
  return {.n_fft = kStft.n_fft, .hop_length = kStft.hop, .win_length = kStft.win, .window = window};
}

Ref log_mel_ref(const std::vector<Ref>& r) {
  Ref y = ref_mel(ref_power(ref_stft(r[0], r[1], kStft)), kMel.n_mels, kMel.sample_rate);
  for (double& v : y.v) v = std::log(v + 1e-6);
  return y;
}

Ref mfcc_ref(const std::vector<Ref>& r, int64_t n_mfcc) {
  Ref mel = ref_mel(ref_power(ref_stft(r[0], r[1], kStft)), kMel.n_mels, kMel.sample_rate);
  int64_t B = mel.shape[0], M = mel.shape[1], T = mel.shape[2];
  Ref y{{B, n_mfcc, T}, std::vector<double>(std::size_t(B * n_mfcc * T), 0.0)};
  for (int64_t b = 0; b < B; ++b) {
    double top = -1e300;
    for (int64_t i = 0; i < M * T; ++i)
      top = std::max(top, 10 * std::log10(std::max(mel.v[std::size_t(b * M * T + i)], 1e-10)));
    for (int64_t k = 0; k < n_mfcc; ++k)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t m = 0; m < M; ++m) {
          double db = std::max(
              10 * std::log10(std::max(mel.v[std::size_t((b * M + m) * T + t)], 1e-10)), top - 80);
          double basis =
              std::cos(std::numbers::pi * double(k) * (2.0 * double(m) + 1) / (2.0 * double(M)));
          double scale = k == 0 ? std::sqrt(1.0 / double(M)) : std::sqrt(2.0 / double(M));
          y.v[std::size_t((b * n_mfcc + k) * T + t)] += db * basis * scale;
        }
  }
  return y;
}

NABLA_OP_ROWS(
    Row{.op = "fft_c2c",
        .samples = {{A({8, 2})},
                    {A({3, 12, 2})},
                    {A({2, 5, 2}, true)},
                    {A({17, 2})},
                    {A({0, 4, 2})},
                    {A({1, 2})},
                    {A({40, 810, 2})}},
        .run = [](const std::vector<Tensor>& v) { return fft(v[0]); },
        .ref = [](const std::vector<Ref>& r) { return ref_c2c(r[0], -1, -1, false, "backward"); },
        .second_order = true,
        .tol_scale = 20},
    Row{.op = "fft_c2c",
        .variant = "ifft_dim0_ortho",
        .samples = {{A({6, 3, 2})}, {A({7, 2, 2})}, {A({30, 4, 2})}, {A({4, 3, 2}, true)}},
        .run = [](const std::vector<Tensor>& v) { return ifft(v[0], -1, 0, "ortho"); },
        .ref = [](const std::vector<Ref>& r) { return ref_c2c(r[0], 0, -1, true, "ortho"); },
        .tol_scale = 20},
    Row{.op = "fft_c2c",
        .variant = "n_forward",
        .samples = {{A({2, 6, 2})}, {A({3, 13, 2})}},
        .run = [](const std::vector<Tensor>& v) { return fft(v[0], 9, 1, "forward"); },
        .ref = [](const std::vector<Ref>& r) { return ref_c2c(r[0], 1, 9, false, "forward"); },
        .tol_scale = 20},
    Row{.op = "fft_c2c",
        .variant = "ifft_n_backward",
        .samples = {{A({10, 2})}, {A({2, 4, 2})}},
        .run = [](const std::vector<Tensor>& v) { return ifft(v[0], 7); },
        .ref = [](const std::vector<Ref>& r) { return ref_c2c(r[0], -1, 7, true, "backward"); },
        .tol_scale = 20},
    Row{.op = "fft_r2c",
        .samples = {{A({8})},
                    {A({3, 10})},
                    {A({5, 7})},
                    {A({4, 9}, true)},
                    {A({0, 6})},
                    {A({1})},
                    {A({2, 37})},
                    {A({60, 1000})}},
        .run = [](const std::vector<Tensor>& v) { return rfft(v[0]); },
        .ref = [](const std::vector<Ref>& r) { return ref_r2c(r[0], -1, -1, "backward"); },
        .second_order = true,
        .tol_scale = 20},
    Row{.op = "fft_r2c",
        .variant = "dim0_n_ortho",
        .samples = {{A({6, 3})}, {A({11, 2})}, {A({3, 4}, true)}},
        .run = [](const std::vector<Tensor>& v) { return rfft(v[0], 8, 0, "ortho"); },
        .ref = [](const std::vector<Ref>& r) { return ref_r2c(r[0], 0, 8, "ortho"); },
        .tol_scale = 20},
    Row{.op = "fft_c2r",
        .samples =
            {{A({5, 2})}, {A({3, 7, 2})}, {A({4, 6, 2}, true)}, {A({0, 3, 2})}, {A({40, 401, 2})}},
        .run = [](const std::vector<Tensor>& v) { return irfft(v[0]); },
        .ref = [](const std::vector<Ref>& r) { return ref_c2r(r[0], -1, -1, "backward"); },
        .second_order = true,
        .tol_scale = 20},
    Row{.op = "fft_c2r",
        .variant = "odd_n_dim0_forward",
        .samples = {{A({5, 3, 2})}, {A({9, 2, 2})}, {A({3, 1, 2})}},
        .run = [](const std::vector<Tensor>& v) { return irfft(v[0], 9, 0, "forward"); },
        .ref = [](const std::vector<Ref>& r) { return ref_c2r(r[0], 0, 9, "forward"); },
        .tol_scale = 20},
    Row{.op = "fft_c2r",
        .variant = "even_n_ortho",
        .samples = {{A({2, 4, 2})}, {A({2, 9, 2})}},
        .run = [](const std::vector<Tensor>& v) { return irfft(v[0], 10, -1, "ortho"); },
        .ref = [](const std::vector<Ref>& r) { return ref_c2r(r[0], -1, 10, "ortho"); },
        .tol_scale = 20},
    Row{.op = "fft_r2c",
        .variant = "stft",
        .samples = {{A({2, 30}), A({12})}, {A({1, 9}), A({12})}, {A({3, 400}), A({12})}},
        .run = [](const std::vector<Tensor>& v) { return stft(v[0], stft_options(v[1])); },
        .ref = [](const std::vector<Ref>& r) { return ref_stft(r[0], r[1], kStft); },
        .tol_scale = 20},
    Row{.op = "fft_r2c",
        .variant = "stft_no_center_hann",
        .samples = {{A({2, 40})}, {A({1, 16})}},
        .run =
            [](const std::vector<Tensor>& v) {
              return stft(v[0], {.n_fft = 16,
                                 .hop_length = 4,
                                 .window = hann_window(16, true, v[0].dtype()),
                                 .center = false});
            },
        .ref =
            [](const std::vector<Ref>& r) {
              Ref w = ones_ref(16);
              for (int64_t k = 0; k < 16; ++k)
                w.v[std::size_t(k)] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * double(k) / 16);
              return ref_stft(r[0], w, {.n_fft = 16, .hop = 4, .win = 16, .center = false});
            },
        .tol_scale = 20},
    Row{.op = "fft_r2c",
        .variant = "power_spectrogram",
        .samples = {{A({2, 30}), A({12})}},
        .run = [](const std::vector<Tensor>& v) { return spectrogram(v[0], stft_options(v[1])); },
        .ref = [](const std::vector<Ref>& r) { return ref_power(ref_stft(r[0], r[1], kStft)); },
        .tol_scale = 20},
    Row{.op = "fft_r2c",
        .variant = "log_mel",
        .samples = {{A({2, 30}), A({12})}, {A({1, 64}), A({12})}},
        .run =
            [](const std::vector<Tensor>& v) {
              return log_mel_spectrogram(v[0], stft_options(v[1]), kMel);
            },
        .ref = log_mel_ref,
        .tol_scale = 50},
    Row{.op = "fft_r2c",
        .variant = "mfcc",
        .samples = {{A({2, 30}), A({12})}, {A({1, 64}), A({12})}},
        .run = [](const std::vector<Tensor>& v) { return mfcc(v[0], 4, stft_options(v[1]), kMel); },
        .ref = [](const std::vector<Ref>& r) { return mfcc_ref(r, 4); },
        .tol_scale = 50}, );

}  // namespace
}  // namespace nabla::optable
