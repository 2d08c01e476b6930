// Spectral features built from other ops (so they differentiate, compile and run on any
// device the ops do): the STFT (framing by index_select, a window, rfft), spectrograms,
// mel filterbanks, decibels and MFCCs. Windows, filterbanks and the DCT matrix are constant
// tensors computed in double precision.
#include "nabla/ops/signal.h"

#include <cmath>
#include <numbers>

#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/index.h"
#include "nabla/ops/join.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/unary.h"
#include "ops/common.h"

namespace nabla {
namespace {

[[noreturn]] void fail(const char* op, const std::string& what) {
  throw ValueError(std::string("[") + op + "] " + what);
}

Tensor cosine_window(const char* op, int64_t length, bool periodic, DType dtype, double a0) {
  if (length < 0) fail(op, "length must be >= 0, got " + std::to_string(length));
  if (!is_floating(dtype))
    throw DTypeError(std::string("[") + op + "] needs a floating dtype, got " + dtype_str(dtype));
  std::vector<double> w(std::size_t(length), 1.0);
  double denom = double(periodic ? length : length - 1);
  if (length > 1)
    for (int64_t k = 0; k < length; ++k)
      w[std::size_t(k)] = a0 - (1 - a0) * std::cos(2 * std::numbers::pi * double(k) / denom);
  return tensor(w, {length}).astype(dtype);
}

double hz_to_mel(double f, MelScale s) {
  if (s == MelScale::htk) return 2595.0 * std::log10(1.0 + f / 700.0);
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp,
               logstep = std::log(6.4) / 27.0;
  return f < min_log_hz ? f / f_sp : min_log_mel + std::log(f / min_log_hz) / logstep;
}

double mel_to_hz(double m, MelScale s) {
  if (s == MelScale::htk) return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0);
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp,
               logstep = std::log(6.4) / 27.0;
  return m < min_log_mel ? f_sp * m : min_log_hz * std::exp(logstep * (m - min_log_mel));
}

// (..., a, b) @ (b, c) with the product taken over the second-to-last dim of x:
// (..., b, t) -> (..., c, t).
Tensor map_rows(const Tensor& x, const Tensor& m) {
  return matmul(x.transpose(-1, -2), m.astype(x.dtype())).transpose(-1, -2);
}

}  // namespace

Tensor hann_window(int64_t length, bool periodic, DType dtype) {
  return cosine_window("hann_window", length, periodic, dtype, 0.5);
}

Tensor hamming_window(int64_t length, bool periodic, DType dtype) {
  return cosine_window("hamming_window", length, periodic, dtype, 0.54);
}

