// Language identification: is a line of text English, German, Spanish or Italian? The lines
// come from the fortune cookies of Debian's fortunes, fortunes-de, fortunes-es and fortunes-it
// packages, as UTF-8 bytes. Whole fortunes are held out for the test set (no line of a test
// fortune is seen in training); both sets have the same number of lines per language. The
// classifier reads bytes: Embedding -> Conv1d + ReLU + MaxPool (character n-grams, half the
// steps) -> GRU over the valid steps of each line -> Linear on the final state.
//   lang_id [--epochs N] [--train-per-class N] [--test-per-class N] [--max-bytes N]
//           [--hidden N] [--batch-size N] [--lr X] [--seed N] [--data DIR]
#include <nabla/data/data.h>
#include <nabla/nabla.h>
#include <nabla/nn/nn.h>
#include <nabla/nn/recurrent.h>
#include <nabla/optim/optimizer.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../common/flags.h"
#include "../common/fortunes.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

struct Args {
  int epochs = 6;
  int64_t train_per_class = 6000;  // capped by the smallest language
  int64_t test_per_class = 1000;
  int64_t min_bytes = 20;  // shorter lines (names, "-- Goethe") say little about the language
  int64_t max_bytes = 96;  // longer lines are cut
  int64_t hidden = 96;
  int64_t batch_size = 64;
  double lr = 3e-3;
  uint64_t seed = 1;
  std::string data = fortunes::kRoot;
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--train-per-class", a.train_per_class)
      .add("--test-per-class", a.test_per_class)
      .add("--min-bytes", a.min_bytes)
      .add("--max-bytes", a.max_bytes)
      .add("--hidden", a.hidden)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .add("--seed", a.seed)
      .add("--data", a.data)
      .parse(argc, argv);
  return a;
}

const std::vector<std::string> kLanguages = {"English", "German", "Spanish", "Italian"};

struct Split {
  std::vector<std::string> train, test;
};

// The usable lines of a language's fortunes, whole fortunes shuffled into a 85/15 split.
Split lines_of(const std::vector<std::string>& entries, const Args& args, std::mt19937_64& rng) {
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  size_t n_test = entries.size() * 15 / 100;
  Split s;
  std::set<std::string> seen;
  for (size_t r = 0; r < order.size(); ++r) {
    const std::string& e = entries[order[r]];
    size_t start = 0;
    while (start <= e.size()) {
      size_t end = e.find('\n', start);
      if (end == std::string::npos) end = e.size();
      std::string line = e.substr(start, end - start);
      start = end + 1;
      size_t a = line.find_first_not_of(" \t"), b = line.find_last_not_of(" \t");
      if (a == std::string::npos) continue;
      line = line.substr(a, b - a + 1);
      // Attributions ("-- Mark Twain") name people, not languages.
      if (line.rfind("--", 0) == 0 || int64_t(line.size()) < args.min_bytes) continue;
      int64_t letters = 0;
      for (unsigned char c : line) letters += std::isalpha(c) || c >= 0x80;
      if (letters * 2 < int64_t(line.size())) continue;  // ASCII art, code, tables
      if (!seen.insert(line).second) continue;           // repeated lines across fortunes
      (r < n_test ? s.test : s.train).push_back(line);
    }
  }
  return s;
}

// Bytes as ids 1..256 (0 pads) in (N, max_bytes), and each line's length in bytes.
struct Encoded {
  nb::Tensor ids, lengths, labels;
};

Encoded encode(const std::vector<std::pair<std::string, int64_t>>& rows, int64_t max_bytes) {
  int64_t n = int64_t(rows.size());
  std::vector<int64_t> ids(size_t(n * max_bytes), 0), lengths(static_cast<size_t>(n)),
      labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const std::string& s = rows[size_t(i)].first;
    int64_t len = std::min<int64_t>(int64_t(s.size()), max_bytes);
    for (int64_t j = 0; j < len; ++j)
      ids[size_t(i * max_bytes + j)] = int64_t(static_cast<unsigned char>(s[size_t(j)])) + 1;
    lengths[size_t(i)] = len;
    labels[size_t(i)] = rows[size_t(i)].second;
  }
  return {nb::tensor(ids, {n, max_bytes}), nb::tensor(lengths), nb::tensor(labels)};
}

class ByteClassifier : public nn::Module {
 public:
  ByteClassifier(int64_t hidden, int64_t classes)
      : embed_(register_module("embed", nn::Embedding(257, 32))),
        conv_(register_module("conv", nn::Conv1d(32, 64, 5, {.padding = 2}))),
        pool_(register_module("pool", nn::MaxPool1d(2))),
        gru_(register_module("gru", nn::GRU(64, hidden, {.batch_first = true}))),
        head_(register_module("head", nn::Linear(hidden, classes))) {}

  // ids (N, L) with L even, lengths (N) -> logits (N, classes).
  nb::Tensor classify(const nb::Tensor& ids, const nb::Tensor& lengths) {
    nb::Tensor x = embed_->forward(ids).transpose(1, 2);       // (N, 32, L)
    x = pool_->forward(nb::relu(conv_->forward(x)));           // (N, 64, L/2)
    nb::Tensor steps = ((lengths + 1) / 2).astype(nb::int64);  // pooled steps a line covers
    nn::SequenceOutput out = gru_->forward(x.transpose(1, 2), {}, steps);
    return head_->forward(out.state.h.select(0, 0));  // last valid state (N, H)
  }
  nb::Tensor forward(const nb::Tensor&) override {
    throw nb::ValueError("ByteClassifier needs lengths: call classify(ids, lengths)");
  }
  std::string describe() const override { return "ByteClassifier"; }

