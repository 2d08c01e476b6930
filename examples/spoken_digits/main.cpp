// Spoken-digit recognition on voices never heard in training. The words "zero".."nine" are
// synthesised with espeak-ng (scripts/make_spoken_digits.sh) by many voices, each an English
// accent plus a voice variant (m1, f2, klatt...). The test set is every recording of the
// held-out variants (in every accent): no test speaker's voice is in the training set.
// Each recording is downsampled to 11025 Hz, trimmed of silence, placed in a 1 s window (at a
// random offset with a random gain while training), turned into a 40-band log-mel
// spectrogram with nabla's signal ops, and classified by a small CNN.
//   spoken_digits [--data DIR] [--reps N] [--small] [--epochs N] [--batch-size N] [--lr X]
//                 [--no-synth]
// --small synthesises and uses a subset (2 accents, 6 variants, at most 2 repetitions) for tests.
#include <nabla/data/wav.h>
#include <nabla/nabla.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../common/flags.h"

namespace nb = nabla;
namespace nn = nabla::nn;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kRate = 11025;    // samples per second after downsampling espeak's 22050
constexpr int64_t kLength = kRate;  // the 1 s window every recording is placed in
// Voice variants whose recordings form the test set (in every accent).
const std::set<std::string> kHeldOut = {"m7", "m8", "f4", "f5", "klatt2"};

struct Args {
  std::string data;
  int reps = 3;
  bool small = false;
  bool synth = true;
  int epochs = 12;
  int64_t batch_size = 32;
  double lr = 2e-3;
};

std::string default_cache() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg && *xdg ? fs::path(xdg) : fs::path(home ? home : ".") / ".cache";
  return (base / "nabla" / "spoken_digits").string();
}

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--data", a.data)
      .add("--reps", a.reps)
      .flag("--small", a.small)
      .flag("--no-synth", a.synth, false)
      .add("--epochs", a.epochs)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .parse(argc, argv);
  if (a.data.empty()) a.data = default_cache() + (a.small ? "_small" : "");
  if (a.small) a.reps = std::min(a.reps, 2);
  return a;
}

struct Clip {
  std::vector<float> samples;  // 11025 Hz, silence trimmed, at most kLength
  int64_t digit;
  std::string voice;
};

// Mono, halved rate (pairs averaged: espeak's output has little energy above 5 kHz), the
// stretch between the first and last sample above 2% of the peak, cropped to kLength.
std::vector<float> prepare(const nb::data::Audio& a) {
  std::vector<float> x = nb::mean(a.samples, {0}).to_vector<float>();
  int step = a.sample_rate >= 2 * kRate - 100 ? 2 : 1;
  std::vector<float> y(x.size() / std::size_t(step));
  for (std::size_t i = 0; i < y.size(); ++i) {
    float s = 0;
    for (int k = 0; k < step; ++k) s += x[i * std::size_t(step) + std::size_t(k)];
    y[i] = s / float(step);
  }
  float peak = 0;
  for (float v : y) peak = std::max(peak, std::fabs(v));
  std::size_t b = 0, e = y.size();
  while (b < e && std::fabs(y[b]) <= 0.02f * peak) ++b;
  while (e > b && std::fabs(y[e - 1]) <= 0.02f * peak) --e;
  if (e - b > std::size_t(kLength)) {
    std::size_t extra = e - b - std::size_t(kLength);
    b += extra / 2;
    e = b + std::size_t(kLength);
  }
  return {y.begin() + std::ptrdiff_t(b), y.begin() + std::ptrdiff_t(e)};
}

std::vector<Clip> load(const std::string& dir) {
  std::vector<Clip> clips;
  std::vector<fs::path> files;
  for (const auto& voice : fs::directory_iterator(dir))
    if (voice.is_directory())
      for (const auto& f : fs::directory_iterator(voice.path()))
        if (f.path().extension() == ".wav") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    int64_t digit = f.filename().string()[0] - '0';
    if (digit < 0 || digit > 9) continue;
    clips.push_back(
        {prepare(nb::data::read_wav(f.string())), digit, f.parent_path().filename().string()});
  }
  return clips;
}

std::string variant_of(const std::string& voice) { return voice.substr(voice.find('+') + 1); }

// The (B, 1, 40, frames) normalised log-mel images of clips placed in kLength windows:
// centred, or (training) at a random offset with a random gain.
nb::Tensor features(const std::vector<const Clip*>& batch, std::mt19937* rng) {
  std::vector<float> wave(batch.size() * std::size_t(kLength), 0.0f);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::vector<float>& s = batch[i]->samples;
    std::size_t room = std::size_t(kLength) - s.size(), at = room / 2;
    float gain = 1.0f;
    if (rng) {
      at = std::uniform_int_distribution<std::size_t>(0, room)(*rng);
      gain = std::uniform_real_distribution<float>(0.3f, 1.5f)(*rng);
    }
    for (std::size_t k = 0; k < s.size(); ++k)
      wave[i * std::size_t(kLength) + at + k] = s[k] * gain;
  }
  nb::NoGradGuard off;
  nb::Tensor x = nb::tensor(wave, {int64_t(batch.size()), kLength});
  nb::Tensor m =
      nb::log_mel_spectrogram(x, {.n_fft = 256, .hop_length = 128, .window = nb::hann_window(256)},
                              {.f_min = 40, .n_mels = 40, .sample_rate = kRate});
  // Per-recording standardisation: loudness and the log floor do not tell digits apart.
  nb::Tensor mu = nb::mean(m, {1, 2}, true);
  nb::Tensor sd = nb::sqrt(nb::mean(nb::square(m - mu), {1, 2}, true) + 1e-5);
  return ((m - mu) / sd).unsqueeze(1);
}

