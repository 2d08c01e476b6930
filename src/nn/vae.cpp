// The variational autoencoder: encoder to (mu, logvar), reparameterised sampling, decoder,
// and the negative ELBO (reconstruction negative log-likelihood + KL to the N(0, I) prior).
#include <cmath>
#include <numbers>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/nn/autoencoder.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/unary.h"

namespace nabla::nn {

Tensor reparameterize(const Tensor& mu, const Tensor& logvar, const Tensor& eps) {
  if (!mu.defined() || !logvar.defined() || !eps.defined())
    throw ValueError("[reparameterize] mu, logvar and eps must be defined");
  if (mu.shape() != logvar.shape() || mu.shape() != eps.shape())
    throw ShapeError("[reparameterize] mu " + shape_str(mu.shape()) + ", logvar " +
                     shape_str(logvar.shape()) + " and eps " + shape_str(eps.shape()) +
                     " must have one shape");
  return mu + exp(logvar * 0.5) * eps;
}

Tensor gaussian_kl(const Tensor& mu, const Tensor& logvar) {
  if (!mu.defined() || !logvar.defined())
    throw ValueError("[gaussian_kl] mu and logvar must be defined");
  if (mu.shape() != logvar.shape() || mu.ndim() < 1)
    throw ShapeError("[gaussian_kl] mu " + shape_str(mu.shape()) + " and logvar " +
                     shape_str(logvar.shape()) + " must have one shape of at least 1 dim");
  return sum(1.0 + logvar - square(mu) - exp(logvar), {-1}) * -0.5;
}

VAE::VAE(const std::vector<int64_t>& sizes, int64_t latent, VAEOptions options)
    : latent_(latent), options_(options), gen_(options.seed) {
  if (sizes.empty() || latent < 1)
    throw ValueError("[VAE] needs at least the input size and a latent size >= 1, got " +
                     std::to_string(sizes.size()) + " sizes and latent " + std::to_string(latent));
  name_ = "VAE(";
  for (int64_t s : sizes) {
    if (s < 1) throw ValueError("[VAE] sizes must be >= 1, got " + std::to_string(s));
    name_ += std::to_string(s) + "-";
  }
  name_ += "z" + std::to_string(latent) + ")";
  in_ = sizes[0];
  Sequential enc, dec;
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    enc.push_back(Linear(sizes[i], sizes[i + 1]));
    enc.push_back(ReLU());
  }
  dec.push_back(Linear(latent, sizes.back()));
  for (std::size_t i = sizes.size() - 1; i > 0; --i) {
    dec.push_back(ReLU());
    dec.push_back(Linear(sizes[i], sizes[i - 1]));
  }
  encoder_ = register_module("encoder", std::move(enc));
  mu_head_ = register_module("mu", Linear(sizes.back(), latent));
  logvar_head_ = register_module("logvar", Linear(sizes.back(), latent));
  decoder_ = register_module("decoder", std::move(dec));
}

void VAE::check_input(const Tensor& x) const {
  if (!x.defined()) throw ValueError("[" + name_ + "] the input is undefined");
  if (x.ndim() != 2 || x.shape()[1] != in_)
    throw ShapeError("[" + name_ + "] expects input (N, " + std::to_string(in_) + "), got shape " +
                     shape_str(x.shape()));
}

std::pair<Tensor, Tensor> VAE::encode(const Tensor& x) {
  check_input(x);
  Tensor h = (*encoder_)(x);
  return {(*mu_head_)(h), (*logvar_head_)(h)};
}

Tensor VAE::decode_raw(const Tensor& z) {
  if (!z.defined() || z.ndim() != 2 || z.shape()[1] != latent_)
    throw ShapeError(
        "[" + name_ + "] expects codes (N, " + std::to_string(latent_) + "), got " +
        (z.defined() ? "shape " + shape_str(z.shape()) : std::string("an undefined tensor")));
  return (*decoder_)(z);
}

Tensor VAE::decode(const Tensor& z) {
  Tensor raw = decode_raw(z);
  return options_.likelihood == Likelihood::bernoulli ? sigmoid(raw) : raw;
}

VAEOutput VAE::forward_all(const Tensor& x) {
  auto [mu, logvar] = encode(x);
  Tensor eps = randn_like(mu, &gen_);
  Tensor z = reparameterize(mu, logvar, eps);
  return {decode_raw(z), mu, logvar, z};
}

Tensor VAE::forward(const Tensor& x) {
  if (is_training()) return decode(forward_all(x).z);
  return decode(encode(x).first);
}

Tensor VAE::sample(int64_t n, Generator* gen) {
  if (n < 0) throw ValueError("[" + name_ + "] cannot draw " + std::to_string(n) + " samples");
  DType t = mu_head_->weight.dtype();
  return decode(randn({n, latent_}, t, gen ? gen : &gen_));
}

VAELoss vae_loss(const VAEOutput& out, const Tensor& x, Likelihood likelihood, double beta) {
  if (!x.defined() || !out.decoded.defined() || x.shape() != out.decoded.shape())
    throw ShapeError(
        "[vae_loss] data " + (x.defined() ? shape_str(x.shape()) : std::string("undefined")) +
        " and decoder output " +
        (out.decoded.defined() ? shape_str(out.decoded.shape()) : std::string("undefined")) +
        " must have one shape");
  Tensor nll;  // per example
  if (likelihood == Likelihood::bernoulli) {
    // -log Bernoulli(x | sigmoid(l)) = softplus(l) - x l, stable for any logit.
    nll = sum(softplus(out.decoded) - x * out.decoded, {-1});
  } else {
    const double d = double(x.shape().back());
    nll = sum(square(x - out.decoded), {-1}) * 0.5 + 0.5 * d * std::log(2 * std::numbers::pi);
  }
  Tensor kl = gaussian_kl(out.mu, out.logvar);
  Tensor rec = mean(nll), klm = mean(kl);
  return {rec + klm * beta, rec, klm};
}

double elbo(VAE& model, const Tensor& x, int64_t batch_size) {
  if (batch_size < 1)
    throw ValueError("[elbo] batch_size must be >= 1, got " + std::to_string(batch_size));
  if (!x.defined() || x.ndim() != 2 || x.shape()[0] == 0)
    throw ShapeError(
        "[elbo] expects data (N, d) with N >= 1, got " +
        (x.defined() ? "shape " + shape_str(x.shape()) : std::string("an undefined tensor")));
  NoGradGuard no_grad;
  const int64_t n = x.shape()[0];
  double total = 0;
  for (int64_t b = 0; b < n; b += batch_size) {
    Tensor xb = x.slice(0, b, std::min(n, b + batch_size));
    VAELoss l = vae_loss(model.forward_all(xb), xb, model.likelihood());
    total += l.loss.item<double>() * double(xb.shape()[0]);
  }
  return -total / double(n);
}

}  // namespace nabla::nn
