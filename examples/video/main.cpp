// Motion recognition on synthetic video: each clip shows one Fashion-MNIST item sliding across
// a larger canvas in one of 8 directions (or standing still), from a random start. A Conv3d
// network with two heads classifies the motion (9 classes) and the item (10 classes).
// Training clips are made from training items, fresh each epoch; held-out clips from test items.
//   video [--epochs N] [--train-clips N] [--test-clips N] [--batch-size N] [--lr X] [--data DIR]
#include <nabla/nabla.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../common/flags.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

constexpr int64_t kFrames = 8, kCanvas = 48, kItem = 28, kSpeed = 2;  // pixels per frame
constexpr int64_t kMotions = 9;
// Motion 0 stands still; 1..8 move E, NE, N, NW, W, SW, S, SE (y grows downwards).
constexpr int kDx[kMotions] = {0, 1, 1, 0, -1, -1, -1, 0, 1};
constexpr int kDy[kMotions] = {0, 0, -1, -1, -1, 0, 1, 1, 1};
constexpr const char* kMotionNames[kMotions] = {"still", "E",  "NE", "N", "NW",
                                                "W",     "SW", "S",  "SE"};

struct Args {
  int64_t epochs = 3;
  int64_t train_clips = 6000;  // per epoch
  int64_t test_clips = 2000;
  int64_t batch_size = 32;
  double lr = 1e-3;
  std::string data = nb::data::kFashionMNISTDir;
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--train-clips", a.train_clips)
      .add("--test-clips", a.test_clips)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .add("--data", a.data)
      .parse(argc, argv);
  return a;
}

struct Clips {
  nb::Tensor video;   // (N, 1, kFrames, kCanvas, kCanvas) float32
  nb::Tensor motion;  // (N) int64
  nb::Tensor item;    // (N) int64: the Fashion-MNIST class
};

