// Callbacks: code that fit() runs at fixed points of training. Epochs count from 1, as in
// the progress display, the history and checkpoint names. Setting `stop_training` ends fit()
// after the current batch.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "nabla/io/safetensors.h"
#include "nabla/nn/module.h"
#include "nabla/train/history.h"

namespace nabla::train {

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(nn::Module& model) {}
  virtual void on_epoch_begin(int epoch) {}
  // `logs`: "batch" (from 1), "size" (examples), "loss" (this batch's).
  virtual void on_batch_end(int64_t batch, const Logs& logs) {}
  // `logs`: the epoch's row of the history (loss, metrics, val_*, lr, seconds...).
  virtual void on_epoch_end(int epoch, const Logs& logs) {}
  virtual void on_train_end(const History& history) {}
  bool stop_training = false;
};

// Whether a smaller or a larger monitored value is better. `automatic`: larger for
// accuracies, precision, recall and f1, smaller otherwise (losses, errors).
enum class Mode { automatic, min, max };

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  int patience = 0;      // epochs without improvement before stopping
  double min_delta = 0;  // a change smaller than this is no improvement
  Mode mode = Mode::automatic;
  bool restore_best_weights = false;  // load the best epoch's weights when stopping
};

// Stops training when the monitored value has not improved for `patience` epochs. A monitor
// that is not in the epoch's logs is a ValueError naming it and the keys present.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(nn::Module& model) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const History& history) override;
  int stopped_epoch() const { return stopped_epoch_; }  // 0 when it did not stop
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  EarlyStoppingOptions o_;
  bool larger_better_;
  nn::Module* model_ = nullptr;
  double best_ = 0;
  int best_epoch_ = 0, wait_ = 0, stopped_epoch_ = 0;
  TensorMap best_weights_;
};

struct CheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = false;  // save only when the monitored value improves
  Mode mode = Mode::automatic;
};

// Saves model.state_dict() with save_safetensors after each epoch (or each improvement).
// `path` may name log values: "ckpt-{epoch:03d}-{val_loss:.4f}.safetensors" (fields
// {key}, {key:d}, {key:0Nd}, {key:.Nf}); a malformed pattern is a ValueError here, a key
// missing from the logs a ValueError when saving.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string path, CheckpointOptions options = {});
  void on_train_begin(nn::Module& model) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  // The path of the last file written (empty before the first).
  const std::string& last_saved() const { return last_saved_; }

 private:
  std::string pattern_;
  CheckpointOptions o_;
  bool larger_better_;
  nn::Module* model_ = nullptr;
  std::optional<double> best_;
  std::string last_saved_;
};

// Rewrites `path` atomically after each epoch with the history so far (History::to_csv).
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string path) : path_(std::move(path)) {}
  void on_train_begin(nn::Module& model) override { rows_ = History(); }
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  std::string path_;
  History rows_;
};

// A callback from functions; unset ones do nothing.
struct LambdaCallback : Callback {
  std::function<void(int epoch)> epoch_begin;
  std::function<void(int64_t batch, const Logs&)> batch_end;
  std::function<void(int epoch, const Logs&)> epoch_end;
  void on_epoch_begin(int epoch) override {
    if (epoch_begin) epoch_begin(epoch);
  }
  void on_batch_end(int64_t batch, const Logs& logs) override {
    if (batch_end) batch_end(batch, logs);
  }
  void on_epoch_end(int epoch, const Logs& logs) override {
    if (epoch_end) epoch_end(epoch, logs);
  }
};

// Whether larger values of the log `key` are better under `mode`.
bool larger_is_better(const std::string& key, Mode mode);

}  // namespace nabla::train
