#include "nabla/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "nabla/ops/creation.h"

namespace nabla::optim {

LRScheduler::LRScheduler(Optimizer& opt) : opt_(opt) {
  for (auto& g : opt.param_groups()) base_.push_back(g.lr);
}

void LRScheduler::apply() {
  auto& groups = opt_.param_groups();
  for (std::size_t i = 0; i < groups.size() && i < base_.size(); ++i) groups[i].lr = lr_at(base_[i], epoch_);
}

void LRScheduler::step() {
  ++epoch_;
  apply();
}

std::vector<double> LRScheduler::last_lr() const {
  std::vector<double> v;
  for (auto& g : opt_.param_groups()) v.push_back(g.lr);
  return v;
}

namespace {

// The value of `key` in `state` as one number; ValueError naming the scheduler and the key.
const Tensor& entry(const TensorMap& state, const std::string& key, const char* who) {
  auto it = state.find(key);
  if (it == state.end()) throw ValueError(std::string("[") + who + "::load_state_dict] missing key '" + key + "'");
  if (!it->second.defined() || it->second.numel() != 1)
    throw ValueError(std::string("[") + who + "::load_state_dict] '" + key + "' must hold one value");
  return it->second;
}

}  // namespace

TensorMap LRScheduler::state_dict() const {
  TensorMap m{{"last_epoch", full({}, double(epoch_), int64)}};
  for (std::size_t g = 0; g < base_.size(); ++g) m["base_lr." + std::to_string(g)] = full({}, base_[g], float64);
  return m;
}

void LRScheduler::load_state_dict(const TensorMap& state) {
  const char* who = "LRScheduler";
  std::vector<double> base(opt_.param_groups().size());
  for (std::size_t g = 0; g < base.size(); ++g)
    base[g] = entry(state, "base_lr." + std::to_string(g), who).item<double>();
  for (const auto& [key, t] : state) {
    const bool known = key == "last_epoch" || (key.rfind("base_lr.", 0) == 0 &&
                                               key.size() > 8 && key.size() < 18 &&
                                               key.find_first_not_of("0123456789", 8) == std::string::npos &&
                                               std::stoull(key.substr(8)) < base.size());
    if (!known) throw ValueError(std::string("[") + who + "::load_state_dict] unexpected key '" + key + "'");
  }
  epoch_ = entry(state, "last_epoch", who).item<int64_t>();
  base_ = std::move(base);
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma) : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  if (step_size <= 0) throw ValueError("[StepLR] step_size must be positive, got " + std::to_string(step_size));
}
double StepLR::lr_at(double base, int64_t e) const { return base * std::pow(gamma_, double(e / step_size_)); }

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
}
double MultiStepLR::lr_at(double base, int64_t e) const {
  auto n = std::upper_bound(milestones_.begin(), milestones_.end(), e) - milestones_.begin();
  return base * std::pow(gamma_, double(n));
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma) : LRScheduler(opt), gamma_(gamma) {}
double ExponentialLR::lr_at(double base, int64_t e) const { return base * std::pow(gamma_, double(e)); }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, int64_t t_max, double eta_min)
    : LRScheduler(opt), t_max_(t_max), eta_min_(eta_min) {
  if (t_max <= 0) throw ValueError("[CosineAnnealingLR] t_max must be positive, got " + std::to_string(t_max));
}
double CosineAnnealingLR::lr_at(double base, int64_t e) const {
  return eta_min_ + (base - eta_min_) * (1 + std::cos(std::numbers::pi * double(e) / double(t_max_))) / 2;
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& opt, int64_t t_0, int64_t t_mult, double eta_min)
    : LRScheduler(opt), t_0_(t_0), t_mult_(t_mult), eta_min_(eta_min) {
  if (t_0 <= 0 || t_mult < 1) throw ValueError("[CosineAnnealingWarmRestarts] needs t_0 > 0 and t_mult >= 1");
}
double CosineAnnealingWarmRestarts::lr_at(double base, int64_t e) const {
  int64_t t_i = t_0_, t_cur = e;
  while (t_cur >= t_i) {
    t_cur -= t_i;
    t_i *= t_mult_;
  }
  return eta_min_ + (base - eta_min_) * (1 + std::cos(std::numbers::pi * double(t_cur) / double(t_i))) / 2;
}

LinearLR::LinearLR(Optimizer& opt, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(opt), start_(start_factor), end_(end_factor), total_(total_iters) {
  if (start_factor <= 0 || start_factor > 1 || total_iters <= 0)
    throw ValueError("[LinearLR] needs 0 < start_factor <= 1 and total_iters > 0");
  apply();
}
double LinearLR::lr_at(double base, int64_t e) const {
  return base * (start_ + (end_ - start_) * double(std::min(e, total_)) / double(total_));
}

OneCycleLR::OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, double pct_start, double div_factor,
                       double final_div_factor)
    : LRScheduler(opt), max_lr_(max_lr), initial_(max_lr / div_factor), min_(max_lr / div_factor / final_div_factor),
      total_(total_steps), phase_end_(pct_start * double(total_steps) - 1) {
  if (total_steps <= 1 || pct_start <= 0 || pct_start >= 1)
    throw ValueError("[OneCycleLR] needs total_steps > 1 and 0 < pct_start < 1");
  apply();
}
double OneCycleLR::lr_at(double, int64_t e) const {
  if (e >= total_) throw ValueError("[OneCycleLR] stepped " + std::to_string(e) + " times, more than total_steps " + std::to_string(total_));
  auto anneal = [](double from, double to, double pct) { return to + (from - to) / 2 * (1 + std::cos(std::numbers::pi * pct)); };
  double step = double(e);
  if (step <= phase_end_) return anneal(initial_, max_lr_, step / phase_end_);
  return anneal(max_lr_, min_, (step - phase_end_) / (double(total_ - 1) - phase_end_));
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, PlateauOptions o)
    : opt_(opt), o_(o), best_(o.maximize ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity()) {
  if (o.factor >= 1 || o.factor <= 0) throw ValueError("[ReduceLROnPlateau] factor must be in (0, 1)");
}

TensorMap ReduceLROnPlateau::state_dict() const {
  return {{"best", full({}, best_, float64)},
          {"bad_epochs", full({}, double(bad_epochs_), int64)},
          {"cooldown_left", full({}, double(cooldown_left_), int64)}};
}

void ReduceLROnPlateau::load_state_dict(const TensorMap& state) {
  const char* who = "ReduceLROnPlateau";
  for (const auto& [key, t] : state)
    if (key != "best" && key != "bad_epochs" && key != "cooldown_left")
      throw ValueError(std::string("[") + who + "::load_state_dict] unexpected key '" + key + "'");
  best_ = entry(state, "best", who).item<double>();
  bad_epochs_ = entry(state, "bad_epochs", who).item<int64_t>();
  cooldown_left_ = entry(state, "cooldown_left", who).item<int64_t>();
}

void ReduceLROnPlateau::step(double metric) {
  bool better = o_.maximize ? metric > best_ * (1 + o_.threshold) : metric < best_ * (1 - o_.threshold);
  if (std::isinf(best_)) better = true;
  if (better) {
    best_ = metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_epochs_ = 0;
  }
  if (bad_epochs_ > o_.patience) {
    for (auto& g : opt_.param_groups()) g.lr = std::max(g.lr * o_.factor, o_.min_lr);
    cooldown_left_ = o_.cooldown;
    bad_epochs_ = 0;
  }
}

}  // namespace nabla::optim
