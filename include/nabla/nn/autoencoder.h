// Autoencoders: builders for symmetric deep autoencoders (dense and convolutional) and a
// variational autoencoder with the reparameterisation trick, its loss and ELBO.
// Input corruption for denoising autoencoders lives in nabla/data/corruption.h.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"
#include "nabla/random.h"

namespace nabla::nn {

// The decoder's last activation: sigmoid for data in [0, 1] (images), tanh for [-1, 1],
// none for unbounded data.
enum class OutputActivation { none, sigmoid, tanh, relu };

// An encoder and a decoder; forward(x) = decode(encode(x)). Inputs are checked against the
// shape the encoder expects and errors name the model, e.g.
// "[Autoencoder(784-512-128-32)] expects input (N, 784), got shape (8, 100)".
class Autoencoder : public Module {
 public:
  // in_shape: the per-example input shape ({784} or {1, 28, 28}); `down`: the factor each
  // spatial dim must be divisible by (1 for dense models).
  Autoencoder(Sequential encoder, Sequential decoder, std::string name, Shape in_shape,
              int64_t down = 1);
  Tensor encode(const Tensor& x);
  Tensor decode(const Tensor& code);
  Tensor forward(const Tensor& x) override { return decode(encode(x)); }
  std::string describe() const override { return name_; }
  Sequential& encoder() { return *encoder_; }
  Sequential& decoder() { return *decoder_; }

 private:
  std::shared_ptr<Sequential> encoder_, decoder_;
  std::string name_;
  Shape in_shape_;
  int64_t down_;
};

struct DenseAutoencoderOptions {
  OutputActivation output = OutputActivation::sigmoid;
};
// sizes {784, 512, 128, 32}: encoder Linear(784, 512) ReLU Linear(512, 128) ReLU
// Linear(128, 32) (a linear code), decoder Linear(32, 128) ReLU Linear(128, 512) ReLU
// Linear(512, 784) and the output activation. Input (N, sizes[0]); code (N, sizes.back()).
// Throws ValueError for fewer than 2 sizes or a size < 1.
Autoencoder dense_autoencoder(const std::vector<int64_t>& sizes,
                              DenseAutoencoderOptions options = {});

struct ConvAutoencoderOptions {
  int64_t kernel_size = 3;  // odd; padding kernel_size / 2
  OutputActivation output = OutputActivation::sigmoid;
};
// channels {1, 16, 32}: encoder Conv2d(1, 16, k, stride 2) ReLU Conv2d(16, 32, k, stride 2)
// ReLU, decoder ConvTranspose2d(32, 16, k, stride 2) ReLU ConvTranspose2d(16, 1, k, stride 2)
// and the output activation: (N, 1, 28, 28) -> code (N, 32, 7, 7) -> (N, 1, 28, 28). Height
// and width must be divisible by 2^(levels). Throws ValueError for fewer than 2 channel
// counts, a count < 1 or an even kernel size.
Autoencoder conv_autoencoder(const std::vector<int64_t>& channels,
                             ConvAutoencoderOptions options = {});

// The distribution p(x | z) the VAE's decoder parameterises.
enum class Likelihood {
  bernoulli,  // decoder logits; data in [0, 1]; -log p = BCE with logits summed over features
  gaussian,   // decoder mean, unit variance; -log p = 0.5 |x - mean|^2 + 0.5 d log(2 pi)
};

struct VAEOptions {
  Likelihood likelihood = Likelihood::bernoulli;
  uint64_t seed = 0;  // of the generator the reparameterisation draws eps from
};

struct VAEOutput {
  Tensor decoded;        // decoder output: logits (bernoulli) or means (gaussian), (N, d)
  Tensor mu, logvar, z;  // (N, latent)
};

// z = mu + exp(logvar / 2) * eps: the reparameterisation trick (gradients reach mu and logvar).
Tensor reparameterize(const Tensor& mu, const Tensor& logvar, const Tensor& eps);
// KL(N(mu, exp(logvar)) || N(0, I)) per example, summed over the last dim (N):
// -0.5 sum(1 + logvar - mu^2 - exp(logvar)).
Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar);

// A dense VAE. sizes {784, 512, 256}, latent 20: encoder Linear(784, 512) ReLU
// Linear(512, 256) ReLU, heads Linear(256, 20) for mu and for logvar; decoder Linear(20, 256)
// ReLU Linear(256, 512) ReLU Linear(512, 784).
class VAE : public Module {
 public:
  VAE(const std::vector<int64_t>& sizes, int64_t latent, VAEOptions options = {});
  // mu and logvar of q(z | x).
  std::pair<Tensor, Tensor> encode(const Tensor& x);
  // The decoder's raw output (logits or means) for codes z (N, latent).
  Tensor decode_raw(const Tensor& z);
  // The mean of p(x | z): sigmoid(logits) or the Gaussian mean.
  Tensor decode(const Tensor& z);
  // Encodes, draws z with eps from the model's generator, decodes.
  VAEOutput forward_all(const Tensor& x);
  // Training mode: the mean of p(x | z) at a sampled z; eval mode: at z = mu.
  Tensor forward(const Tensor& x) override;
  // Decoded means of n codes drawn from the prior N(0, I).
  Tensor sample(int64_t n, Generator* gen = nullptr);
  std::string describe() const override { return name_; }
  int64_t latent_dim() const { return latent_; }
  Likelihood likelihood() const { return options_.likelihood; }
  Generator& generator() { return gen_; }

 private:
  void check_input(const Tensor& x) const;
  std::shared_ptr<Sequential> encoder_, decoder_;
  std::shared_ptr<Linear> mu_head_, logvar_head_;
  int64_t in_, latent_;
  VAEOptions options_;
  Generator gen_;
  std::string name_;
};

// The negative ELBO and its parts, each averaged over the batch (nats per example):
// loss = reconstruction + beta * kl, reconstruction = E_q[-log p(x | z)] (one sample).
struct VAELoss {
  Tensor loss, reconstruction, kl;
};
VAELoss vae_loss(const VAEOutput& out, const Tensor& x, Likelihood likelihood, double beta = 1.0);
// The mean per-example ELBO (nats, <= log p(x)) of data x (N, d) with one sample of z per
// example, evaluated without gradient in batches of `batch_size`.
double elbo(VAE& model, const Tensor& x, int64_t batch_size = 1000);

}  // namespace nabla::nn
