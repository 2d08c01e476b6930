// Trains a multilayer perceptron on Fashion-MNIST with nb::train::fit: 784-256-128-10, ReLU,
// Adam (lr 1e-3), batch 64, then prints the test accuracy and saves the model.
//   mlp [--epochs N] [--train-limit N] [--batch-size N] [--lr X] [--data DIR]
//       [--out model.safetensors] [--json]
// --json adds one last line "json: {...}" with the seconds per epoch (training only, wall
// and process CPU time), samples/s and test accuracy, for bench/epoch_compare.sh.
#include <nabla/data/data.h>
#include <nabla/nabla.h>
#include <nabla/nn/nn.h>
#include <nabla/optim/optimizer.h>
#include <nabla/train/train.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "../common/flags.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

struct Args {
  int epochs = 10;
  int64_t train_limit = 0;  // 0: all 60000
  int64_t batch_size = 64;
  double lr = 1e-3;
  std::string data = nb::data::kFashionMNISTDir;
  std::string out = "fashion_mnist_mlp.safetensors";
  bool json = false;
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--train-limit", a.train_limit)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .add("--data", a.data)
      .add("--out", a.out)
      .flag("--json", a.json)
      .parse(argc, argv);
  return a;
}

// Process CPU seconds (all threads) of each epoch's training, from its start to its last batch.
class EpochCpuTime : public nb::train::Callback {
 public:
  void on_epoch_begin(int) override { start_ = last_ = std::clock(); }
  void on_batch_end(int64_t, const nb::train::Logs&) override { last_ = std::clock(); }
  void on_epoch_end(int, const nb::train::Logs&) override {
    seconds.push_back(double(last_ - start_) / CLOCKS_PER_SEC);
  }
  std::vector<double> seconds;

 private:
  std::clock_t start_ = 0, last_ = 0;
};

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(0);
  nb::data::FashionMNIST train_full(args.data, /*train=*/true);
  auto test = std::make_shared<nb::data::FashionMNIST>(args.data, /*train=*/false);
  std::shared_ptr<nb::data::Dataset> train = std::make_shared<nb::data::FashionMNIST>(train_full);
  if (args.train_limit > 0 && args.train_limit < train->size())
    train = std::make_shared<nb::data::TensorDataset>(
        train_full.inputs().slice(0, 0, args.train_limit),
        train_full.targets().slice(0, 0, args.train_limit));
  nb::data::DataLoader train_loader(
      train, {.batch_size = args.batch_size, .shuffle = true, .seed = 1, .num_workers = 1});
  nb::data::DataLoader test_loader(test, {.batch_size = 500, .num_workers = 1});

  nn::Sequential net(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128),
                     nn::ReLU(), nn::Linear(128, 10));
  std::cout << net.summary({1, 1, 28, 28});
  nb::optim::Adam opt(net.parameters(), {.lr = args.lr});
  auto loss = [](const nb::Tensor& logits, const nb::Tensor& labels) {
    return nn::cross_entropy(logits, labels);
  };
  auto cpu = std::make_shared<EpochCpuTime>();
  nb::train::History history = nb::train::fit(net, loss, opt, train_loader,
                                              {.epochs = args.epochs,
                                               .validation = &test_loader,
                                               .callbacks = {cpu},
                                               .metrics = {"accuracy"}});

  double acc = history.last("val_accuracy");
  std::printf("\ntest accuracy: %.4f\n", acc);
  nb::save_safetensors(args.out, net.state_dict(), {{"model", "fashion_mnist_mlp"}});
  std::printf("saved %s\n", args.out.c_str());
  if (args.json) {
    // Training time of each epoch, without the evaluation that fit() runs after it.
    std::vector<double> rate = history["samples_per_s"];
    double samples = double(train->size()), secs = 0;
    std::string epochs, cpu_seconds;
    for (double r : rate) {
      secs += samples / r;
      epochs += (epochs.empty() ? "" : ", ") + std::to_string(samples / r);
    }
    for (double c : cpu->seconds)
      cpu_seconds += (cpu_seconds.empty() ? "" : ", ") + std::to_string(c);
    std::printf(
        "json: {\"model\": \"mlp\", \"epoch_seconds\": [%s], \"epoch_cpu_seconds\": [%s], "
        "\"samples_per_s\": %.1f, \"test_accuracy\": %.4f}\n",
        epochs.c_str(), cpu_seconds.c_str(), samples * double(rate.size()) / secs, acc);
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