// n clips of random items of `images` (M, 1, 28, 28) with random motions and start points.
Clips make_clips(const nb::Tensor& images, const nb::Tensor& labels, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const float* src = images.contiguous().data_ptr<float>();
  std::vector<int64_t> label = labels.to_vector<int64_t>();
  const int64_t frame = kCanvas * kCanvas, travel = kSpeed * (kFrames - 1);
  std::vector<float> video(std::size_t(n * kFrames * frame), 0.0f);
  std::vector<int64_t> motion(static_cast<std::size_t>(n)), item(static_cast<std::size_t>(n));
  std::uniform_int_distribution<int64_t> pick(0, images.size(0) - 1);
  std::uniform_int_distribution<int> pick_motion(0, kMotions - 1);
  for (int64_t c = 0; c < n; ++c) {
    int64_t which = pick(rng);
    int m = pick_motion(rng);
    // Start anywhere the whole path stays on the canvas.
    auto start = [&](int d) {
      int64_t lo = d < 0 ? travel : 0, hi = kCanvas - kItem - (d > 0 ? travel : 0);
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    int64_t x0 = start(kDx[m]), y0 = start(kDy[m]);
    const float* img = src + which * kItem * kItem;
    for (int64_t t = 0; t < kFrames; ++t) {
      float* out = video.data() + (c * kFrames + t) * frame;
      int64_t x = x0 + kDx[m] * kSpeed * t, y = y0 + kDy[m] * kSpeed * t;
      for (int64_t r = 0; r < kItem; ++r)
        for (int64_t q = 0; q < kItem; ++q) out[(y + r) * kCanvas + x + q] = img[r * kItem + q];
    }
    motion[std::size_t(c)] = m;
    item[std::size_t(c)] = label[std::size_t(which)];
  }
  return {nb::tensor(video, {n, 1, kFrames, kCanvas, kCanvas}), nb::tensor(motion, {n}),
          nb::tensor(item, {n})};
}

// Three Conv3d blocks (3x3x3, ReLU, 2x2x2 max pooling) then a shared dense layer and two heads.
class VideoNet : public nn::Module {
 public:
  VideoNet() {
    trunk_ = register_module(
        "trunk", nn::Sequential(nn::Conv3d(1, 16, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool3d(2),
                                nn::Conv3d(16, 32, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool3d(2),
                                nn::Conv3d(32, 64, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool3d(2),
                                nn::Flatten(), nn::Linear(64 * 1 * 6 * 6, 128), nn::ReLU()));
    motion_ = register_module("motion", nn::Linear(128, kMotions));
    item_ = register_module("item", nn::Linear(128, 10));
  }
  // Motion logits (the single-output view of the network).
  nb::Tensor forward(const nb::Tensor& x) override { return (*motion_)(trunk_->forward(x)); }
  std::pair<nb::Tensor, nb::Tensor> heads(const nb::Tensor& x) {
    nb::Tensor f = trunk_->forward(x);
    return {(*motion_)(f), (*item_)(f)};
  }
  std::string describe() const override { return "VideoNet"; }

 private:
  std::shared_ptr<nn::Sequential> trunk_;
  std::shared_ptr<nn::Linear> motion_, item_;
};

// Accuracy of both heads, and motion accuracy per motion class.
struct Scores {
  double motion = 0, item = 0;
  std::vector<double> per_motion;
};

Scores evaluate(VideoNet& net, const Clips& clips) {
  nb::NoGradGuard no_grad;
  net.eval();
  const int64_t n = clips.video.size(0);
  std::vector<int64_t> mp, ip;
  for (int64_t s = 0; s < n; s += 100) {
    auto [m, i] = net.heads(clips.video.slice(0, s, std::min(n, s + 100)));
    for (int64_t v : nb::argmax(m, 1).to_vector<int64_t>()) mp.push_back(v);
    for (int64_t v : nb::argmax(i, 1).to_vector<int64_t>()) ip.push_back(v);
  }
  net.train();
  auto mt = clips.motion.to_vector<int64_t>(), it = clips.item.to_vector<int64_t>();
  Scores s;
  std::vector<double> hit(kMotions, 0), count(kMotions, 0);
  for (std::size_t k = 0; k < mt.size(); ++k) {
    s.motion += mp[k] == mt[k];
    s.item += ip[k] == it[k];
    hit[std::size_t(mt[k])] += mp[k] == mt[k];
    count[std::size_t(mt[k])] += 1;
  }
  s.motion /= double(n);
  s.item /= double(n);
  for (int64_t m = 0; m < kMotions; ++m)
    s.per_motion.push_back(count[m] > 0 ? hit[m] / count[m] : 0);
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(0);
  nb::data::FashionMNIST train(args.data, /*train=*/true), test(args.data, /*train=*/false);
  Clips held_out = make_clips(test.inputs(), test.targets(), args.test_clips, 12345);
  std::printf(
      "clips: %lld frames of %lldx%lld, %lld motions (still + 8 directions, %lld px/frame); "
      "%lld training clips per epoch from training items, %lld held-out clips from test items\n",
      (long long)kFrames, (long long)kCanvas, (long long)kCanvas, (long long)kMotions,
      (long long)kSpeed, (long long)args.train_clips, (long long)args.test_clips);

  VideoNet net;
  std::cout << net.summary({1, 1, kFrames, kCanvas, kCanvas});
  nb::optim::Adam opt(net.parameters(), {.lr = args.lr});
  auto start = std::chrono::steady_clock::now();
  Scores scores;
  for (int64_t epoch = 0; epoch < args.epochs; ++epoch) {
    Clips clips =
        make_clips(train.inputs(), train.targets(), args.train_clips, uint64_t(epoch) + 1);
    double loss_sum = 0;
    int64_t batches = 0;
    for (int64_t s = 0; s < args.train_clips; s += args.batch_size) {
      int64_t e = std::min(args.train_clips, s + args.batch_size);
      auto [m, i] = net.heads(clips.video.slice(0, s, e));
      nb::Tensor loss = nn::cross_entropy(m, clips.motion.slice(0, s, e)) +
                        nn::cross_entropy(i, clips.item.slice(0, s, e));
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
    scores = evaluate(net, held_out);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %lld  loss %.4f  held-out motion %.4f  item %.4f  (%.1f s)\n",
                (long long)epoch + 1, loss_sum / double(batches), scores.motion, scores.item, secs);
    std::fflush(stdout);
  }
  std::printf("held-out accuracy per motion:");
  for (int64_t m = 0; m < kMotions; ++m)
    std::printf(" %s %.3f", kMotionNames[m], scores.per_motion[std::size_t(m)]);
  std::printf("\nheld-out item accuracy: %.4f\n", scores.item);
  std::printf("held-out motion accuracy: %.4f\n", scores.motion);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
