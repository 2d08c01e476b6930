// SGD (momentum, dampening, Nesterov, weight decay), Adam (amsgrad) and AdamW, following
// torch.optim's update rules.
#include <cmath>

#include "nabla/optim/optimizer.h"
#include "optim/update_loop.h"

namespace nabla::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions o) { add_param_group(std::move(params), o); }

void SGD::add_param_group(std::vector<Tensor> params, SGDOptions o) {
  if (o.momentum < 0) throw ValueError("[SGD] momentum must be non-negative, got " + std::to_string(o.momentum));
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw ValueError("[SGD] Nesterov momentum needs momentum > 0 and dampening 0");
  add_group(std::move(params), o.lr, "SGD");
  opts_.push_back(o);
}

void SGD::step() {
  for_each_param([&](std::size_t i, std::size_t gi, Tensor& p, const Tensor& grad) {
    const SGDOptions& o = opts_[gi];
    const double lr = param_groups()[gi].lr, wd = o.weight_decay, mom = o.momentum, damp = o.dampening;
    bool first = step_of(i)++ == 0;
    if (mom == 0) {
      update_loop(p, grad, {}, [=](auto& w, auto g, auto**, int64_t) { w -= lr * (g + wd * w); });
      return;
    }
    Tensor& buf = state(i, "momentum_buffer", p);
    bool nesterov = o.nesterov;
    update_loop(p, grad, {&buf}, [=](auto& w, auto g, auto** s, int64_t k) {
      auto d = g + wd * w;
      auto& b = s[0][k];
      b = first ? d : mom * b + (1 - damp) * d;
      w -= lr * (nesterov ? d + mom * b : b);
    });
  });
}

Adam::Adam(std::vector<Tensor> params, AdamOptions o) : Adam(std::move(params), o, false) {}
Adam::Adam(std::vector<Tensor> params, AdamOptions o, bool decoupled) : decoupled_(decoupled) {
  add_param_group(std::move(params), o);
}
AdamW::AdamW(std::vector<Tensor> params, AdamOptions o) : Adam(std::move(params), o, true) {}

void Adam::add_param_group(std::vector<Tensor> params, AdamOptions o) {
  const char* name = decoupled_ ? "AdamW" : "Adam";
  if (o.beta1 < 0 || o.beta1 >= 1 || o.beta2 < 0 || o.beta2 >= 1)
    throw ValueError(std::string("[") + name + "] betas must be in [0, 1), got " + std::to_string(o.beta1) + ", " +
                     std::to_string(o.beta2));
  if (o.eps < 0) throw ValueError(std::string("[") + name + "] eps must be non-negative");
  add_group(std::move(params), o.lr, name);
  opts_.push_back(o);
}

void Adam::step() {
  for_each_param([&](std::size_t i, std::size_t gi, Tensor& p, const Tensor& grad) {
    const AdamOptions& o = opts_[gi];
    const double lr = param_groups()[gi].lr, b1 = o.beta1, b2 = o.beta2, eps = o.eps, wd = o.weight_decay;
    const int64_t t = ++step_of(i);
    const double bc1 = 1 - std::pow(b1, double(t)), sqrt_bc2 = std::sqrt(1 - std::pow(b2, double(t)));
    const double step_size = lr / bc1, decay = decoupled_ ? 1 - lr * wd : 1, l2 = decoupled_ ? 0 : wd;
    Tensor& m = state(i, "exp_avg", p);
    Tensor& v = state(i, "exp_avg_sq", p);
    if (o.amsgrad) {
      Tensor& vmax = state(i, "max_exp_avg_sq", p);
      update_loop(p, grad, {&m, &v, &vmax}, [=](auto& w, auto g0, auto** s, int64_t k) {
        using T = std::decay_t<decltype(w)>;
        T g = T(g0 + l2 * w);
        w *= T(decay);
        s[0][k] = T(b1) * s[0][k] + T(1 - b1) * g;
        s[1][k] = T(b2) * s[1][k] + T(1 - b2) * g * g;
        s[2][k] = std::max(s[2][k], s[1][k]);
        w -= T(step_size) * s[0][k] / (std::sqrt(s[2][k]) / T(sqrt_bc2) + T(eps));
      });
    } else {
      update_loop(p, grad, {&m, &v}, [=](auto& w, auto g0, auto** s, int64_t k) {
        using T = std::decay_t<decltype(w)>;
        T g = T(g0 + l2 * w);
        w *= T(decay);
        s[0][k] = T(b1) * s[0][k] + T(1 - b1) * g;
        s[1][k] = T(b2) * s[1][k] + T(1 - b2) * g * g;
        w -= T(step_size) * s[0][k] / (std::sqrt(s[1][k]) / T(sqrt_bc2) + T(eps));
      });
    }
  });
}

}  // namespace nabla::optim
