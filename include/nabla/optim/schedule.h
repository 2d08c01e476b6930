// Learning-rate schedules (torch.optim.lr_scheduler). Call step() once per epoch (or per
// batch for OneCycleLR); each sets every parameter group's lr from its initial lr.
#pragma once
#include <vector>

#include "nabla/optim/optimizer.h"

namespace nabla::optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& opt);
  virtual ~LRScheduler() = default;
  void step();
  int64_t last_epoch() const { return epoch_; }
  std::vector<double> last_lr() const;
  // "last_epoch" (int64) and each group's initial lr "base_lr.<g>" (float64): what a
  // checkpoint needs to continue the schedule. Loading does not touch the optimizer's lrs
  // (restore those with Optimizer::load_state_dict), as in PyTorch. ValueError for a missing
  // or unexpected key, or a group the optimizer does not have.
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);

 protected:
  // The lr of a group with initial lr `base` at `epoch` (closed form).
  virtual double lr_at(double base, int64_t epoch) const = 0;
  void apply();
  Optimizer& opt_;
  std::vector<double> base_;
  int64_t epoch_ = 0;
};

// base * gamma^(epoch / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1);
  double lr_at(double base, int64_t epoch) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// base * gamma^(number of milestones reached)
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, std::vector<int64_t> milestones, double gamma = 0.1);
  double lr_at(double base, int64_t epoch) const override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& opt, double gamma);
  double lr_at(double base, int64_t epoch) const override;

 private:
  double gamma_;
};

// Half a cosine from base to eta_min over t_max epochs (the closed form of PyTorch's rule).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, int64_t t_max, double eta_min = 0);
  double lr_at(double base, int64_t epoch) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// SGDR: cosine cycles of t_0, t_0*t_mult, ... epochs, restarting at base.
class CosineAnnealingWarmRestarts : public LRScheduler {
 public:
  CosineAnnealingWarmRestarts(Optimizer& opt, int64_t t_0, int64_t t_mult = 1, double eta_min = 0);
  double lr_at(double base, int64_t epoch) const override;

 private:
  int64_t t_0_, t_mult_;
  double eta_min_;
};

// Linear warmup: the factor goes from start_factor to end_factor over total_iters steps.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5);
  double lr_at(double base, int64_t epoch) const override;

 private:
  double start_, end_;
  int64_t total_;
};

// The 1cycle policy (cosine annealing, two phases), stepped once per batch.
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& opt, double max_lr, int64_t total_steps, double pct_start = 0.3,
             double div_factor = 25, double final_div_factor = 1e4);
  double lr_at(double base, int64_t epoch) const override;

 private:
  double max_lr_, initial_, min_;
  int64_t total_;
  double phase_end_;
};

// Multiplies the lr by `factor` when the metric has not improved for `patience` epochs.
struct PlateauOptions {
  bool maximize = false;
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;  // relative improvement needed
  int64_t cooldown = 0;
  double min_lr = 0;
};
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& opt, PlateauOptions options = {});
  void step(double metric);
  // "best" (float64), "bad_epochs" and "cooldown_left" (int64).
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);

 private:
  Optimizer& opt_;
  PlateauOptions o_;
  double best_;
  int64_t bad_epochs_ = 0, cooldown_left_ = 0;
};

}  // namespace nabla::optim
