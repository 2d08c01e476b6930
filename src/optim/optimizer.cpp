#include "nabla/optim/optimizer.h"

#include <cmath>

#include "nabla/autograd.h"
#include "nabla/ops/creation.h"

namespace nabla::optim {

void Optimizer::add_group(std::vector<Tensor> params, double lr, const char* name) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    if (!p.defined() || !p.is_concrete())
      throw ValueError(std::string("[") + name + "] parameter " + std::to_string(i) + " has no values");
    if (!is_floating(p.dtype()))
      throw DTypeError(std::string("[") + name + "] parameter " + std::to_string(i) + " is " +
                       std::string(dtype_name(p.dtype())) + "; only floating tensors can be optimised");
    if (!p.is_contiguous())
      throw ValueError(std::string("[") + name + "] parameter " + std::to_string(i) + " is not contiguous");
  }
  if (lr < 0) throw ValueError(std::string("[") + name + "] learning rate must be non-negative, got " + std::to_string(lr));
  groups_.push_back({std::move(params), lr});
}

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (Tensor& p : g.params) p.zero_grad();
}

void Optimizer::set_lr(double lr) {
  for (auto& g : groups_) g.lr = lr;
}

Tensor& Optimizer::state(std::size_t i, const std::string& name, const Tensor& like) {
  Tensor& t = state_[i][name];
  if (!t.defined()) t = zeros_like(like);
  return t;
}

TensorMap Optimizer::state_dict() const {
  TensorMap m;
  for (auto& [i, named] : state_)
    for (auto& [n, t] : named) m["state." + std::to_string(i) + "." + n] = t;
  for (auto& [i, s] : steps_) m["state." + std::to_string(i) + ".step"] = full({}, double(s), int64);
  for (std::size_t g = 0; g < groups_.size(); ++g) m["group." + std::to_string(g) + ".lr"] = full({}, groups_[g].lr, float64);
  return m;
}

namespace {

// The decimal index in key[begin, end), or a ValueError naming the key (never std::stoul's
// invalid_argument / out_of_range for a malformed or hostile file).
std::size_t key_index(const std::string& key, std::size_t begin, std::size_t end) {
  if (end == std::string::npos) end = key.size();
  if (end <= begin || end - begin > 9 || key.find_first_not_of("0123456789", begin) < end)
    throw ValueError("[Optimizer::load_state_dict] malformed key '" + key + "'");
  std::size_t v = 0;
  for (std::size_t i = begin; i < end; ++i) v = v * 10 + std::size_t(key[i] - '0');
  return v;
}

}  // namespace

void Optimizer::load_state_dict(const TensorMap& state) {
  std::size_t nparams = 0;
  for (auto& g : groups_) nparams += g.params.size();
  for (auto& [key, t] : state) {
    if (key.rfind("group.", 0) == 0) {
      std::size_t dot = key.find('.', 6);
      std::size_t g = key_index(key, 6, dot);
      if (dot == std::string::npos || key.substr(dot + 1) != "lr")
        throw ValueError("[Optimizer::load_state_dict] unexpected key '" + key + "'");
      if (g >= groups_.size()) throw ValueError("[Optimizer::load_state_dict] no parameter group " + std::to_string(g));
      groups_[g].lr = t.item<double>();
      continue;
    }
    if (key.rfind("state.", 0) != 0) throw ValueError("[Optimizer::load_state_dict] unexpected key '" + key + "'");
    std::size_t dot = key.find('.', 6);
    std::size_t i = key_index(key, 6, dot);
    if (dot == std::string::npos || dot + 1 == key.size())
      throw ValueError("[Optimizer::load_state_dict] malformed key '" + key + "'");
    std::string name = key.substr(dot + 1);
    if (i >= nparams) throw ValueError("[Optimizer::load_state_dict] key '" + key + "' names parameter " + std::to_string(i) + " of " + std::to_string(nparams));
    if (name == "step") steps_[i] = t.item<int64_t>();
    else state_[i][name] = t.clone();
  }
}

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double p) {
  double total = 0;
  for (const Tensor& t : params) {
    Tensor g = t.grad();
    if (!g.defined()) continue;
    for (double v : g.to_vector<double>()) total = std::isinf(p) ? std::max(total, std::fabs(v)) : total + std::pow(std::fabs(v), p);
  }
  double norm = std::isinf(p) ? total : std::pow(total, 1.0 / p);
  double scale = max_norm / (norm + 1e-6);
  if (scale < 1) {
    NoGradGuard off;
    for (const Tensor& t : params) {
      Tensor g = t.grad();
      if (g.defined()) g.mul_(scalar(scale, g.dtype()));
    }
  }
  return norm;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip) {
  NoGradGuard off;
  for (const Tensor& t : params) {
    Tensor g = t.grad();
    if (!g.defined()) continue;
    std::vector<double> v = g.to_vector<double>();
    for (double& x : v) x = std::max(-clip, std::min(clip, x));
    g.copy_(tensor(v, g.shape()));
  }
}

}  // namespace nabla::optim