Tensor stft(const Tensor& x, const StftOptions& o) {
  const char* op = "stft";
  if (x.ndim() < 1) throw ShapeError("[stft] needs a signal (..., L), got a 0-d tensor");
  if (x.dtype() != float32 && x.dtype() != float64)
    throw DTypeError("[stft] needs a float32 or float64 signal, got " + dtype_str(x.dtype()));
  const int64_t n_fft = o.n_fft;
  if (n_fft < 1) fail(op, "n_fft must be >= 1, got " + std::to_string(n_fft));
  const int64_t hop = o.hop_length == -1 ? std::max<int64_t>(n_fft / 4, 1) : o.hop_length;
  const int64_t win = o.win_length == -1 ? n_fft : o.win_length;
  if (hop < 1) fail(op, "hop_length must be >= 1, got " + std::to_string(hop));
  if (win < 1 || win > n_fft)
    fail(op, "win_length must be in [1, n_fft = " + std::to_string(n_fft) + "], got " +
                 std::to_string(win));
  Tensor window = o.window.defined() ? o.window : ones({win}, x.dtype());
  if (window.shape() != Shape{win})
    throw ShapeError("[stft] window must have shape (" + std::to_string(win) +
                     ") (win_length), got " + shape_str(window.shape()));
  if (!is_floating(window.dtype()))
    throw DTypeError("[stft] needs a floating window, got " + dtype_str(window.dtype()));
  window = window.astype(x.dtype());
  if (win < n_fft) {
    int64_t left = (n_fft - win) / 2;
    window = pad(window, {left, n_fft - win - left});
  }

  Tensor s = x;
  int64_t len = x.shape().back();
  if (o.center) {
    int64_t p = n_fft / 2;
    if (p >= len)
      fail(op, "center=true reflect-pads n_fft / 2 = " + std::to_string(p) +
                   " samples on each side, which needs signals longer than that; got " +
                   shape_str(x.shape()));
    if (p > 0) {
      Shape rows{-1, len};
      s = pad(x.reshape(rows), {p, p}, PadMode::reflect);
      Shape back = x.shape();
      back.back() = len + 2 * p;
      s = s.reshape(back);
    }
    len += 2 * p;
  }
  if (len < n_fft)
    fail(op, "n_fft = " + std::to_string(n_fft) + " is longer than the signal " +
                 shape_str(x.shape()) + (o.center ? " after padding" : ""));
  const int64_t frames = 1 + (len - n_fft) / hop;
  std::vector<int64_t> idx(std::size_t(frames * n_fft));
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t k = 0; k < n_fft; ++k) idx[std::size_t(t * n_fft + k)] = t * hop + k;
  Tensor fr = index_select(s, -1, tensor(idx, {frames * n_fft}));
  Shape fs = x.shape();
  fs.back() = frames;
  fs.push_back(n_fft);
  fr = fr.reshape(fs) * window;  // (..., frames, n_fft)
  std::string norm = o.normalized ? "ortho" : "backward";
  Tensor spec =
      o.onesided ? rfft(fr, -1, -1, norm) : fft(stack({fr, zeros_like(fr)}, -1), -1, -1, norm);
  return spec.transpose(-3, -2);  // (..., freq, frames, 2)
}

Tensor spectrogram(const Tensor& x, const StftOptions& o, double power) {
  if (!(power > 0)) fail("spectrogram", "power must be > 0, got " + std::to_string(power));
  Tensor spec = stft(x, o);
  Tensor p = sum(spec * spec, {-1});
  if (power == 2.0) return p;
  if (power == 1.0) return sqrt(p);
  return pow(p, power / 2);
}

Tensor mel_filterbank(const MelOptions& o, DType dtype) {
  const char* op = "mel_filterbank";
  double f_max = o.f_max < 0 ? double(o.sample_rate) / 2 : o.f_max;
  if (o.n_freqs < 1) fail(op, "n_freqs must be >= 1, got " + std::to_string(o.n_freqs));
  if (o.n_mels < 1) fail(op, "n_mels must be >= 1, got " + std::to_string(o.n_mels));
  if (o.sample_rate <= 0)
    fail(op, "sample_rate must be positive, got " + std::to_string(o.sample_rate));
  if (!(o.f_min >= 0 && o.f_min < f_max))
    fail(op, "needs 0 <= f_min < f_max, got f_min " + std::to_string(o.f_min) + ", f_max " +
                 std::to_string(f_max));
  if (!is_floating(dtype))
    throw DTypeError("[mel_filterbank] needs a floating dtype, got " + dtype_str(dtype));
  const int64_t F = o.n_freqs, M = o.n_mels;
  // As torchaudio: frequencies spaced evenly up to sample_rate // 2, n_mels + 2 points evenly
  // spaced in mel, each filter a triangle over three consecutive points.
  std::vector<double> freqs(static_cast<std::size_t>(F)), pts(static_cast<std::size_t>(M + 2));
  const double top = double(o.sample_rate / 2);
  for (int64_t i = 0; i < F; ++i)
    freqs[std::size_t(i)] = F == 1 ? 0.0 : top * double(i) / double(F - 1);
  const double m0 = hz_to_mel(o.f_min, o.scale), m1 = hz_to_mel(f_max, o.scale);
  for (int64_t i = 0; i < M + 2; ++i)
    pts[std::size_t(i)] = mel_to_hz(m0 + (m1 - m0) * double(i) / double(M + 1), o.scale);
  std::vector<double> fb(static_cast<std::size_t>(F * M));
  for (int64_t f = 0; f < F; ++f)
    for (int64_t m = 0; m < M; ++m) {
      double l = pts[std::size_t(m)], c = pts[std::size_t(m + 1)], r = pts[std::size_t(m + 2)];
      double down = (freqs[std::size_t(f)] - l) / (c - l),
             up = (r - freqs[std::size_t(f)]) / (r - c);
      double w = std::max(0.0, std::min(down, up));
      if (o.slaney_norm) w *= 2.0 / (r - l);
      fb[std::size_t(f * M + m)] = w;
    }
  return tensor(fb, {F, M}).astype(dtype);
}

