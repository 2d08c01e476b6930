// A variational autoencoder on Fashion-MNIST: 784-512-256 encoder to a 20-d Gaussian code,
// the mirrored decoder to Bernoulli logits, Adam. Prints the test ELBO (nats per image, one
// sample of z per image) before training and after each epoch, and writes a grid of samples
// decoded from the prior.
//   vae [--epochs N] [--train-limit N] [--test-limit N] [--batch-size N] [--lr X]
//       [--latent N] [--data DIR] [--out samples.png]
#include <nabla/data/data.h>
#include <nabla/io/image.h>
#include <nabla/nabla.h>
#include <nabla/nn/nn.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "../common/flags.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

struct Args {
  int epochs = 10;
  int64_t train_limit = 0, test_limit = 0;  // 0: all
  int64_t batch_size = 128;
  double lr = 1e-3;
  int64_t latent = 20;
  std::string data = nb::data::kFashionMNISTDir;
  std::string out = "vae_samples.png";
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--train-limit", a.train_limit)
      .add("--test-limit", a.test_limit)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .add("--latent", a.latent)
      .add("--data", a.data)
      .add("--out", a.out)
      .parse(argc, argv);
  return a;
}

nb::Tensor rows_of(const nb::data::FashionMNIST& d, int64_t limit) {
  nb::Tensor x = d.inputs();
  if (limit > 0 && limit < x.shape()[0]) x = x.slice(0, 0, limit);
  return x.reshape({x.shape()[0], 784}).contiguous();
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(0);
  nb::Tensor train = rows_of(nb::data::FashionMNIST(args.data, true), args.train_limit);
  nb::Tensor test = rows_of(nb::data::FashionMNIST(args.data, false), args.test_limit);
  const int64_t n = train.shape()[0];
  std::printf("train %lld images, test %lld images, latent %lld\n", (long long)n,
              (long long)test.shape()[0], (long long)args.latent);

  nn::VAE vae({784, 512, 256}, args.latent, {.likelihood = nn::Likelihood::bernoulli, .seed = 7});
  nb::optim::Adam opt(vae.parameters(), {.lr = args.lr});
  nb::Generator shuffle(1);
  const double first = nn::elbo(vae, test);
  std::printf("epoch 0 (untrained): test ELBO %.2f nats per image\n", first);
  double last = first;
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    vae.train();
    nb::Tensor order = nb::permutation(n, nb::int64, &shuffle);
    double rec = 0, kl = 0;
    int64_t batches = 0;
    for (int64_t b = 0; b < n; b += args.batch_size) {
      nb::Tensor xb =
          nb::index_select(train, 0, order.slice(0, b, std::min(n, b + args.batch_size)));
      nn::VAELoss l = nn::vae_loss(vae.forward_all(xb), xb, vae.likelihood());
      opt.zero_grad();
      l.loss.backward();
      opt.step();
      rec += l.reconstruction.item<double>();
      kl += l.kl.item<double>();
      ++batches;
    }
    vae.eval();
    last = nn::elbo(vae, test);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "epoch %d: train reconstruction %.2f + KL %.2f nats, test ELBO %.2f nats per image (%.1f "
        "s)\n",
        epoch, rec / double(batches), kl / double(batches), last, secs);
    std::fflush(stdout);
  }
  std::printf("test ELBO: %.2f nats per image (untrained %.2f)\n", last, first);
  {
    nb::NoGradGuard no_grad;
    nb::Generator prior(123);
    nb::io::save_image_grid(vae.sample(64, &prior).reshape({64, 1, 28, 28}), args.out,
                            {.columns = 8});
    std::printf("wrote %s (64 samples from the prior)\n", args.out.c_str());
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
