// Autoencoder builders, the VAE (KL term, reparameterisation gradients, loss, sampling),
// corruption transforms, and learning on toy data.
#include <gtest/gtest.h>

#include <cmath>

#include "core/samples.h"
#include "nabla/nabla.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

using nabla::testing::message_of;

TEST(Autoencoder, DenseShapesAndLayers) {
  nn::Autoencoder ae = nn::dense_autoencoder({784, 512, 128, 32});
  nb::Tensor x = nb::rand({8, 784});
  EXPECT_EQ(ae.encode(x).shape(), (nb::Shape{8, 32}));
  nb::Tensor y = ae(x);
  EXPECT_EQ(y.shape(), (nb::Shape{8, 784}));
  EXPECT_GT(nb::amin(y).item<float>(), 0.f);  // sigmoid output
  EXPECT_LT(nb::amax(y).item<float>(), 1.f);
  EXPECT_EQ(ae.encoder().size(), 5u);  // Linear ReLU Linear ReLU Linear
  EXPECT_EQ(ae.decoder().size(), 6u);  // Linear ReLU Linear ReLU Linear Sigmoid
  const int64_t params =
      2 * (784 * 512 + 512 * 128 + 128 * 32) + (512 + 128 + 32) + (128 + 512 + 784);
  EXPECT_EQ(ae.num_parameters(), params);
  EXPECT_EQ(ae.describe(), "Autoencoder(784-512-128-32)");
  EXPECT_TRUE(ae.state_dict().count("decoder.4.weight"));
  nn::Autoencoder lin = nn::dense_autoencoder({10, 3}, {.output = nn::OutputActivation::none});
  EXPECT_EQ(lin.decoder().size(), 1u);
  EXPECT_EQ(lin.decode(nb::ones({2, 3})).shape(), (nb::Shape{2, 10}));
}