Tensor mel_spectrogram(const Tensor& x, const StftOptions& stft_options, const MelOptions& mel,
                       double power) {
  MelOptions m = mel;
  m.n_freqs = stft_options.onesided ? stft_options.n_fft / 2 + 1 : stft_options.n_fft;
  Tensor fb = mel_filterbank(m, x.dtype() == float64 ? float64 : float32);
  return map_rows(spectrogram(x, stft_options, power), fb);
}

Tensor log_mel_spectrogram(const Tensor& x, const StftOptions& stft_options, const MelOptions& mel,
                           double eps) {
  if (!(eps > 0)) fail("log_mel_spectrogram", "eps must be > 0, got " + std::to_string(eps));
  return log(mel_spectrogram(x, stft_options, mel) + eps);
}

Tensor power_to_db(const Tensor& x, double amin, double top_db) {
  if (!(amin > 0)) fail("power_to_db", "amin must be > 0, got " + std::to_string(amin));
  if (x.ndim() < 2 && top_db >= 0)
    throw ShapeError(
        "[power_to_db] top_db clamps over the last two dims and needs x of at least "
        "2 dims, got " +
        shape_str(x.shape()));
  Tensor db = log(maximum(x, amin)) * (10.0 / std::log(10.0));
  if (top_db < 0) return db;
  return maximum(db, amax(db, {-2, -1}, true) - top_db);
}

Tensor dct_matrix(int64_t n_mfcc, int64_t n_mels, DType dtype) {
  if (n_mels < 1 || n_mfcc < 1 || n_mfcc > n_mels)
    fail("dct_matrix", "needs 1 <= n_mfcc <= n_mels, got n_mfcc " + std::to_string(n_mfcc) +
                           ", n_mels " + std::to_string(n_mels));
  if (!is_floating(dtype))
    throw DTypeError("[dct_matrix] needs a floating dtype, got " + dtype_str(dtype));
  std::vector<double> d(static_cast<std::size_t>(n_mels * n_mfcc));
  for (int64_t n = 0; n < n_mels; ++n)
    for (int64_t k = 0; k < n_mfcc; ++k) {
      double v = std::cos(std::numbers::pi / double(n_mels) * (double(n) + 0.5) * double(k));
      d[std::size_t(n * n_mfcc + k)] =
          v * std::sqrt(2.0 / double(n_mels)) * (k == 0 ? 1.0 / std::sqrt(2.0) : 1.0);
    }
  return tensor(d, {n_mels, n_mfcc}).astype(dtype);
}

Tensor mfcc(const Tensor& x, int64_t n_mfcc, const StftOptions& stft_options, const MelOptions& mel,
            double top_db) {
  Tensor db = power_to_db(mel_spectrogram(x, stft_options, mel), 1e-10, top_db);
  return map_rows(db, dct_matrix(n_mfcc, mel.n_mels, x.dtype()));
}

}  // namespace nabla
