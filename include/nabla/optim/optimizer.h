// Optimizers (PyTorch's update rules, step for step) over parameter groups with their own
// options. Updates run as fused loops over each parameter's memory, under no-grad.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nabla/io/safetensors.h"
#include "nabla/tensor.h"

namespace nabla::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  double lr = 1e-3;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  double lr() const { return groups_.at(0).lr; }
  void set_lr(double lr);  // every group
  // Per-parameter state ("state.<i>.<name>", i counting parameters across groups) and
  // each group's lr ("group.<g>.lr"); saved with save_safetensors for checkpoints.
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);

 protected:
  void add_group(std::vector<Tensor> params, double lr, const char* name);
  // The named state tensor of the parameter with global index i, zeros on first use.
  Tensor& state(std::size_t i, const std::string& name, const Tensor& like);
  // Calls fn(global_index, group_index, param, grad) for every parameter with a gradient.
  template <class F>
  void for_each_param(F&& fn) {
    std::size_t i = 0;
    for (std::size_t g = 0; g < groups_.size(); ++g)
      for (Tensor& p : groups_[g].params) {
        Tensor grad = p.grad();
        if (grad.defined()) fn(i, g, p, grad);
        ++i;
      }
  }
  int64_t& step_of(std::size_t i) { return steps_[i]; }

 private:
  std::vector<ParamGroup> groups_;
  std::map<std::size_t, std::map<std::string, Tensor>> state_;
  std::map<std::size_t, int64_t> steps_;
};

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};
// Plain gradient descent when momentum is 0.
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options = {});
  void add_param_group(std::vector<Tensor> params, SGDOptions options);
  void step() override;

 private:
  std::vector<SGDOptions> opts_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: added to the gradient; AdamW: decoupled
  bool amsgrad = false;
};
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  void add_param_group(std::vector<Tensor> params, AdamOptions options);
  void step() override;

 protected:
  Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled);
  std::vector<AdamOptions> opts_;
  bool decoupled_ = false;
};
// Adam with decoupled weight decay (default 0.01, as PyTorch).
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamOptions options = {.weight_decay = 1e-2});
};

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
};
class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> params, AdagradOptions options = {});
  void step() override;

 private:
  std::vector<AdagradOptions> opts_;
};

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
};
class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
  void step() override;

 private:
  std::vector<RMSpropOptions> opts_;
};

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
};
class Adadelta : public Optimizer {
 public:
  Adadelta(std::vector<Tensor> params, AdadeltaOptions options = {});
  void step() override;

 private:
  std::vector<AdadeltaOptions> opts_;
};

// Scales all gradients so their global p-norm is at most max_norm; returns the norm before.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double p = 2.0);
// Clamps every gradient element into [-clip, clip].
void clip_grad_value_(const std::vector<Tensor>& params, double clip);

}  // namespace nabla::optim
