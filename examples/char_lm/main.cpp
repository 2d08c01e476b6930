// A character-level LSTM language model on the English fortune cookies of Debian's `fortunes`
// package. The fortunes are split into training and validation sets (whole fortunes, 10% held
// out); the program reports the validation perplexity after each epoch next to the perplexity
// of a unigram model (character frequencies of the training text, add-one smoothed), then
// samples text with temperature sampling.
//   char_lm [--epochs N] [--hidden N] [--layers N] [--embed N] [--seq-len N] [--batch-size N]
//           [--lr X] [--train-chars N] [--valid-chars N] [--temperature X] [--top-k N]
//           [--sample-chars N] [--prompt TEXT] [--seed N] [--data DIR]
#include <nabla/data/data.h>
#include <nabla/nabla.h>
#include <nabla/nn/nn.h>
#include <nabla/nn/recurrent.h>
#include <nabla/nn/sampling.h>
#include <nabla/optim/optimizer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../common/flags.h"
#include "../common/fortunes.h"

namespace nb = nabla;
namespace nn = nabla::nn;
namespace nd = nabla::data;

namespace {

struct Args {
  int epochs = 4;
  int64_t hidden = 256;
  int64_t layers = 1;
  int64_t embed = 64;
  int64_t seq_len = 64;
  int64_t batch_size = 64;
  double lr = 3e-3;
  int64_t train_chars = 1'200'000;  // 0: the whole training text (about 2.4M characters)
  int64_t valid_chars = 100'000;    // 0: the whole validation text
  double temperature = 0.8;
  int64_t top_k = 0;
  int64_t sample_chars = 400;
  std::string prompt = "The ";
  uint64_t seed = 1;
  std::string data = fortunes::kRoot;
};

Args parse(int argc, char** argv) {
  Args a;
  examples::Flags()
      .add("--epochs", a.epochs)
      .add("--hidden", a.hidden)
      .add("--layers", a.layers)
      .add("--embed", a.embed)
      .add("--seq-len", a.seq_len)
      .add("--batch-size", a.batch_size)
      .add("--lr", a.lr)
      .add("--train-chars", a.train_chars)
      .add("--valid-chars", a.valid_chars)
      .add("--temperature", a.temperature)
      .add("--top-k", a.top_k)
      .add("--sample-chars", a.sample_chars)
      .add("--prompt", a.prompt)
      .add("--seed", a.seed)
      .add("--data", a.data)
      .parse(argc, argv);
  return a;
}

// Embedding -> LSTM -> Linear over the vocabulary, batch first.
class CharLM : public nn::Module {
 public:
  CharLM(int64_t vocab, int64_t embed, int64_t hidden, int64_t layers)
      : vocab_(vocab),
        embed_(register_module("embed", nn::Embedding(vocab, embed))),
        lstm_(register_module("lstm", nn::LSTM(embed, hidden,
                                               {.num_layers = layers,
                                                .batch_first = true,
                                                .dropout = layers > 1 ? 0.1 : 0.0}))),
        head_(register_module("head", nn::Linear(hidden, vocab))) {}

  // ids int64 (N, T) -> logits (N, T, vocab) and the final state.
  nn::SequenceOutput step(const nb::Tensor& ids, const nn::RecurrentState& state) {
    nn::SequenceOutput out = lstm_->forward(embed_->forward(ids), state);
    out.output = head_->forward(out.output);
    return out;
  }
  nb::Tensor forward(const nb::Tensor& ids) override { return step(ids, {}).output; }
  std::string describe() const override { return "CharLM"; }

