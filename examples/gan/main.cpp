// A class-conditional DCGAN on Fashion-MNIST, judged by a classifier.
//
// 1. Trains the project's Fashion-MNIST CNN (examples/fashion_mnist's "2 Conv+pooling" net) for
//    a short while, or loads one that examples/fashion_mnist saved (--classifier FILE).
// 2. Trains a conditional DCGAN (nn::dcgan_generator / nn::dcgan_discriminator, 28x28) with
//    train::GanTrainer: Adam(2e-4, beta1 0.5) for both, one-sided label smoothing 0.9. After
//    each epoch it writes a sample grid, one row per class, to <out-dir>/gan_epoch_<N>.png.
// 3. Generates --eval-per-class images per class and prints how often the classifier puts them
//    in the class they were conditioned on (after each epoch, and per class at the end).
//   gan [--epochs N] [--train-limit N] [--batch-size N] [--latent N] [--width N] [--lr X]
//       [--classifier FILE] [--classifier-epochs N] [--classifier-limit N]
//       [--eval-per-class N] [--test-limit N] [--out-dir DIR] [--data DIR] [--seed N]
#include <nabla/nabla.h>
#include <nabla/train/gan.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
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
  int64_t latent = 64;
  int64_t width = 32;
  double lr = 2e-4;
  std::string classifier;  // a safetensors file of examples/fashion_mnist; empty: train one
  int classifier_epochs = 1;
  int64_t classifier_limit = 0;  // 0: all 60000
  int64_t eval_per_class = 100;
  int64_t test_limit = 0;  // test images for the classifier's accuracy; 0: all 10000
  std::string out_dir = ".";
  std::string data = nb::data::kFashionMNISTDir;
  uint64_t seed = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--train-limit", a.train_limit)
      .add("--batch-size", a.batch_size)
      .add("--latent", a.latent)
      .add("--width", a.width)
      .add("--lr", a.lr)
      .add("--classifier", a.classifier)
      .add("--classifier-epochs", a.classifier_epochs)
      .add("--classifier-limit", a.classifier_limit)
      .add("--test-limit", a.test_limit)
      .add("--eval-per-class", a.eval_per_class)
      .add("--out-dir", a.out_dir)
      .add("--data", a.data)
      .add("--seed", a.seed)
      .parse(argc, argv);
  return a;
}

std::shared_ptr<nb::data::Dataset> first(const nb::data::FashionMNIST& full, int64_t limit) {
  if (limit <= 0 || limit >= full.size()) return std::make_shared<nb::data::FashionMNIST>(full);
  return std::make_shared<nb::data::TensorDataset>(full.inputs().slice(0, 0, limit),
                                                   full.targets().slice(0, 0, limit));
}

double accuracy(nn::Module& net, const nb::Tensor& images, const nb::Tensor& labels) {
  nb::NoGradGuard off;
  net.eval();
  int64_t right = 0;
  for (int64_t i = 0; i < images.size(0); i += 500) {
    int64_t e = std::min(images.size(0), i + 500);
    auto pred = nb::argmax(net.forward(images.slice(0, i, e)), 1).to_vector<int64_t>();
    auto truth = labels.slice(0, i, e).to_vector<int64_t>();
    for (std::size_t k = 0; k < pred.size(); ++k) right += pred[k] == truth[k];
  }
  net.train();
  return double(right) / double(images.size(0));
}

