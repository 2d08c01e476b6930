// The progress display of fit(): on a terminal one line per epoch rewritten in place (at most
// ten times a second); elsewhere plain lines, about every 10% of an epoch, and a summary line
// at the end of each epoch.
#pragma once
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "nabla/train/history.h"

namespace nabla::train::detail {

// Whether `out` is std::cout attached to a terminal.
bool is_terminal(const std::ostream* out);

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  using Values = std::vector<std::pair<std::string, double>>;

  // `out` null: silent.
  Progress(std::ostream* out, bool terminal, int epochs)
      : out_(out), tty_(terminal), epochs_(epochs) {}

  // total_batches < 0: unknown (an IterableDataset).
  void begin_epoch(int epoch, int64_t total_batches, Clock::time_point now = Clock::now());
  // Whether a line is due after `done` batches (so values need computing).
  bool due(int64_t done, Clock::time_point now = Clock::now()) const;
  // Shows the state after `done` batches and `samples` examples; marks the line shown.
  void show(int64_t done, int64_t samples, const Values& values,
            Clock::time_point now = Clock::now());
  // The epoch's summary; `values` in display order (loss, metrics, val_*).
  void end_epoch(int64_t done, int64_t samples, const Values& values, double train_seconds,
                 double seconds);

 private:
  std::string head(int64_t done) const;
  std::ostream* out_;
  bool tty_;
  int epochs_;
  int epoch_ = 0;
  int64_t total_ = -1;
  Clock::time_point start_, last_shown_;
  int64_t last_decile_ = 0;
  std::size_t last_width_ = 0;
};

// "12s", "3m05s", "2h01m".
std::string format_duration(double seconds);

}  // namespace nabla::train::detail