nn::Sequential make_net(int64_t frames) {
  int64_t h = 40 / 8, w = frames / 8;
  return nn::Sequential(
      nn::Conv2d(1, 16, 3, {.padding = 1}), nn::BatchNorm2d(16), nn::ReLU(), nn::MaxPool2d(2),
      nn::Conv2d(16, 32, 3, {.padding = 1}), nn::BatchNorm2d(32), nn::ReLU(), nn::MaxPool2d(2),
      nn::Conv2d(32, 64, 3, {.padding = 1}), nn::BatchNorm2d(64), nn::ReLU(), nn::MaxPool2d(2),
      nn::Flatten(), nn::Dropout(0.3), nn::Linear(64 * h * w, 10));
}

double accuracy(nn::Module& net, const std::vector<const Clip*>& set) {
  nb::NoGradGuard off;
  net.eval();
  int64_t right = 0;
  for (std::size_t b = 0; b < set.size(); b += 256) {
    std::vector<const Clip*> batch(set.begin() + std::ptrdiff_t(b),
                                   set.begin() + std::ptrdiff_t(std::min(set.size(), b + 256)));
    auto pred = nb::argmax(net.forward(features(batch, nullptr)), 1).to_vector<int64_t>();
    for (std::size_t i = 0; i < batch.size(); ++i) right += pred[i] == batch[i]->digit;
  }
  net.train();
  return set.empty() ? 0.0 : double(right) / double(set.size());
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  auto t0 = std::chrono::steady_clock::now();
  if (args.synth) {
    std::string cmd = std::string("bash '") + NABLA_SOURCE_DIR +
                      "/scripts/make_spoken_digits.sh' '" + args.data + "' " +
                      std::to_string(args.reps) + (args.small ? " small" : " full");
    if (std::system(cmd.c_str()) != 0) throw nb::IOError("synthesis failed: " + cmd);
  }
  std::vector<Clip> clips = load(args.data);
  std::vector<const Clip*> train, test;
  std::set<std::string> train_voices, test_voices;
  for (const Clip& c : clips) {
    bool held = kHeldOut.count(variant_of(c.voice)) > 0;
    (held ? test : train).push_back(&c);
    (held ? test_voices : train_voices).insert(c.voice);
  }
  if (train.empty() || test.empty()) throw nb::ValueError("no recordings in " + args.data);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "%zu recordings (%.1f s to synthesise and read): train %zu from %zu voices, test %zu from "
      "%zu "
      "held-out voices (variants",
      clips.size(), secs, train.size(), train_voices.size(), test.size(), test_voices.size());
  for (const std::string& v : kHeldOut) std::printf(" %s", v.c_str());
  std::printf(")\n");

  nb::manual_seed(0);
  std::mt19937 rng(1);
  int64_t frames = features({train[0]}, nullptr).size(3);
  nn::Sequential net = make_net(frames);
  nb::optim::Adam opt(net.parameters(), {.lr = args.lr});
  nb::optim::CosineAnnealingLR schedule(opt, args.epochs);
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    std::shuffle(train.begin(), train.end(), rng);
    double loss_sum = 0;
    int64_t steps = 0;
    for (std::size_t b = 0; b < train.size(); b += std::size_t(args.batch_size)) {
      std::vector<const Clip*> batch(
          train.begin() + std::ptrdiff_t(b),
          train.begin() + std::ptrdiff_t(std::min(train.size(), b + std::size_t(args.batch_size))));
      if (batch.size() < 2) continue;  // batch norm needs two
      std::vector<int64_t> y;
      for (const Clip* c : batch) y.push_back(c->digit);
      nb::Tensor loss =
          nn::cross_entropy(net.forward(features(batch, &rng)), nb::tensor(y, {int64_t(y.size())}));
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      ++steps;
    }
    schedule.step();
    std::printf("epoch %d: train loss %.4f, held-out accuracy %.4f\n", epoch,
                loss_sum / double(std::max<int64_t>(steps, 1)), accuracy(net, test));
    std::fflush(stdout);
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("train accuracy: %.4f\nheld-out accuracy: %.4f  (%.1f s)\n", accuracy(net, train),
              accuracy(net, test), total);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "spoken_digits: " << e.what() << "\n";
  return 1;
}
