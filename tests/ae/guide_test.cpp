// The code blocks of docs/linalg.md and docs/examples_generative.md, as written there.
#include <gtest/gtest.h>

#include "nabla/nabla.h"

namespace nb = nabla;
namespace nn = nabla::nn;

TEST(Guide, LinalgEigh) {
  nb::Tensor m = nb::randn({5, 5}, nb::float64);
  nb::Tensor a = m + m.t();  // symmetric
  nb::Eigh e = nb::eigh(a);  // e.eigenvalues (5), ascending; e.eigenvectors (5, 5)
  // a V = V diag(w), V^T V = I
  nb::Tensor residual = nb::matmul(a, e.eigenvectors) - e.eigenvectors * e.eigenvalues;
  EXPECT_LT(nb::amax(nb::abs(residual)).item<double>(), 1e-12);
}

TEST(Guide, LinalgPca) {
  nb::Tensor x = nb::rand({1000, 784});  // rows are examples
  nb::PCA p = nb::pca(x, 32);         // mean (784), components (32, 784), explained_variance (32)
  nb::Tensor codes = p.transform(x);  // (1000, 32)
  nb::Tensor back = p.inverse_transform(codes);  // (1000, 784): the best rank-32 affine fit
  EXPECT_EQ(back.shape(), x.shape());
  EXPECT_EQ(codes.shape(), (nb::Shape{1000, 32}));
}

TEST(Guide, Autoencoders) {
  nb::Tensor x = nb::rand({8, 784});
  nn::Autoencoder ae = nn::dense_autoencoder({784, 512, 128, 32});
  nb::Tensor code = ae.encode(x);      // (N, 32)
  nb::Tensor recon = ae.decode(code);  // (N, 784); ae(x) does both
  nn::Autoencoder conv = nn::conv_autoencoder({1, 16, 32});
  EXPECT_EQ(recon.shape(), x.shape());
  EXPECT_EQ(conv(nb::rand({2, 1, 28, 28})).shape(), (nb::Shape{2, 1, 28, 28}));
  nb::data::Rng rng(0);
  nb::Tensor loss = nn::mse_loss(ae(nb::data::mask_noise(x, 0.25, rng)), x);
  EXPECT_GT(loss.item<float>(), 0.f);
}

TEST(Guide, Vae) {
  nb::Tensor x = nb::rand({8, 784}), x_test = nb::rand({4, 784});
  nn::VAE vae({784, 512, 256}, 20);
  nn::VAEOutput out = vae.forward_all(x);  // decoded (N, 784), mu, logvar, z (N, 20)
  nn::VAELoss l = nn::vae_loss(out, x, vae.likelihood(), /*beta=*/1.0);
  l.loss.backward();                    // l.reconstruction + beta * l.kl, means over the batch
  double elbo = nn::elbo(vae, x_test);  // mean ELBO per example, nats (one z sample each)
  nb::Tensor samples = vae.sample(64);  // decoded means of z ~ N(0, I)
  EXPECT_LT(elbo, 0);
  EXPECT_EQ(samples.shape(), (nb::Shape{64, 784}));
}
