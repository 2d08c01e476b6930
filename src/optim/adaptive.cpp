// Adagrad, RMSprop (centered, momentum) and Adadelta, following torch.optim's rules.
#include <cmath>

#include "nabla/ops/creation.h"
#include "nabla/optim/optimizer.h"
#include "optim/update_loop.h"

namespace nabla::optim {

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions o) {
  add_group(std::move(params), o.lr, "Adagrad");
  opts_.push_back(o);
}

void Adagrad::step() {
  for_each_param([&](std::size_t i, std::size_t gi, Tensor& p, const Tensor& grad) {
    const AdagradOptions& o = opts_[gi];
    const int64_t t = ++step_of(i);
    const double clr = param_groups()[gi].lr / (1 + double(t - 1) * o.lr_decay), wd = o.weight_decay, eps = o.eps;
    Tensor& sum = state(i, "sum", p);
    if (t == 1 && o.initial_accumulator_value != 0) sum = full_like(p, o.initial_accumulator_value);
    update_loop(p, grad, {&sum}, [=](auto& w, auto g0, auto** s, int64_t k) {
      using T = std::decay_t<decltype(w)>;
      T g = T(g0 + wd * w);
      s[0][k] += g * g;
      w -= T(clr) * g / (std::sqrt(s[0][k]) + T(eps));
    });
  });
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions o) {
  if (o.alpha < 0) throw ValueError("[RMSprop] alpha must be non-negative");
  add_group(std::move(params), o.lr, "RMSprop");
  opts_.push_back(o);
}

void RMSprop::step() {
  for_each_param([&](std::size_t i, std::size_t gi, Tensor& p, const Tensor& grad) {
    const RMSpropOptions& o = opts_[gi];
    ++step_of(i);
    const double lr = param_groups()[gi].lr, a = o.alpha, eps = o.eps, wd = o.weight_decay, mom = o.momentum;
    const bool centered = o.centered, use_mom = o.momentum > 0;
    Tensor& sq = state(i, "square_avg", p);
    Tensor& ga = state(i, "grad_avg", p);
    Tensor& buf = state(i, "momentum_buffer", p);
    update_loop(p, grad, {&sq, &ga, &buf}, [=](auto& w, auto g0, auto** s, int64_t k) {
      using T = std::decay_t<decltype(w)>;
      T g = T(g0 + wd * w);
      s[0][k] = T(a) * s[0][k] + T(1 - a) * g * g;
      T avg;
      if (centered) {
        s[1][k] = T(a) * s[1][k] + T(1 - a) * g;
        avg = std::sqrt(s[0][k] - s[1][k] * s[1][k]) + T(eps);
      } else {
        avg = std::sqrt(s[0][k]) + T(eps);
      }
      if (use_mom) {
        s[2][k] = T(mom) * s[2][k] + g / avg;
        w -= T(lr) * s[2][k];
      } else {
        w -= T(lr) * g / avg;
      }
    });
  });
}

Adadelta::Adadelta(std::vector<Tensor> params, AdadeltaOptions o) {
  if (o.rho < 0 || o.rho > 1) throw ValueError("[Adadelta] rho must be in [0, 1]");
  add_group(std::move(params), o.lr, "Adadelta");
  opts_.push_back(o);
}

void Adadelta::step() {
  for_each_param([&](std::size_t i, std::size_t gi, Tensor& p, const Tensor& grad) {
    const AdadeltaOptions& o = opts_[gi];
    ++step_of(i);
    const double lr = param_groups()[gi].lr, rho = o.rho, eps = o.eps, wd = o.weight_decay;
    Tensor& sq = state(i, "square_avg", p);
    Tensor& acc = state(i, "acc_delta", p);
    update_loop(p, grad, {&sq, &acc}, [=](auto& w, auto g0, auto** s, int64_t k) {
      using T = std::decay_t<decltype(w)>;
      T g = T(g0 + wd * w);
      s[0][k] = T(rho) * s[0][k] + T(1 - rho) * g * g;
      T delta = std::sqrt(s[1][k] + T(eps)) / std::sqrt(s[0][k] + T(eps)) * g;
      s[1][k] = T(rho) * s[1][k] + T(1 - rho) * delta * delta;
      w -= T(lr) * delta;
    });
  });
}

}  // namespace nabla::optim
