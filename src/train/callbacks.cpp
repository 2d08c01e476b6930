#include "nabla/train/callbacks.h"

#include <cmath>
#include <cstdio>
#include <regex>
#include <vector>

#include "nabla/error.h"

namespace nabla::train {
namespace {

std::string key_list(const Logs& logs) {
  std::string s;
  for (const auto& [k, v] : logs) s += (s.empty() ? "" : ", ") + k;
  return s;
}

double monitored(const std::string& who, const std::string& key, const Logs& logs) {
  auto it = logs.find(key);
  if (it == logs.end())
    throw ValueError("[" + who + "] monitor '" + key + "' is not in the epoch's logs (" +
                     key_list(logs) + ")" +
                     (key.starts_with("val_") ? "; pass FitOptions::validation" : ""));
  return it->second;
}

bool improved(double value, double best, double min_delta, bool larger_better) {
  return larger_better ? value > best + min_delta : value < best - min_delta;
}

// One piece of a checkpoint path pattern: literal text, or a log key with a format.
struct Piece {
  std::string text;  // literal, or the key when `field`
  bool field = false;
  std::string spec;  // printf conversion ("%03d", "%.4f", "%.10g")
};

std::vector<Piece> parse_pattern(const std::string& pattern) {
  auto bad = [&](const std::string& why) {
    return ValueError("[ModelCheckpoint] bad path pattern '" + pattern + "': " + why);
  };
  std::vector<Piece> pieces;
  std::string lit;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char ch = pattern[i];
    if (ch == '}') throw bad("unmatched '}'");
    if (ch != '{') {
      lit += ch;
      continue;
    }
    const std::size_t close = pattern.find('}', i);
    if (close == std::string::npos) throw bad("unmatched '{'");
    const std::string field = pattern.substr(i + 1, close - i - 1);
    const std::size_t colon = field.find(':');
    Piece p{field.substr(0, colon), true, "%.10g"};
    if (p.text.empty()) throw bad("empty field name");
    if (colon != std::string::npos) {
      const std::string f = field.substr(colon + 1);
      static const std::regex integer("[0-9]{0,2}d"), fixed("[0-9]{0,2}\\.[0-9]{1,2}f");
      if (std::regex_match(f, integer))
        p.spec = "%" + f.substr(0, f.size() - 1) + "lld";
      else if (std::regex_match(f, fixed))
        p.spec = "%" + f;
      else
        throw bad("format '" + f + "' of field '" + p.text + "' is not d, 0Nd, Nd or .Nf");
    }
    if (!lit.empty()) pieces.push_back({lit, false, ""});
    lit.clear();
    pieces.push_back(p);
    i = close;
  }
  if (!lit.empty()) pieces.push_back({lit, false, ""});
  return pieces;
}

std::string format_path(const std::string& pattern, const Logs& logs) {
  std::string out;
  for (const Piece& p : parse_pattern(pattern)) {
    if (!p.field) {
      out += p.text;
      continue;
    }
    auto it = logs.find(p.text);
    if (it == logs.end())
      throw ValueError("[ModelCheckpoint] path field '" + p.text + "' is not in the logs (" +
                       key_list(logs) + ")");
    char buf[64];
    if (p.spec.ends_with("lld"))
      std::snprintf(buf, sizeof buf, p.spec.c_str(), (long long)std::llround(it->second));
    else
      std::snprintf(buf, sizeof buf, p.spec.c_str(), it->second);
    out += buf;
  }
  return out;
}

TensorMap clone_state(const nn::Module& model) {
  TensorMap copy;
  for (const auto& [k, v] : model.state_dict()) copy[k] = v.detach().clone();
  return copy;
}

}  // namespace

bool larger_is_better(const std::string& key, Mode mode) {
  if (mode != Mode::automatic) return mode == Mode::max;
  for (const char* word : {"acc", "precision", "recall", "f1", "auc"})
    if (key.find(word) != std::string::npos) return true;
  return false;
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : o_(std::move(options)), larger_better_(larger_is_better(o_.monitor, o_.mode)) {
  if (o_.patience < 0)
    throw ValueError("[EarlyStopping] patience must be >= 0, got " + std::to_string(o_.patience));
  if (o_.min_delta < 0)
    throw ValueError("[EarlyStopping] min_delta must be >= 0, got " + std::to_string(o_.min_delta));
}

void EarlyStopping::on_train_begin(nn::Module& model) {
  model_ = &model;
  best_ = larger_better_ ? -INFINITY : INFINITY;
  best_epoch_ = wait_ = stopped_epoch_ = 0;
  best_weights_.clear();
  stop_training = false;
}

void EarlyStopping::on_epoch_end(int epoch, const Logs& logs) {
  const double v = monitored("EarlyStopping", o_.monitor, logs);
  if (best_epoch_ == 0 || improved(v, best_, o_.min_delta, larger_better_)) {
    best_ = v;
    best_epoch_ = epoch;
    wait_ = 0;
    if (o_.restore_best_weights && model_) best_weights_ = clone_state(*model_);
    return;
  }
  if (++wait_ > o_.patience) {
    stopped_epoch_ = epoch;
    stop_training = true;
  }
}

void EarlyStopping::on_train_end(const History&) {
  if (stopped_epoch_ != 0 && o_.restore_best_weights && model_ && !best_weights_.empty())
    model_->load_state_dict(best_weights_);
}

ModelCheckpoint::ModelCheckpoint(std::string path, CheckpointOptions options)
    : pattern_(std::move(path)),
      o_(std::move(options)),
      larger_better_(larger_is_better(o_.monitor, o_.mode)) {
  if (pattern_.empty()) throw ValueError("[ModelCheckpoint] the path is empty");
  parse_pattern(pattern_);
}

void ModelCheckpoint::on_train_begin(nn::Module& model) {
  model_ = &model;
  best_.reset();
}

void ModelCheckpoint::on_epoch_end(int epoch, const Logs& logs) {
  if (!model_) return;
  if (o_.save_best_only) {
    const double v = monitored("ModelCheckpoint", o_.monitor, logs);
    if (best_ && !improved(v, *best_, 0, larger_better_)) return;
    best_ = v;
  }
  const std::string path = format_path(pattern_, logs);
  save_safetensors(path, model_->state_dict(), {{"epoch", std::to_string(epoch)}});
  last_saved_ = path;
}

void CSVLogger::on_epoch_end(int epoch, const Logs& logs) {
  rows_.append(logs);
  rows_.save_csv(path_);
}

}  // namespace nabla::train
