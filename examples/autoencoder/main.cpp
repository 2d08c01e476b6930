// A deep autoencoder on Fashion-MNIST against PCA with the same code size: the dense
// 784-512-128-32-128-512-784 autoencoder (ReLU, sigmoid output, MSE, Adam) vs the top 32
// principal components (nabla's eigh on the training covariance). Prints the test-set
// reconstruction MSE of both and writes a PNG grid: originals, autoencoder, PCA (one row each).
//   autoencoder [--epochs N] [--train-limit N] [--test-limit N] [--batch-size N] [--lr X]
//               [--code N] [--output sigmoid|none] [--data DIR] [--out grid.png]
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
  int64_t code = 32;
  std::string data = nb::data::kFashionMNISTDir;
  std::string out = "autoencoder_reconstructions.png";
  std::string output = "sigmoid";  // the decoder's output activation: sigmoid or none
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--train-limit", a.train_limit)
      .add("--test-limit", a.test_limit)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .add("--code", a.code)
      .add("--data", a.data)
      .add("--out", a.out)
      .add("--output", a.output)
      .parse(argc, argv);
  return a;
}

// Images (N, 1, 28, 28) as rows (N, 784), the first `limit` of them (0: all).
nb::Tensor rows_of(const nb::data::FashionMNIST& d, int64_t limit) {
  nb::Tensor x = d.inputs();
  if (limit > 0 && limit < x.shape()[0]) x = x.slice(0, 0, limit);
  return x.reshape({x.shape()[0], 784}).contiguous();
}

double mse_in_batches(nn::Module& m, const nb::Tensor& x) {
  nb::NoGradGuard no_grad;
  double total = 0;
  const int64_t n = x.shape()[0];
  for (int64_t b = 0; b < n; b += 1000) {
    nb::Tensor xb = x.slice(0, b, std::min(n, b + 1000));
    total += nb::sum(nb::square(m(xb) - xb)).item<double>();
  }
  return total / double(x.numel());
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(0);
  nb::Tensor train = rows_of(nb::data::FashionMNIST(args.data, true), args.train_limit);
  nb::Tensor test = rows_of(nb::data::FashionMNIST(args.data, false), args.test_limit);
  const int64_t n = train.shape()[0];
  std::printf("train %lld images, test %lld images, code size %lld\n", (long long)n,
              (long long)test.shape()[0], (long long)args.code);

  auto t0 = std::chrono::steady_clock::now();
  nb::PCA pca = nb::pca(train, args.code);
  double pca_mse =
      nb::mean(nb::square(pca.inverse_transform(pca.transform(test)) - test)).item<double>();
  double pca_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("PCA (%lld components, eigh of the 784 x 784 covariance): test MSE %.5f (%.1f s)\n",
              (long long)args.code, pca_mse, pca_s);

  nn::Autoencoder ae =
      nn::dense_autoencoder({784, 512, 128, args.code},
                            {.output = args.output == "none" ? nn::OutputActivation::none
                                                             : nn::OutputActivation::sigmoid});
  nb::optim::Adam opt(ae.parameters(), {.lr = args.lr});
  nb::Generator shuffle(1);
  double ae_mse = mse_in_batches(ae, test);
  std::printf("epoch 0 (untrained): test MSE %.5f\n", ae_mse);
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    ae.train();
    nb::Tensor order = nb::permutation(n, nb::int64, &shuffle);
    double train_loss = 0;
    int64_t batches = 0;
    for (int64_t b = 0; b < n; b += args.batch_size) {
      nb::Tensor xb =
          nb::index_select(train, 0, order.slice(0, b, std::min(n, b + args.batch_size)));
      nb::Tensor loss = nn::mse_loss(ae(xb), xb);
      opt.zero_grad();
      loss.backward();
      opt.step();
      train_loss += loss.item<double>();
      ++batches;
    }
    ae.eval();
    ae_mse = mse_in_batches(ae, test);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %d: train MSE %.5f, test MSE %.5f (%.1f s)\n", epoch,
                train_loss / double(batches), ae_mse, secs);
    std::fflush(stdout);
  }

  std::printf("test reconstruction MSE: autoencoder %.5f vs PCA %.5f%s\n", ae_mse, pca_mse,
              ae_mse < pca_mse ? " (autoencoder lower)" : " (PCA lower)");
  {
    nb::NoGradGuard no_grad;
    nb::Tensor originals = test.slice(0, 0, 10);
    nb::Tensor rows =
        nb::concat({originals, ae(originals), pca.inverse_transform(pca.transform(originals))}, 0);
    nb::io::save_image_grid(rows.reshape({30, 1, 28, 28}), args.out, {.columns = 10});
    std::printf("wrote %s (rows: originals, autoencoder, PCA)\n", args.out.c_str());
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
