// Trains the Fashion-MNIST benchmark's "2 Conv+pooling" network imperatively:
// conv5x5x32-relu-maxpool2, conv5x5x64-relu-maxpool2, fc1024-relu, dropout 0.4, fc10; Adam with
// a cosine learning-rate decay over the epochs.
// Prints the test accuracy and the confusion matrix, and saves the model (safetensors).
//   fashion_mnist [--epochs N] [--train-limit N] [--batch-size N] [--lr X] [--data DIR]
//                 [--out model.safetensors] [--json]
// --json adds one last line "json: {...}" with the seconds per epoch (training only, wall
// and process CPU time),
// samples/s and test accuracy, for bench/epoch_compare.sh.
#include <nabla/data/data.h>
#include <nabla/nabla.h>
#include <nabla/nn/nn.h>
#include <nabla/optim/optimizer.h>
#include <nabla/optim/schedule.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>

#include "../common/fashion_cnn.h"
#include "../common/flags.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

struct Args {
  int epochs = 5;
  int64_t train_limit = 0;  // 0: all 60000
  int64_t batch_size = 64;
  double lr = 1e-3;
  std::string data = nb::data::kFashionMNISTDir;
  std::string out = "fashion_mnist_cnn.safetensors";
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

// Accuracy and the 10x10 confusion matrix (rows: true class, columns: predicted).
double evaluate(nn::Module& net, nb::data::DataLoader& loader, std::vector<int64_t>& confusion) {
  nb::NoGradGuard off;
  net.eval();
  confusion.assign(100, 0);
  int64_t right = 0, total = 0;
  for (auto& batch : loader) {
    auto pred = nb::argmax(net.forward(batch.inputs), 1).to_vector<int64_t>();
    auto truth = batch.targets.to_vector<int64_t>();
    for (std::size_t i = 0; i < pred.size(); ++i) {
      ++confusion[std::size_t(truth[i] * 10 + pred[i])];
      right += pred[i] == truth[i];
    }
    total += int64_t(pred.size());
  }
  net.train();
  return double(right) / double(total);
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(0);
  auto train_full = nb::data::FashionMNIST(args.data, /*train=*/true);
  auto test = std::make_shared<nb::data::FashionMNIST>(args.data, /*train=*/false);
  std::shared_ptr<nb::data::Dataset> train = std::make_shared<nb::data::FashionMNIST>(train_full);
  if (args.train_limit > 0 && args.train_limit < train->size()) {
    auto& t = train_full;
    train = std::make_shared<nb::data::TensorDataset>(t.inputs().slice(0, 0, args.train_limit),
                                                      t.targets().slice(0, 0, args.train_limit));
  }
  nb::data::DataLoader train_loader(
      train, {.batch_size = args.batch_size, .shuffle = true, .seed = 1, .num_workers = 1});
  nb::data::DataLoader test_loader(test, {.batch_size = 500, .num_workers = 1});

  nn::Sequential net = examples::fashion_cnn();
  std::cout << net.summary({1, 1, 28, 28});
  nb::optim::Adam opt(net.parameters(), {.lr = args.lr});
  // Cosine decay over the epochs: the last epochs take small steps, which settles the
  // test accuracy instead of letting it wander with Adam's full learning rate.
  nb::optim::CosineAnnealingLR schedule(opt, args.epochs);
  std::vector<int64_t> confusion;
  std::string epoch_seconds, epoch_cpu_seconds;
  double train_secs = 0;
  int64_t train_samples = 0;
  auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    std::clock_t cpu0 = std::clock();  // process CPU time, all threads
    double loss_sum = 0;
    int64_t steps = 0, seen = 0;
    for (auto& batch : train_loader) {
      nb::Tensor loss = nn::cross_entropy(net.forward(batch.inputs), batch.targets);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      ++steps;
      seen += batch.inputs.size(0);
      if (steps % 100 == 0)
        std::printf("epoch %d  step %lld  loss %.4f\n", epoch, static_cast<long long>(steps),
                    loss_sum / double(steps));
    }
    double cpu_secs = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
    schedule.step();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    train_secs += secs;
    train_samples += seen;
    epoch_seconds += (epoch_seconds.empty() ? "" : ", ") + std::to_string(secs);
    epoch_cpu_seconds += (epoch_cpu_seconds.empty() ? "" : ", ") + std::to_string(cpu_secs);
    double acc = evaluate(net, test_loader, confusion);
    std::printf("epoch %d done: train loss %.4f, test accuracy %.4f, %.1f s (%.0f samples/s)\n",
                epoch, loss_sum / double(steps), acc, secs, double(seen) / secs);
    std::fflush(stdout);
  }
  double acc = evaluate(net, test_loader, confusion);
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "\ntest accuracy: %.4f  (wall time %.1f s)\nconfusion matrix (rows: true class, columns: "
      "predicted)\n",
      acc, total);
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 10; ++c)
      std::printf("%5lld", static_cast<long long>(confusion[std::size_t(r * 10 + c)]));
    std::printf("\n");
  }
  nb::save_safetensors(args.out, net.state_dict(), {{"model", "fashion_mnist_2conv"}});
  std::printf("saved %s\n", args.out.c_str());
  if (args.json)
    std::printf(
        "json: {\"model\": \"cnn\", \"epoch_seconds\": [%s], \"epoch_cpu_seconds\": [%s], "
        "\"samples_per_s\": %.1f, \"test_accuracy\": %.4f}\n",
        epoch_seconds.c_str(), epoch_cpu_seconds.c_str(), double(train_samples) / train_secs, acc);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