TEST(Autoencoder, ConvShapes) {
  nn::Autoencoder ae = nn::conv_autoencoder({1, 16, 32});
  nb::Tensor x = nb::rand({4, 1, 28, 28});
  EXPECT_EQ(ae.encode(x).shape(), (nb::Shape{4, 32, 7, 7}));
  EXPECT_EQ(ae(x).shape(), (nb::Shape{4, 1, 28, 28}));
  nn::mse_loss(ae(x), x).backward();
  for (auto& [name, p] : ae.named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
  EXPECT_EQ(ae.named_parameters().size(), 8u);  // 2 convs, 2 transposed convs, with biases
  // A VAE without hidden layers: heads on the input, one decoder layer.
  nn::VAE flat({6}, 2);
  EXPECT_EQ(flat.forward_all(nb::rand({3, 6})).decoded.shape(), (nb::Shape{3, 6}));
  nn::Autoencoder five =
      nn::conv_autoencoder({3, 8, 8, 4}, {.kernel_size = 5, .output = nn::OutputActivation::tanh});
  nb::Tensor y = five(nb::rand({2, 3, 16, 24}));
  EXPECT_EQ(y.shape(), (nb::Shape{2, 3, 16, 24}));
  EXPECT_LE(nb::amax(nb::abs(y)).item<float>(), 1.f);
}

TEST(Autoencoder, Errors) {
  nn::Autoencoder ae = nn::dense_autoencoder({784, 32});
  EXPECT_THROW(ae(nb::ones({2, 100})), nb::ShapeError);
  EXPECT_EQ(message_of([&] {
              ae(nb::ones({2, 100}));
            }),
            "[Autoencoder(784-32)] expects input (N, 784), got shape (2, 100)");
  EXPECT_THROW(ae(nb::ones({784})), nb::ShapeError);
  nn::Autoencoder conv = nn::conv_autoencoder({1, 16, 32});
  EXPECT_THROW(conv(nb::ones({2, 3, 28, 28})), nb::ShapeError);
  EXPECT_EQ(message_of([&] {
              conv(nb::ones({2, 1, 27, 28}));
            }),
            "[ConvAutoencoder(1-16-32)] expects input (N, 1, ?, ?) with height and width divisible "
            "by 4, got "
            "shape (2, 1, 27, 28)");
  EXPECT_THROW(nn::dense_autoencoder({784}), nb::ValueError);
  EXPECT_THROW(nn::dense_autoencoder({784, 0}), nb::ValueError);
  EXPECT_THROW(nn::conv_autoencoder({1, 16}, {.kernel_size = 4}), nb::ValueError);
  EXPECT_THROW(nn::VAE({784}, 0), nb::ValueError);
  nn::VAE vae({20, 16}, 4);
  EXPECT_EQ(message_of([&] {
              vae.forward_all(nb::ones({3, 21}));
            }),
            "[VAE(20-16-z4)] expects input (N, 20), got shape (3, 21)");
  EXPECT_THROW(vae.decode(nb::ones({3, 5})), nb::ShapeError);
  EXPECT_THROW(nn::gaussian_kl(nb::ones({3, 4}), nb::ones({3, 5})), nb::ShapeError);
  EXPECT_THROW(nn::reparameterize(nb::ones({3, 4}), nb::ones({3, 4}), nb::ones({4})),
               nb::ShapeError);
  EXPECT_THROW(nn::vae_loss(vae.forward_all(nb::ones({3, 20})), nb::ones({3, 19}),
                            nn::Likelihood::bernoulli),
               nb::ShapeError);
  EXPECT_THROW(nn::elbo(vae, nb::ones({3, 20}), 0), nb::ValueError);
}

TEST(Vae, KlMatchesClosedForm) {
  nb::Tensor mu = nb::randn({5, 3}, nb::float64), logvar = nb::randn({5, 3}, nb::float64);
  std::vector<double> m = mu.to_vector<double>(), lv = logvar.to_vector<double>();
  std::vector<double> kl = nn::gaussian_kl(mu, logvar).to_vector<double>();
  ASSERT_EQ(kl.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    // KL(N(m, s^2) || N(0, 1)) = log(1 / s) + (s^2 + m^2) / 2 - 1/2, summed over dims.
    double want = 0;
    for (int j = 0; j < 3; ++j) {
      double s = std::exp(0.5 * lv[std::size_t(i * 3 + j)]), mm = m[std::size_t(i * 3 + j)];
      want += -std::log(s) + (s * s + mm * mm) / 2 - 0.5;
    }
    EXPECT_NEAR(kl[std::size_t(i)], want, 1e-12) << i;
  }
  EXPECT_NEAR(nn::gaussian_kl(nb::zeros({2, 7}), nb::zeros({2, 7})).sum().item<float>(), 0.f, 0);
}

TEST(Vae, ReparameterisationGradientMatchesFiniteDifferences) {
  nb::Generator g(11);
  nb::Tensor eps = nb::randn({4, 3}, nb::float64, &g);
  nb::Tensor c = nb::randn({4, 3}, nb::float64, &g);
  std::vector<double> mu0 = nb::randn({4, 3}, nb::float64, &g).to_vector<double>();
  std::vector<double> lv0 = nb::randn({4, 3}, nb::float64, &g).to_vector<double>();
  auto f = [&](const nb::Tensor& mu, const nb::Tensor& lv) {
    nb::Tensor z = nn::reparameterize(mu, lv, eps);
    return nb::sum(c * z * z * z) + nn::gaussian_kl(mu, lv).sum();
  };
  nb::Tensor mu = nb::tensor(mu0, {4, 3}).requires_grad_(),
             lv = nb::tensor(lv0, {4, 3}).requires_grad_();
  f(mu, lv).backward();
  std::vector<double> gmu = mu.grad().to_vector<double>(), glv = lv.grad().to_vector<double>();
  const double h = 1e-6;
  for (std::size_t i = 0; i < mu0.size(); ++i) {
    auto at = [&](std::vector<double> a, std::vector<double> b) {
      return f(nb::tensor(a, {4, 3}), nb::tensor(b, {4, 3})).item<double>();
    };
    auto mp = mu0, mm = mu0, lp = lv0, lm = lv0;
    mp[i] += h;
    mm[i] -= h;
    lp[i] += h;
    lm[i] -= h;
    EXPECT_NEAR(gmu[i], (at(mp, lv0) - at(mm, lv0)) / (2 * h), 1e-6 * (1 + std::fabs(gmu[i]))) << i;
    EXPECT_NEAR(glv[i], (at(mu0, lp) - at(mu0, lm)) / (2 * h), 1e-6 * (1 + std::fabs(glv[i]))) << i;
  }
}

TEST(Vae, ForwardLossAndSampling) {
  nn::VAE vae({20, 16}, 4, {.seed = 5});
  nb::Tensor x = nb::rand({6, 20});
  nn::VAEOutput out = vae.forward_all(x);
  EXPECT_EQ(out.decoded.shape(), (nb::Shape{6, 20}));
  EXPECT_EQ(out.mu.shape(), (nb::Shape{6, 4}));
  EXPECT_EQ(out.z.shape(), (nb::Shape{6, 4}));
  // The loss's parts: BCE-with-logits summed per example, averaged; KL averaged.
  nn::VAELoss l = nn::vae_loss(out, x, nn::Likelihood::bernoulli, 0.5);
  double bce = nb::nn::binary_cross_entropy_with_logits(out.decoded, x, {}, nb::nn::Reduction::sum)
                   .item<double>() /
               6;
  EXPECT_NEAR(l.reconstruction.item<double>(), bce, 1e-4 * bce);
  EXPECT_NEAR(l.kl.item<double>(), nn::gaussian_kl(out.mu, out.logvar).mean().item<double>(), 1e-6);
  EXPECT_NEAR(l.loss.item<double>(), l.reconstruction.item<double>() + 0.5 * l.kl.item<double>(),
              1e-4);
  l.loss.backward();
  for (auto& [name, p] : vae.named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
  // Gaussian likelihood: 0.5 |x - mean|^2 + 0.5 d log(2 pi) per example.
  nn::VAELoss lg = nn::vae_loss(out, x, nn::Likelihood::gaussian);
  double want = nb::sum(nb::square(x - out.decoded)).item<double>() / 12 + 10 * std::log(2 * M_PI);
  EXPECT_NEAR(lg.reconstruction.item<double>(), want, 1e-4 * want);
  // The same seed draws the same eps.
  nn::VAE again({20, 16}, 4, {.seed = 5});
  again.load_state_dict(vae.state_dict());
  EXPECT_EQ(again.forward_all(x).z.to_vector<float>(), out.z.to_vector<float>()) << "seeded eps";
  EXPECT_NE(vae.forward_all(x).z.to_vector<float>(), out.z.to_vector<float>())
      << "fresh eps per call";
  nb::Tensor s = vae.sample(9);
  EXPECT_EQ(s.shape(), (nb::Shape{9, 20}));
  EXPECT_GT(nb::amin(s).item<float>(), 0.f);
  vae.eval();
  EXPECT_EQ(vae(x).to_vector<float>(), vae.decode(vae.encode(x).first).to_vector<float>());
}

TEST(Corruption, Statistics) {
  nb::data::Rng rng(1);
  nb::Tensor x = nb::full({200, 500}, 0.5);
  nb::Tensor m = nb::data::mask_noise(x, 0.3, rng);
  EXPECT_EQ(nb::sum(m == 0.0).item<int64_t>(), 30000);
  EXPECT_EQ(nb::sum(m == 0.5).item<int64_t>(), 70000);
  nb::Tensor g = nb::data::add_gaussian_noise(x, 0.2, rng).astype(nb::float64) - 0.5;
  EXPECT_NEAR(nb::mean(g).item<double>(), 0.0, 0.002);
  EXPECT_NEAR(nb::std(g).item<double>(), 0.2, 0.002);
  nb::Tensor clipped = nb::data::add_gaussian_noise(x, 1.0, rng, {.clip = true});
  EXPECT_GE(nb::amin(clipped).item<float>(), 0.f);
  EXPECT_LE(nb::amax(clipped).item<float>(), 1.f);
  nb::Tensor sp = nb::data::salt_and_pepper(x, 0.1, rng);
  int64_t lo = nb::sum(sp == 0.0).item<int64_t>(), hi = nb::sum(sp == 1.0).item<int64_t>();
  EXPECT_EQ(lo + hi, 10000);
  EXPECT_NEAR(double(lo) / 10000, 0.5, 0.03);
  // As transforms: one image, reproducible from its generator, input untouched.
  nb::data::Transform t = nb::data::masking_noise(0.25);
  nb::Tensor img = nb::ones({1, 28, 28}, nb::float64);
  nb::data::Rng r1(9), r2(9);
  nb::Tensor a = t(img, r1), b = t(img, r2);
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
  EXPECT_EQ(nb::sum(a == 0.0).item<int64_t>(), 196);
  EXPECT_EQ(nb::sum(img).item<double>(), 784);
  EXPECT_EQ(nb::data::gaussian_noise(0.1)(img).shape(), img.shape());
  EXPECT_EQ(nb::data::salt_and_pepper_noise(0.5)(img).shape(), img.shape());
}

TEST(Corruption, Errors) {
  nb::data::Rng rng(1);
  EXPECT_THROW(nb::data::mask_noise(nb::ones({3}, nb::int64), 0.1, rng), nb::DTypeError);
  EXPECT_THROW(nb::data::mask_noise(nb::ones({3}), 1.5, rng), nb::ValueError);
  EXPECT_THROW(nb::data::salt_and_pepper(nb::ones({3}), -0.1, rng), nb::ValueError);
  EXPECT_THROW(nb::data::add_gaussian_noise(nb::ones({3}), -1, rng), nb::ValueError);
  EXPECT_THROW(nb::data::gaussian_noise(-1), nb::ValueError);
  EXPECT_THROW(nb::data::masking_noise(2), nb::ValueError);
  EXPECT_THROW(nb::data::add_gaussian_noise(nb::Tensor(), 1, rng), nb::ValueError);
}

// Data on a 2-d manifold in R^20: a dense AE with a 2-d code learns to reconstruct it, and a
// denoising AE trained on masked inputs reconstructs clean data from corrupted inputs.
TEST(Autoencoder, LearnsToyData) {
  nb::manual_seed(0);
  nb::Generator g(2);
  nb::Tensor w = nb::randn({2, 20}, nb::float32, &g) * 2.0;
  nb::Tensor x = nb::sigmoid(nb::matmul(nb::randn({512, 2}, nb::float32, &g), w));
  nn::Autoencoder ae = nn::dense_autoencoder({20, 32, 2});
  nb::optim::Adam opt(ae.parameters(), {.lr = 1e-2});
  auto mse = [&](const nb::Tensor& in) { return nn::mse_loss(ae(in), x); };
  double before = mse(x).item<double>();
  nb::data::Rng rng(3);
  for (int step = 0; step < 300; ++step) {
    nb::Tensor noisy = step % 2 ? nb::data::mask_noise(x, 0.1, rng) : x;
    nb::Tensor loss = mse(noisy);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  double after = mse(x).item<double>();
  EXPECT_LT(after, 0.1 * before) << before << " -> " << after;
  EXPECT_LT(mse(nb::data::mask_noise(x, 0.1, rng)).item<double>(), 0.2 * before);
}

TEST(Vae, ElboImprovesOnToyData) {
  nb::manual_seed(0);
  nb::Generator g(4);
  nb::Tensor w = nb::randn({2, 20}, nb::float32, &g) * 3.0;
  nb::Tensor x = nb::sigmoid(nb::matmul(nb::randn({512, 2}, nb::float32, &g), w));
  nn::VAE vae({20, 32}, 2, {.seed = 1});
  nb::optim::Adam opt(vae.parameters(), {.lr = 1e-2});
  double before = nn::elbo(vae, x, 128);
  for (int step = 0; step < 200; ++step) {
    nb::Tensor loss = nn::vae_loss(vae.forward_all(x), x, nn::Likelihood::bernoulli).loss;
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  double after = nn::elbo(vae, x, 128);
  EXPECT_LT(after, 0.0);
  EXPECT_GT(after, before + 1.0) << before << " -> " << after;
}

}  // namespace
