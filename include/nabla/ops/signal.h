// Signal processing: discrete Fourier transforms, short-time Fourier transforms, windows,
// mel filterbanks, log-mel spectrograms and MFCCs (docs/signal.md).
//
// nabla has no complex dtype. A complex tensor is a real tensor whose trailing dim has size 2
// and holds (real, imaginary), as torch.view_as_real: a complex (B, N) signal is a real
// (B, N, 2) tensor. `dim` arguments of the complex ops count over the complex shape, so
// dim = -1 of a (B, N, 2) tensor is the N axis. Transforms take float32 or float64 and keep
// the dtype. Every op here is differentiable, with PyTorch's gradients.
//
//   nb::Tensor x = nb::randn({8, 1000});
//   nb::Tensor X = nb::rfft(x);                          // (8, 501, 2)
//   nb::Tensor y = nb::irfft(X, 1000);                   // x again
//   nb::Tensor S = nb::stft(x, {.n_fft = 256, .hop_length = 64, .window = nb::hann_window(256)});
#pragma once
#include <cstdint>
#include <string>

#include "nabla/tensor.h"

namespace nabla {

// Normalisation, as PyTorch's `norm`: "backward" scales the inverse by 1/n, "forward" the
// forward transform by 1/n, "ortho" both by 1/sqrt(n).
//
// n: the signal length along dim; the input is cropped or zero-padded to n (-1: its size).
Tensor fft(const Tensor& x, int64_t n = -1, int64_t dim = -1, const std::string& norm = "backward");
Tensor ifft(const Tensor& x, int64_t n = -1, int64_t dim = -1,
            const std::string& norm = "backward");
// Real input (..., n, ...) -> the n/2 + 1 non-negative frequencies, complex (..., n/2+1, ..., 2).
Tensor rfft(const Tensor& x, int64_t n = -1, int64_t dim = -1,
            const std::string& norm = "backward");
// Inverse of rfft: a Hermitian half spectrum -> a real signal of length n (-1: 2 (m - 1) for
// m input frequencies). The input is cropped or zero-padded to n/2 + 1 frequencies; the
// imaginary parts of the zero (and, for even n, the Nyquist) frequency are ignored.
Tensor irfft(const Tensor& x, int64_t n = -1, int64_t dim = -1,
             const std::string& norm = "backward");

// Windows of `length` samples (float32 unless dtype says otherwise). periodic (the default,
// as PyTorch's) gives the window for spectral analysis: the symmetric window of length + 1
// without its last sample.
Tensor hann_window(int64_t length, bool periodic = true, DType dtype = float32);
Tensor hamming_window(int64_t length, bool periodic = true, DType dtype = float32);

struct StftOptions {
  int64_t n_fft = 400;
  int64_t hop_length = -1;  // -1: n_fft / 4
  int64_t win_length = -1;  // -1: n_fft
  Tensor window;            // (win_length); undefined: all ones. Centred in n_fft when shorter.
  bool center = true;       // reflect-pad n_fft/2 samples on both sides, frame t centred at t*hop
  bool onesided = true;     // n_fft/2 + 1 frequencies (real input) or all n_fft
  bool normalized = false;  // multiply by 1/sqrt(n_fft)
};
// Short-time Fourier transform of real signals (..., L): complex (..., freq, frames, 2), as
// torch.view_as_real(torch.stft(x, ..., return_complex=True)).
Tensor stft(const Tensor& x, const StftOptions& options = {});

// |stft(x)|^power: power 2 (the power spectrogram) or 1 (magnitude), (..., freq, frames).
Tensor spectrogram(const Tensor& x, const StftOptions& options = {}, double power = 2.0);

enum class MelScale { htk, slaney };
struct MelOptions {
  int64_t n_freqs = 201;  // n_fft / 2 + 1
  double f_min = 0;
  double f_max = -1;  // -1: sample_rate / 2
  int64_t n_mels = 128;
  int64_t sample_rate = 16000;
  MelScale scale = MelScale::htk;
  bool slaney_norm = false;  // divide each triangle by its width in Hz (area normalisation)
};
// Triangular filters (n_freqs, n_mels) mapping a linear-frequency spectrogram onto the mel
// scale, as torchaudio.functional.melscale_fbanks (float32 unless dtype says otherwise).
Tensor mel_filterbank(const MelOptions& options, DType dtype = float32);

// The mel spectrogram (..., n_mels, frames) of signals (..., L): the power spectrogram
// mapped through mel_filterbank (its n_freqs taken from n_fft).
Tensor mel_spectrogram(const Tensor& x, const StftOptions& stft, const MelOptions& mel,
                       double power = 2.0);
// log(mel_spectrogram + eps).
Tensor log_mel_spectrogram(const Tensor& x, const StftOptions& stft, const MelOptions& mel,
                           double eps = 1e-6);
// 10 log10(max(x, amin)) (power) clamped below at (its max over the last two dims) - top_db
// (top_db < 0: no clamp), as torchaudio's AmplitudeToDB(stype="power") for one spectrogram.
Tensor power_to_db(const Tensor& x, double amin = 1e-10, double top_db = -1);

// The DCT-II matrix (n_mels, n_mfcc) with orthonormal scaling, as torchaudio's create_dct
// with norm="ortho": spectrum (..., n_mels) @ dct gives the coefficients.
Tensor dct_matrix(int64_t n_mfcc, int64_t n_mels, DType dtype = float32);
// Mel-frequency cepstral coefficients (..., n_mfcc, frames), as torchaudio.transforms.MFCC
// with log_mels=false: the DCT of power_to_db(mel_spectrogram, 1e-10, top_db).
Tensor mfcc(const Tensor& x, int64_t n_mfcc, const StftOptions& stft, const MelOptions& mel,
            double top_db = 80.0);

}  // namespace nabla