void train_classifier(nn::Sequential& net, const Args& args,
                      const nb::data::FashionMNIST& train_set) {
  nb::data::DataLoader loader(first(train_set, args.classifier_limit),
                              {.batch_size = 64, .shuffle = true, .seed = 1, .num_workers = 1});
  nb::optim::Adam opt(net.parameters(), {.lr = 1e-3});
  for (int epoch = 1; epoch <= args.classifier_epochs; ++epoch) {
    double loss_sum = 0;
    int64_t steps = 0;
    for (auto& batch : loader) {
      nb::Tensor loss = nn::cross_entropy(net.forward(batch.inputs), batch.targets);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      ++steps;
    }
    std::printf("classifier epoch %d: train loss %.4f\n", epoch, loss_sum / double(steps));
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(args.seed);
  std::filesystem::create_directories(args.out_dir);
  auto train_set = nb::data::FashionMNIST(args.data, /*train=*/true);
  auto test_set = nb::data::FashionMNIST(args.data, /*train=*/false);

  // 1. The judge.
  nn::Sequential classifier = examples::fashion_cnn();
  if (!args.classifier.empty()) {
    classifier.load_state_dict(nb::load_safetensors(args.classifier));
    std::printf("classifier loaded from %s\n", args.classifier.c_str());
  } else {
    train_classifier(classifier, args, train_set);
  }
  int64_t n_test =
      args.test_limit > 0 ? std::min(args.test_limit, test_set.size()) : test_set.size();
  std::printf("classifier test accuracy: %.4f (%lld images)\n",
              accuracy(classifier, test_set.inputs().slice(0, 0, n_test),
                       test_set.targets().slice(0, 0, n_test)),
              static_cast<long long>(n_test));
  std::fflush(stdout);

  // 2. The GAN, on images scaled to [-1, 1] (the generator's Tanh range).
  auto gan_data = first(train_set, args.train_limit);
  auto* td = dynamic_cast<nb::data::TensorDataset*>(gan_data.get());
  auto scaled = std::make_shared<nb::data::TensorDataset>(td->inputs() * 2 - 1, td->targets());
  nb::data::DataLoader loader(scaled, {.batch_size = args.batch_size,
                                       .shuffle = true,
                                       .seed = 2,
                                       .drop_last = true,
                                       .num_workers = 1});
  const int64_t classes = 10;
  auto g = nn::dcgan_generator({.latent_dim = args.latent,
                                .base_width = args.width,
                                .image_size = 28,
                                .num_classes = classes});
  auto d =
      nn::dcgan_discriminator({.base_width = args.width, .image_size = 28, .num_classes = classes});
  std::printf("generator: %lld parameters, discriminator: %lld parameters\n",
              static_cast<long long>(g->num_parameters()),
              static_cast<long long>(d->num_parameters()));
  nb::optim::Adam g_opt(g->parameters(), {.lr = args.lr, .beta1 = 0.5});
  nb::optim::Adam d_opt(d->parameters(), {.lr = args.lr, .beta1 = 0.5});
  nb::train::GanTrainer gan(*g, *d, g_opt, d_opt, {.real_label = 0.9});

  // The grid's rows are classes; its columns the same 10 latent vectors in every row.
  nb::Tensor grid_z = nb::concat(std::vector<nb::Tensor>(classes, gan.sample_latent(10)), 0);
  nb::Tensor grid_labels =
      nb::arange(classes).reshape({classes, 1}).expand({classes, 10}).reshape({-1});
  // The fraction of eval_per_class generated images per class that the classifier assigns to
  // the class they were generated for.
  nb::Tensor eval_labels = nb::arange(classes)
                               .reshape({classes, 1})
                               .expand({classes, args.eval_per_class})
                               .reshape({-1});
  auto agreement = [&] {
    nb::Tensor images = (gan.generate(gan.sample_latent(eval_labels.size(0)), eval_labels) + 1) / 2;
    nb::NoGradGuard off;
    classifier.eval();
    auto pred = nb::argmax(classifier.forward(images), 1).to_vector<int64_t>();
    auto truth = eval_labels.to_vector<int64_t>();
    std::vector<double> right(classes, 0);
    for (std::size_t i = 0; i < pred.size(); ++i)
      right[std::size_t(truth[i])] += pred[i] == truth[i] ? 1.0 / double(args.eval_per_class) : 0.0;
    return right;
  };
  bool finite = true;
  std::string last_grid;
  gan.fit(loader, {.epochs = args.epochs,
                   .on_step =
                       [&](int64_t step, const nb::train::GanStepStats& s) {
                         finite = finite && std::isfinite(s.d_loss) && std::isfinite(s.g_loss);
                         if (step % 200 == 0)
                           std::printf(
                               "  step %lld  loss D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f / %.3f\n",
                               static_cast<long long>(step), s.d_loss, s.g_loss, s.d_real, s.d_fake,
                               s.d_fake_g);
                       },
                   .on_epoch_end =
                       [&](const nb::train::GanEpochStats& e) {
                         finite = finite && std::isfinite(e.d_loss) && std::isfinite(e.g_loss);
                         last_grid = (std::filesystem::path(args.out_dir) /
                                      ("gan_epoch_" + std::to_string(e.epoch) + ".png"))
                                         .string();
                         nb::io::save_image_grid((gan.generate(grid_z, grid_labels) + 1) / 2,
                                                 last_grid, {.columns = 10});
                         double agree = 0;
                         for (double a : agreement()) agree += a / double(classes);
                         std::printf(
                             "epoch %d: loss D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f  %.1f s  "
                             "agreement %.3f  -> %s\n",
                             e.epoch, e.d_loss, e.g_loss, e.d_real, e.d_fake, e.seconds, agree,
                             last_grid.c_str());
                         std::fflush(stdout);
                       }});
  std::printf("losses finite: %s\n", finite ? "yes" : "no");
  if (!last_grid.empty())
    std::printf("sample grid written: %s\n",
                std::filesystem::exists(last_grid) ? last_grid.c_str() : "MISSING");

  // 3. Does the classifier see the class the generator was asked for?
  std::vector<double> per_class = agreement();
  double total = 0;
  for (int64_t c = 0; c < classes; ++c) {
    total += per_class[std::size_t(c)] / double(classes);
    std::printf("  %-12s %.2f\n",
                std::string(nb::data::FashionMNIST::kClasses[std::size_t(c)]).c_str(),
                per_class[std::size_t(c)]);
  }
  std::printf("classifier agrees with conditioning class: %.2f\n", total);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
