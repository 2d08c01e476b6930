#include "train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace nabla::train::detail {
namespace {

constexpr int kBarWidth = 30;
constexpr double kTerminalInterval = 0.1;  // seconds between rewrites of the line
constexpr double kUnknownInterval = 10;    // seconds between log lines when the size is unknown

double seconds_between(Progress::Clock::time_point a, Progress::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string values_text(const Progress::Values& values) {
  std::string s;
  char buf[64];
  for (const auto& [k, v] : values) {
    std::snprintf(buf, sizeof buf, std::abs(v) < 1e5 ? "%.4f" : "%.4g", v);
    s += "  " + k + " " + buf;
  }
  return s;
}

std::string rate_text(int64_t samples, double seconds) {
  if (seconds <= 0) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "  %.0f samples/s", double(samples) / seconds);
  return buf;
}

}  // namespace

bool is_terminal(const std::ostream* out) { return out == &std::cout && isatty(fileno(stdout)); }

std::string format_duration(double seconds) {
  const auto s = int64_t(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", (long long)s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
  return buf;
}

void Progress::begin_epoch(int epoch, int64_t total_batches, Clock::time_point now) {
  epoch_ = epoch;
  total_ = total_batches;
  start_ = last_shown_ = now;
  last_decile_ = 0;
  last_width_ = 0;
}

bool Progress::due(int64_t done, Clock::time_point now) const {
  if (!out_) return false;
  if (total_ >= 0 && done >= total_) return false;  // end_epoch shows the last batch
  if (tty_) return done == 1 || seconds_between(last_shown_, now) >= kTerminalInterval;
  if (total_ < 0) return seconds_between(last_shown_, now) >= kUnknownInterval;
  return done * 10 / total_ > last_decile_;
}

std::string Progress::head(int64_t done) const {
  std::string s = "epoch " + std::to_string(epoch_) + "/" + std::to_string(epochs_) + "  ";
  if (tty_ && total_ > 0) {
    const int64_t filled = std::min<int64_t>(kBarWidth, done * kBarWidth / total_);
    std::string bar(kBarWidth, ' ');
    for (int64_t i = 0; i < filled; ++i) bar[i] = '=';
    if (filled < kBarWidth) bar[filled] = '>';
    s += "[" + bar + "] ";
  }
  s += std::to_string(done);
  if (total_ >= 0) s += "/" + std::to_string(total_);
  return s;
}

void Progress::show(int64_t done, int64_t samples, const Values& values, Clock::time_point now) {
  if (!out_) return;
  const double elapsed = seconds_between(start_, now);
  std::string line = head(done) + values_text(values) + rate_text(samples, elapsed);
  if (total_ > 0 && done > 0)
    line += "  ETA " + format_duration(elapsed / double(done) * double(total_ - done));
  if (tty_) {
    const std::size_t width = line.size();
    if (width < last_width_) line += std::string(last_width_ - width, ' ');
    last_width_ = width;
    *out_ << '\r' << line << std::flush;
  } else {
    *out_ << line << '\n' << std::flush;
  }
  last_shown_ = now;
  if (total_ > 0) last_decile_ = done * 10 / total_;
}

void Progress::end_epoch(int64_t done, int64_t samples, const Values& values, double train_seconds,
                         double seconds) {
  if (!out_) return;
  if (total_ < 0) total_ = done;
  std::string line = head(done) + values_text(values) + rate_text(samples, train_seconds) + "  " +
                     (seconds < 60 ? [&] {
                       char buf[32];
                       std::snprintf(buf, sizeof buf, "%.1fs", seconds);
                       return std::string(buf);
                     }()
                                   : format_duration(seconds));
  if (tty_) {
    const std::size_t width = line.size();
    if (width < last_width_) line += std::string(last_width_ - width, ' ');
    *out_ << '\r';
  }
  *out_ << line << '\n' << std::flush;
}

}  // namespace nabla::train::detail
