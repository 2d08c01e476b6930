// FFTs, the STFT, windows and the mel filterbank against PyTorch: the same inputs must give
// the same values and gradients (tests/torch/signal_reference.py, run live with Debian's
// python3-torch; skipped where it is not installed).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

namespace nb = nabla;
using nlohmann::json;

namespace {

json reference() {
  static json ref = nabla::testing::torch_reference("signal_reference.py");
  return ref;
}

nb::Tensor from_json(const json& j) {
  std::vector<int64_t> shape = j["shape"].get<std::vector<int64_t>>();
  return nb::tensor(j["data"].get<std::vector<double>>(), nb::Shape(shape.begin(), shape.end()));
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol + tol * std::fabs(want[i])) << what << " element " << i;
}

// Float64 and float32 values, float64 gradients.
void check(const std::string& name, const std::function<nb::Tensor(const nb::Tensor&)>& fn) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& c = ref["cases"].at(name);
  nb::Tensor x = from_json(c["input"]).requires_grad_();
  nb::Tensor out = fn(x);
  nb::Tensor want = from_json(c["output"]);
  ASSERT_EQ(nb::shape_str(out.shape()), nb::shape_str(want.shape())) << name;
  expect_near(out.to_vector<double>(), want.to_vector<double>(), 1e-10, name + " value");
  (out * from_json(c["weight"])).sum().backward();
  expect_near(x.grad().to_vector<double>(), c["grad"].get<std::vector<double>>(), 1e-10,
              name + " gradient");
  nb::Tensor out32 = fn(x.detach().astype(nb::float32));
  EXPECT_EQ(out32.dtype(), nb::float32);
  expect_near(out32.to_vector<double>(), want.to_vector<double>(), 1e-4, name + " float32 value");
}

TEST(SignalTorch, Fft) {
  check("fft", [](const nb::Tensor& x) { return nb::fft(x); });
}
TEST(SignalTorch, FftPaddedDim0Ortho) {
  check("fft_n_dim0_ortho", [](const nb::Tensor& x) { return nb::fft(x, 7, 0, "ortho"); });
}
TEST(SignalTorch, IfftForward) {
  check("ifft_forward", [](const nb::Tensor& x) { return nb::ifft(x, -1, -1, "forward"); });
}
TEST(SignalTorch, Rfft) {
  check("rfft", [](const nb::Tensor& x) { return nb::rfft(x); });
}
TEST(SignalTorch, RfftOddCropped) {
  check("rfft_odd_n", [](const nb::Tensor& x) { return nb::rfft(x, 9, 0); });
}
TEST(SignalTorch, Irfft) {
  check("irfft", [](const nb::Tensor& x) { return nb::irfft(x); });
}
TEST(SignalTorch, IrfftOddPaddedOrtho) {
  check("irfft_n_odd_ortho", [](const nb::Tensor& x) { return nb::irfft(x, 11, -1, "ortho"); });
}
TEST(SignalTorch, IrfftEvenCropped) {
  check("irfft_n_even_crop", [](const nb::Tensor& x) { return nb::irfft(x, 6); });
}
TEST(SignalTorch, Stft) {
  check("stft", [](const nb::Tensor& x) {
    return nb::stft(x, {.n_fft = 64,
                        .hop_length = 16,
                        .win_length = 48,
                        .window = nb::hann_window(48, true, x.dtype())});
  });
}
TEST(SignalTorch, StftHammingNoCenterNormalized) {
  check("stft_hamming_nocenter_normalized", [](const nb::Tensor& x) {
    return nb::stft(x, {.n_fft = 32,
                        .hop_length = 10,
                        .window = nb::hamming_window(32, true, x.dtype()),
                        .center = false,
                        .normalized = true});
  });
}
TEST(SignalTorch, StftTwoSided) {
  check("stft_twosided", [](const nb::Tensor& x) {
    return nb::stft(x, {.n_fft = 16,
                        .hop_length = 4,
                        .window = nb::hann_window(16, true, x.dtype()),
                        .onesided = false});
  });
}

TEST(SignalTorch, Windows) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  const json& w = ref["windows"];
  auto v = [&](const char* k) { return w[k].get<std::vector<double>>(); };
  expect_near(nb::hann_window(10, true, nb::float64).to_vector<double>(), v("hann_periodic"), 1e-12,
              "hann");
  expect_near(nb::hann_window(10, false, nb::float64).to_vector<double>(), v("hann_symmetric"),
              1e-12, "hann sym");
  expect_near(nb::hamming_window(9, true, nb::float64).to_vector<double>(), v("hamming_periodic"),
              1e-12, "hamming");
  expect_near(nb::hamming_window(9, false, nb::float64).to_vector<double>(), v("hamming_symmetric"),
              1e-12, "hamming sym");
}

TEST(SignalTorch, MelFilterbank) {
  json ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  nb::Tensor htk = nb::mel_filterbank(
      {.n_freqs = 201, .f_max = 8000, .n_mels = 40, .sample_rate = 16000}, nb::float64);
  nb::Tensor want = from_json(ref["mel"]["htk"]);
  ASSERT_EQ(htk.shape(), want.shape());
  expect_near(htk.to_vector<double>(), want.to_vector<double>(), 1e-10, "htk");
  nb::Tensor sl = nb::mel_filterbank({.n_freqs = 257,
                                      .f_min = 20,
                                      .f_max = 7600,
                                      .n_mels = 64,
                                      .sample_rate = 16000,
                                      .scale = nb::MelScale::slaney,
                                      .slaney_norm = true},
                                     nb::float64);
  want = from_json(ref["mel"]["slaney_norm"]);
  ASSERT_EQ(sl.shape(), want.shape());
  expect_near(sl.to_vector<double>(), want.to_vector<double>(), 1e-10, "slaney");
}

}  // namespace