 private:
  std::shared_ptr<nn::Embedding> embed_;
  std::shared_ptr<nn::Conv1d> conv_;
  std::shared_ptr<nn::MaxPool1d> pool_;
  std::shared_ptr<nn::GRU> gru_;
  std::shared_ptr<nn::Linear> head_;
};

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  if (args.max_bytes % 2) ++args.max_bytes;
  nb::manual_seed(args.seed);
  std::mt19937_64 rng(args.seed);

  const std::vector<std::pair<std::string, std::vector<std::string>>> sources = {
      {args.data, {"ascii-art"}},  // the top directory's own files; its links point into it/
      {args.data + "/de", {"asciiart"}},
      {args.data + "/es", {}},
      {args.data + "/it", {}}};
  std::vector<Split> splits;
  size_t min_train = SIZE_MAX, min_test = SIZE_MAX;
  for (size_t c = 0; c < sources.size(); ++c) {
    Split s = lines_of(fortunes::read_dir(sources[c].first, sources[c].second), args, rng);
    std::printf("%-8s %6zu training lines, %5zu test lines (%s)\n", kLanguages[c].c_str(),
                s.train.size(), s.test.size(), sources[c].first.c_str());
    std::shuffle(s.train.begin(), s.train.end(), rng);
    std::shuffle(s.test.begin(), s.test.end(), rng);
    min_train = std::min(min_train, s.train.size());
    min_test = std::min(min_test, s.test.size());
    splits.push_back(std::move(s));
  }
  size_t per_train = std::min(min_train, size_t(args.train_per_class));
  size_t per_test = std::min(min_test, size_t(args.test_per_class));
  std::vector<std::pair<std::string, int64_t>> train_rows, test_rows;
  for (size_t c = 0; c < splits.size(); ++c) {
    for (size_t i = 0; i < per_train; ++i) train_rows.emplace_back(splits[c].train[i], c);
    for (size_t i = 0; i < per_test; ++i) test_rows.emplace_back(splits[c].test[i], c);
  }
  std::shuffle(train_rows.begin(), train_rows.end(), rng);
  std::printf("balanced: %zu training and %zu test lines per language\n", per_train, per_test);
  Encoded train = encode(train_rows, args.max_bytes), test = encode(test_rows, args.max_bytes);

  ByteClassifier model(args.hidden, int64_t(kLanguages.size()));
  nb::optim::Adam opt(model.parameters(), {.lr = args.lr});
  const int64_t n = int64_t(train_rows.size()), bs = args.batch_size;

  auto accuracy = [&](std::vector<int64_t>* per_class_correct) {
    nb::NoGradGuard no_grad;
    model.eval();
    int64_t correct = 0, m = int64_t(test_rows.size());
    for (int64_t s = 0; s < m; s += 256) {
      int64_t e = std::min(m, s + 256);
      nb::Tensor pred =
          nb::argmax(model.classify(test.ids.slice(0, s, e), test.lengths.slice(0, s, e)), 1);
      std::vector<int64_t> p = pred.to_vector<int64_t>();
      std::vector<int64_t> y = test.labels.slice(0, s, e).to_vector<int64_t>();
      for (size_t i = 0; i < p.size(); ++i) {
        correct += p[i] == y[i];
        if (per_class_correct && p[i] == y[i]) ++(*per_class_correct)[size_t(y[i])];
      }
    }
    model.train();
    return double(correct) / double(m);
  };

  double acc = 0;
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    nb::Tensor perm = nb::permutation(n);
    double loss_sum = 0;
    int64_t steps = 0;
    for (int64_t s = 0; s + bs <= n; s += bs) {
      nb::Tensor idx = perm.slice(0, s, s + bs);
      nb::Tensor logits = model.classify(nb::index_select(train.ids, 0, idx),
                                         nb::index_select(train.lengths, 0, idx));
      nb::Tensor loss = nn::cross_entropy(logits, nb::index_select(train.labels, 0, idx));
      opt.zero_grad();
      loss.backward();
      nb::optim::clip_grad_norm_(model.parameters(), 1.0);
      opt.step();
      loss_sum += loss.item<double>();
      ++steps;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    acc = accuracy(nullptr);
    std::printf("epoch %d: train loss %.3f, held-out accuracy %.4f, %.1f s\n", epoch,
                loss_sum / double(std::max<int64_t>(steps, 1)), acc, secs);
    std::fflush(stdout);
  }
  std::vector<int64_t> per_class(kLanguages.size(), 0);
  acc = accuracy(&per_class);
  for (size_t c = 0; c < kLanguages.size(); ++c)
    std::printf("  %-8s %.4f\n", kLanguages[c].c_str(), double(per_class[c]) / double(per_test));
  std::printf("held-out accuracy: %.4f (chance 0.25)\n", acc);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "lang_id: %s\n", e.what());
  return 1;
}
