// A Bernoulli RBM on binarised Fashion-MNIST: trains 784 -> 512 hidden units by CD-1 (or PCD)
// with SGD + momentum, prints the reconstruction error per epoch, then fits a logistic
// regression (nn::Linear + cross-entropy) on the hidden probabilities and reports its test
// accuracy. Writes the learned filters and test reconstructions as PNG grids.
//   rbm [--epochs N] [--train-limit N] [--hidden N] [--lr X] [--batch-size N] [--k N] [--pcd]
//       [--data DIR] [--out-dir DIR]
#include <nabla/nabla.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "../common/flags.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

struct Args {
  int64_t epochs = 10;
  int64_t train_limit = 0;  // 0: all 60000
  int64_t hidden = 512;
  double lr = 0.05;
  int64_t batch_size = 64;
  int64_t k = 1;
  bool pcd = false;
  std::string data = nb::data::kFashionMNISTDir;
  std::string out_dir = ".";
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--train-limit", a.train_limit)
      .add("--hidden", a.hidden)
      .add("--lr", a.lr)
      .add("--batch-size", a.batch_size)
      .add("--k", a.k)
      .flag("--pcd", a.pcd)
      .add("--data", a.data)
      .add("--out-dir", a.out_dir)
      .parse(argc, argv);
  return a;
}

// Images (N, 1, 28, 28) in [0, 1] -> binary rows (N, 784).
nb::Tensor binarise(const nb::Tensor& images) {
  return (images.flatten(1) > 0.5).astype(nb::float32);
}

// Multinomial logistic regression on fixed features: Adam, minibatches of 128.
double logistic_regression(const nb::Tensor& train_x, const nb::Tensor& train_y,
                           const nb::Tensor& test_x, const nb::Tensor& test_y, int64_t epochs) {
  nn::Linear clf(train_x.size(1), 10);
  nb::optim::Adam opt(clf.parameters(), {.lr = 3e-3});
  nb::Generator gen(7);
  const int64_t n = train_x.size(0);
  for (int64_t e = 0; e < epochs; ++e) {
    nb::Tensor order = nb::permutation(n, nb::int64, &gen);
    for (int64_t s = 0; s < n; s += 128) {
      nb::Tensor idx = order.slice(0, s, std::min(n, s + 128));
      opt.zero_grad();
      nn::cross_entropy(clf.forward(nb::index_select(train_x, 0, idx)),
                        nb::index_select(train_y, 0, idx))
          .backward();
      opt.step();
    }
  }
  nb::NoGradGuard no_grad;
  nb::Tensor pred = nb::argmax(clf.forward(test_x), 1);
  return (pred == test_y).astype(nb::float64).mean().item<double>();
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(0);
  nb::data::FashionMNIST train(args.data, /*train=*/true), test(args.data, /*train=*/false);
  int64_t n = args.train_limit > 0 ? std::min(args.train_limit, train.size()) : train.size();
  nb::Tensor train_x = binarise(train.inputs().slice(0, 0, n)).contiguous();
  nb::Tensor train_y = train.targets().slice(0, 0, n).contiguous();
  nb::Tensor test_x = binarise(test.inputs()).contiguous(), test_y = test.targets();
  std::printf("binarised Fashion-MNIST: %lld train, %lld test images\n", (long long)n,
              (long long)test_x.size(0));

  nn::RBM rbm(784, args.hidden);
  std::printf("%s, %s-%lld, lr %g, momentum 0.5, batch %lld\n", rbm.describe().c_str(),
              args.pcd ? "PCD" : "CD", (long long)args.k, args.lr, (long long)args.batch_size);
  auto start = std::chrono::steady_clock::now();
  auto errors = nn::train_rbm(
      rbm, train_x,
      {.epochs = args.epochs,
       .batch_size = args.batch_size,
       .lr = args.lr,
       .momentum = 0.5,
       .weight_decay = 1e-4,
       .cd = {.k = args.k, .persistent = args.pcd, .seed = 1},
       .on_epoch = [&](int64_t epoch, double err) {
         double secs =
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
         nb::NoGradGuard no_grad;
         double test_err = rbm.reconstruction_error(test_x).item<double>();
         std::printf("epoch %lld  reconstruction error: train %.5f  test %.5f  (%.1f s)\n",
                     (long long)epoch + 1, err, test_err, secs);
         std::fflush(stdout);
       }});
  if (errors.size() >= 2)
    std::printf("reconstruction error %s: %.5f -> %.5f\n",
                errors.back() < errors.front() ? "falls" : "does not fall", errors.front(),
                errors.back());

  nb::Tensor train_h, test_h;
  {
    nb::NoGradGuard no_grad;
    train_h = rbm.hidden_probabilities(train_x);
    test_h = rbm.hidden_probabilities(test_x);
    double pl = rbm.pseudo_log_likelihood(test_x.slice(0, 0, 2000)).mean().item<double>();
    std::printf("test pseudo-log-likelihood (stochastic, 2000 images): %.2f\n", pl);
  }
  double acc = logistic_regression(train_h, train_y, test_h, test_y, 20);
  std::printf("logistic regression on hidden features: test accuracy %.4f\n", acc);

  std::filesystem::create_directories(args.out_dir);
  nb::NoGradGuard no_grad;
  auto filters = args.out_dir + "/rbm_filters.png",
       recon = args.out_dir + "/rbm_reconstructions.png";
  int64_t shown = std::min<int64_t>(args.hidden, 100);
  nb::io::save_image_grid(rbm.weight.slice(0, 0, shown).reshape({shown, 1, 28, 28}), filters,
                          {.columns = 10, .normalize_each = true});
  nb::Tensor originals = test_x.slice(0, 0, 16);
  nb::Tensor pair =
      nb::concat({originals, rbm.visible_mean(rbm.hidden_probabilities(originals))}, 0);
  nb::io::save_image_grid(pair.reshape({32, 1, 28, 28}), recon, {.columns = 16});
  std::printf("wrote %s and %s (top row: test images, bottom: reconstructions)\n", filters.c_str(),
              recon.c_str());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
