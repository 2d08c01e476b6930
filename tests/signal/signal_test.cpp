// The signal ops' error paths, round trips over lengths that take each FFT path (radix 2/4,
// mixed radix, Bluestein), and properties of the features.
#include <gtest/gtest.h>

#include <cmath>

#include "core/samples.h"

namespace nb = nabla;
using nabla::testing::message_of;
using nabla::testing::rnd;

namespace {

double max_abs_diff(const nb::Tensor& a, const nb::Tensor& b) {
  return nb::amax(nb::abs(a - b)).item<double>();
}

TEST(Signal, RoundTripsEveryLength) {
  for (int64_t n : {1, 2, 3, 5, 8, 12, 30, 97, 143, 1000, 1009, 4096}) {
    nb::Tensor x = rnd({3, n}, nb::float64, double(n));
    EXPECT_LT(max_abs_diff(nb::irfft(nb::rfft(x), n), x), 1e-12) << n;
    nb::Tensor z = rnd({2, n, 2}, nb::float64, 0.5);
    EXPECT_LT(max_abs_diff(nb::ifft(nb::fft(z)), z), 1e-12) << n;
    nb::Tensor z32 = z.astype(nb::float32);
    EXPECT_LT(max_abs_diff(nb::ifft(nb::fft(z32, -1, -1, "ortho"), -1, -1, "ortho"), z32), 1e-5)
        << n;
  }
}

TEST(Signal, FftOfRealMatchesRfft) {
  nb::Tensor x = rnd({4, 31}, nb::float64);
  nb::Tensor full = nb::fft(nb::stack({x, nb::zeros_like(x)}, -1));
  EXPECT_LT(max_abs_diff(full.slice(1, 0, 16), nb::rfft(x)), 1e-12);
}

TEST(Signal, ParsevalAndSine) {
  // A sine of 5 cycles in 64 samples puts n/2 at frequency 5 (imaginary, negative).
  std::vector<double> v(64);
  for (int i = 0; i < 64; ++i) v[std::size_t(i)] = std::sin(2 * M_PI * 5 * i / 64.0);
  nb::Tensor X = nb::rfft(nb::tensor(v, {64}));
  EXPECT_NEAR(X.select(0, 5).to_vector<double>()[1], -32.0, 1e-9);
  EXPECT_NEAR(nb::sum(X * X).item<double>() - 32 * 32, 0.0, 1e-8);
}

TEST(Signal, SpectrogramShapesAndBatchDims) {
  nb::Tensor x = rnd({2, 3, 1600});
  nb::Tensor S =
      nb::spectrogram(x, {.n_fft = 400, .hop_length = 160, .window = nb::hann_window(400)});
  EXPECT_EQ(S.shape(), (nb::Shape{2, 3, 201, 11}));
  nb::Tensor one =
      nb::spectrogram(x.select(0, 1).select(0, 2),
                      {.n_fft = 400, .hop_length = 160, .window = nb::hann_window(400)});
  EXPECT_LT(max_abs_diff(one, S.select(0, 1).select(0, 2)), 1e-3);
  nb::Tensor M =
      nb::mfcc(x, 13, {.n_fft = 400, .hop_length = 160}, {.n_mels = 40, .sample_rate = 16000});
  EXPECT_EQ(M.shape(), (nb::Shape{2, 3, 13, 11}));
  nb::Tensor L = nb::log_mel_spectrogram(x, {.n_fft = 512, .hop_length = 128}, {.n_mels = 64});
  EXPECT_EQ(L.shape(), (nb::Shape{2, 3, 64, 13}));
}

TEST(Signal, MelFilterbankTriangles) {
  nb::Tensor fb =
      nb::mel_filterbank({.n_freqs = 513, .n_mels = 20, .sample_rate = 16000}, nb::float64);
  EXPECT_EQ(fb.shape(), (nb::Shape{513, 20}));
  // Each triangle peaks near 1; consecutive triangles overlap and sum to about 1 between
  // their centres.
  nb::Tensor peaks = nb::amax(fb, {0});
  EXPECT_GT(nb::amin(peaks).item<double>(), 0.9);
  EXPECT_LE(nb::amax(peaks).item<double>(), 1.0 + 1e-12);
  nb::Tensor total = nb::sum(fb, {1});
  EXPECT_NEAR(total.select(0, 200).item<double>(), 1.0, 1e-9);
  nb::Tensor sl = nb::mel_filterbank({.n_freqs = 513,
                                      .n_mels = 20,
                                      .sample_rate = 16000,
                                      .scale = nb::MelScale::slaney,
                                      .slaney_norm = true},
                                     nb::float64);
  EXPECT_GT(nb::amin(nb::sum(sl, {0})).item<double>(), 0.0);
}

TEST(Signal, DctIsOrthonormal) {
  nb::Tensor d = nb::dct_matrix(16, 16, nb::float64);
  EXPECT_LT(max_abs_diff(nb::matmul(d.t(), d), nb::eye(16, -1, nb::float64)), 1e-12);
}

TEST(Signal, FftErrors) {
  nb::Tensor real = rnd({3, 5});
  EXPECT_THROW(nb::fft(real), nb::ShapeError);
  EXPECT_EQ(message_of([&] { nb::fft(real); }),
            "[fft] expects a complex tensor stored as (..., 2) (real, imaginary), got (3, 5)");
  EXPECT_THROW(nb::irfft(real), nb::ShapeError);
  EXPECT_THROW(nb::ifft(rnd({2})), nb::ShapeError);
  EXPECT_THROW(nb::fft(rnd({3, 2}).astype(nb::int64)), nb::DTypeError);
  EXPECT_THROW(nb::rfft(rnd({3}).astype(nb::float16)), nb::DTypeError);
  EXPECT_THROW(nb::rfft(rnd({3}).astype(nb::int32)), nb::DTypeError);
  EXPECT_THROW(nb::fft(rnd({3, 2}), -1, 1), nb::IndexError);
  EXPECT_THROW(nb::rfft(real, -1, 2), nb::IndexError);
  EXPECT_THROW(nb::rfft(real, -1, -3), nb::IndexError);
  EXPECT_THROW(nb::rfft(real, 0), nb::ValueError);
  EXPECT_THROW(nb::rfft(rnd({3, 0})), nb::ValueError);
  EXPECT_THROW(nb::rfft(nb::tensor(std::vector<float>{1}, {})), nb::ShapeError);
  EXPECT_THROW(nb::irfft(rnd({1, 2})), nb::ValueError);  // 2 (1 - 1) = 0 samples
  EXPECT_THROW(nb::fft(rnd({3, 2}), -1, -1, "unitary"), nb::ValueError);
  EXPECT_EQ(message_of([&] { nb::rfft(real, -1, -1, "Ortho"); }),
            "[rfft] norm must be \"backward\", \"ortho\" or \"forward\", got \"Ortho\"");
}

TEST(Signal, StftErrors) {
  nb::Tensor x = rnd({2, 100});
  EXPECT_THROW(nb::stft(nb::tensor(std::vector<float>{1}, {})), nb::ShapeError);
  EXPECT_THROW(nb::stft(x.astype(nb::int64), {.n_fft = 16}), nb::DTypeError);
  EXPECT_THROW(nb::stft(x, {.n_fft = 0}), nb::ValueError);
  EXPECT_THROW(nb::stft(x, {.n_fft = 16, .hop_length = 0}), nb::ValueError);
  EXPECT_THROW(nb::stft(x, {.n_fft = 16, .win_length = 17}), nb::ValueError);
  EXPECT_THROW(nb::stft(x, {.n_fft = 16, .window = nb::ones({15})}), nb::ShapeError);
  EXPECT_THROW(nb::stft(x, {.n_fft = 16, .window = nb::ones({16}, nb::int64)}), nb::DTypeError);
  EXPECT_THROW(nb::stft(x, {.n_fft = 256}), nb::ValueError);  // reflect pad 128 >= 100
  EXPECT_THROW(nb::stft(x, {.n_fft = 128, .center = false}), nb::ValueError);
  EXPECT_THROW(nb::spectrogram(x, {.n_fft = 16}, 0.0), nb::ValueError);
  EXPECT_THROW(nb::log_mel_spectrogram(x, {.n_fft = 16}, {.n_mels = 4}, 0.0), nb::ValueError);
}

TEST(Signal, FeatureErrors) {
  EXPECT_THROW(nb::hann_window(-1), nb::ValueError);
  EXPECT_THROW(nb::hamming_window(4, true, nb::int64), nb::DTypeError);
  EXPECT_EQ(nb::hann_window(0).numel(), 0);
  EXPECT_EQ(nb::hann_window(1).item<float>(), 1.0f);
  EXPECT_THROW(nb::mel_filterbank({.n_freqs = 0}), nb::ValueError);
  EXPECT_THROW(nb::mel_filterbank({.n_mels = 0}), nb::ValueError);
  EXPECT_THROW(nb::mel_filterbank({.sample_rate = 0}), nb::ValueError);
  EXPECT_THROW(nb::mel_filterbank({.f_min = 9000, .sample_rate = 16000}), nb::ValueError);
  EXPECT_THROW(nb::mel_filterbank({.f_min = -1}), nb::ValueError);
  EXPECT_THROW(nb::mel_filterbank({}, nb::int32), nb::DTypeError);
  EXPECT_THROW(nb::dct_matrix(20, 10), nb::ValueError);
  EXPECT_THROW(nb::dct_matrix(0, 10), nb::ValueError);
  EXPECT_THROW(nb::power_to_db(rnd({4}), 1e-10, 80), nb::ShapeError);
  EXPECT_THROW(nb::power_to_db(rnd({4, 4}), 0.0), nb::ValueError);
  EXPECT_THROW(nb::mfcc(rnd({2, 800}), 50, {.n_fft = 64}, {.n_mels = 40}), nb::ValueError);
}

TEST(Signal, GradientsFlowThroughFeatures) {
  nb::Tensor x = rnd({2, 800}).requires_grad_();
  nb::mfcc(x, 13, {.n_fft = 128, .hop_length = 64}, {.n_mels = 32, .sample_rate = 8000})
      .sum()
      .backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(nb::all(nb::isfinite(x.grad())).item<bool>());
  EXPECT_GT(nb::amax(nb::abs(x.grad())).item<double>(), 0.0);
}

TEST(Signal, CompiledMatchesEager) {
  nb::Tensor x = rnd({2, 500});
  auto f = nb::jit([](const nb::Tensor& t) {
    return nb::log_mel_spectrogram(t,
                                   {.n_fft = 64, .hop_length = 32, .window = nb::hann_window(64)},
                                   {.n_mels = 16, .sample_rate = 8000});
  });
  nb::Tensor eager =
      nb::log_mel_spectrogram(x, {.n_fft = 64, .hop_length = 32, .window = nb::hann_window(64)},
                              {.n_mels = 16, .sample_rate = 8000});
  EXPECT_LT(max_abs_diff(f(x), eager), 1e-5);
}

}  // namespace