 private:
  int64_t vocab_;
  std::shared_ptr<nn::Embedding> embed_;
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::Linear> head_;
};

std::string join(const std::vector<std::string>& entries, const std::vector<size_t>& order,
                 size_t begin, size_t end) {
  std::string text;
  for (size_t i = begin; i < end; ++i) text += entries[order[i]] + "\n%\n";
  return text;
}

// Keeps at most `bytes` bytes (0: all), never cutting a UTF-8 sequence.
void truncate_utf8(std::string& text, int64_t bytes) {
  if (bytes <= 0 || size_t(bytes) >= text.size()) return;
  size_t n = size_t(bytes);
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  text.resize(n);
}

// Mean cross-entropy (nats per character) of the model on every window of `tokens`.
double evaluate(CharLM& model, const nb::Tensor& tokens, int64_t seq_len) {
  nb::NoGradGuard no_grad;
  model.eval();
  auto ds = std::make_shared<nd::LanguageModelDataset>(tokens, seq_len);
  nd::DataLoader loader(ds, {.batch_size = 256});
  double total = 0;
  int64_t count = 0;
  for (const nd::Batch& b : loader) {
    nb::Tensor logits = model.forward(b.inputs);
    int64_t n = b.targets.numel();
    nb::Tensor loss = nn::cross_entropy(logits.reshape({n, -1}), b.targets.reshape({n}));
    total += loss.item<double>() * double(n);
    count += n;
  }
  model.train();
  return total / double(count);
}

// Cross-entropy of an add-one smoothed unigram model of `train` on the characters of `valid`
// that the language model predicts (all but the first of each window).
double unigram_nats(const std::vector<int64_t>& train, const std::vector<int64_t>& valid,
                    int64_t vocab, int64_t seq_len) {
  std::vector<double> count(size_t(vocab), 1.0);
  for (int64_t t : train) count[size_t(t)] += 1;
  double total = double(train.size()) + double(vocab);
  int64_t windows = (int64_t(valid.size()) - 1) / seq_len;
  double nats = 0;
  for (int64_t i = 1; i <= windows * seq_len; ++i)
    nats -= std::log(count[size_t(valid[size_t(i)])] / total);
  return nats / double(windows * seq_len);
}

std::string sample(CharLM& model, const nd::Vocabulary& vocab, const Args& args) {
  nb::NoGradGuard no_grad;
  model.eval();
  nb::Generator gen(args.seed);
  std::vector<int64_t> prompt = vocab.encode(args.prompt);
  std::vector<int64_t> produced = prompt;
  nn::SequenceOutput out =
      model.step(nb::tensor(prompt, {1, int64_t(prompt.size())}), nn::RecurrentState{});
  for (int64_t i = 0; i < args.sample_chars; ++i) {
    nb::Tensor last = out.output.select(1, out.output.shape()[1] - 1);  // (1, vocab)
    nb::Tensor next =
        nn::sample_logits(last, {.temperature = args.temperature, .top_k = args.top_k}, &gen);
    int64_t id = next.to_vector<int64_t>()[0];
    produced.push_back(id);
    out = model.step(next.reshape({1, 1}), out.state);
  }
  return vocab.decode(produced, /*skip_specials=*/true);
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  nb::manual_seed(args.seed);

  // English cookies: the top directory's own files (its links point into it/); ascii-art is
  // pictures, not text.
  std::vector<std::string> entries = fortunes::read_dir(args.data, {"ascii-art"});
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(args.seed));
  size_t n_valid = entries.size() / 10;
  std::string valid_text = join(entries, order, 0, n_valid);
  std::string train_text = join(entries, order, n_valid, entries.size());
  std::printf("fortunes: %zu (%zu for validation), %zu training and %zu validation characters\n",
              entries.size(), n_valid, train_text.size(), valid_text.size());
  truncate_utf8(train_text, args.train_chars);
  truncate_utf8(valid_text, args.valid_chars);

  nd::Vocabulary vocab = nd::Vocabulary::build(train_text, {.level = nd::TokenLevel::character});
  std::vector<int64_t> train_ids = vocab.encode(train_text);
  std::vector<int64_t> valid_ids = vocab.encode(valid_text);
  nb::Tensor valid_tokens = nb::tensor(valid_ids);
  const int64_t V = vocab.size();
  double unigram_ppl = std::exp(unigram_nats(train_ids, valid_ids, V, args.seq_len));
  std::printf("vocabulary: %lld symbols; using %zu training, %zu validation characters\n",
              (long long)V, train_ids.size(), valid_ids.size());
  std::printf("unigram baseline validation perplexity: %.2f\n", unigram_ppl);

  CharLM model(V, args.embed, args.hidden, args.layers);
  std::printf("model: embed %lld, LSTM %lld x %lld, %lld parameters\n", (long long)args.embed,
              (long long)args.layers, (long long)args.hidden, (long long)model.num_parameters());
  nb::optim::Adam opt(model.parameters(), {.lr = args.lr});
  auto train_ds = std::make_shared<nd::LanguageModelDataset>(train_ids, args.seq_len);
  nd::DataLoader loader(train_ds, {.batch_size = args.batch_size,
                                   .shuffle = true,
                                   .seed = args.seed,
                                   .drop_last = true,
                                   .num_workers = 1});

  double valid_ppl = 0;
  for (int epoch = 1; epoch <= args.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t steps = 0;
    for (const nd::Batch& b : loader) {
      nb::Tensor logits = model.forward(b.inputs);
      int64_t n = b.targets.numel();
      nb::Tensor loss = nn::cross_entropy(logits.reshape({n, V}), b.targets.reshape({n}));
      opt.zero_grad();
      loss.backward();
      nb::optim::clip_grad_norm_(model.parameters(), 1.0);
      opt.step();
      loss_sum += loss.item<double>();
      ++steps;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    valid_ppl = std::exp(evaluate(model, valid_tokens, args.seq_len));
    std::printf("epoch %d: train loss %.3f, validation perplexity %.2f (unigram %.2f), %.1f s\n",
                epoch, loss_sum / double(std::max<int64_t>(steps, 1)), valid_ppl, unigram_ppl,
                secs);
    std::fflush(stdout);
  }

  std::printf("\nvalidation perplexity: %.2f\nunigram perplexity: %.2f\nbeats unigram: %s\n",
              valid_ppl, unigram_ppl, valid_ppl < unigram_ppl ? "yes" : "no");
  std::printf("\nsample (temperature %.2f):\n%s\n", args.temperature,
              sample(model, vocab, args).c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "char_lm: %s\n", e.what());
  return 1;
}
