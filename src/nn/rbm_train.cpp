// Training RBMs: CD-k / persistent CD gradients, a minibatch SGD loop, and greedy layer-wise
// pretraining of deep belief networks.
#include <cmath>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/nn/rbm.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/index.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/unary.h"
#include "nabla/optim/optimizer.h"
#include "nabla/random.h"

namespace nabla::nn {

ContrastiveDivergence::ContrastiveDivergence(RBM& rbm, CDOptions options)
    : rbm_(rbm), o_(options), gen_(options.seed) {
  if (options.k < 1)
    throw ValueError("[ContrastiveDivergence] k must be >= 1, got " + std::to_string(options.k));
  if (options.num_chains < 0)
    throw ValueError("[ContrastiveDivergence] num_chains must be >= 0, got " +
                     std::to_string(options.num_chains));
}

CDStats ContrastiveDivergence::compute_gradients(const Tensor& batch) {
  NoGradGuard no_grad;
  if (!batch.defined() || batch.ndim() != 2 || batch.size(1) != rbm_.n_visible() ||
      batch.size(0) == 0)
    throw ShapeError(
        "[ContrastiveDivergence] expects a batch (N, " + std::to_string(rbm_.n_visible()) +
        ") with N > 0 for " + rbm_.describe() + ", got " +
        (batch.defined() ? shape_str(batch.shape()) : std::string("an undefined tensor")));
  if (!is_floating(batch.dtype()))
    throw DTypeError("[ContrastiveDivergence] expects a floating batch for " + rbm_.describe() +
                     ", got " + std::string(dtype_name(batch.dtype())));
  Tensor v0 = batch.astype(rbm_.weight.dtype());
  Tensor ph0 = rbm_.hidden_probabilities(v0);

  // The negative phase starts from the data (CD) or from the persistent chains (PCD).
  Tensor h;
  if (o_.persistent) {
    if (!chains_.defined()) {
      int64_t n = o_.num_chains > 0 ? o_.num_chains : v0.size(0);
      chains_ =
          n <= v0.size(0)
              ? v0.slice(0, 0, n).clone()
              : rbm_.sample_visible(bernoulli(0.5, {n, rbm_.n_hidden()}, v0.dtype(), &gen_), &gen_);
    }
    h = rbm_.sample_hidden(chains_, &gen_);
  } else {
    h = bernoulli(ph0, &gen_);
  }
  Tensor vk, phk;
  for (int64_t step = 0; step < o_.k; ++step) {
    vk = rbm_.sample_visible(h, &gen_);
    phk = rbm_.hidden_probabilities(vk);
    if (step + 1 < o_.k) h = bernoulli(phk, &gen_);
  }
  if (o_.persistent) chains_ = vk;

  // Gradient of the negative log-likelihood: model statistics minus data statistics.
  const double n0 = double(v0.size(0)), nk = double(vk.size(0));
  rbm_.weight.set_grad(matmul(phk.t(), vk) / nk - matmul(ph0.t(), v0) / n0);
  rbm_.visible_bias.set_grad(mean(vk, {0}) - mean(v0, {0}));
  rbm_.hidden_bias.set_grad(mean(phk, {0}) - mean(ph0, {0}));

  CDStats stats;
  stats.reconstruction_error = mean(square(v0 - rbm_.visible_mean(ph0))).item<double>();
  return stats;
}

std::vector<double> train_rbm(RBM& rbm, const Tensor& data, const RBMTrainOptions& o) {
  if (!data.defined() || data.ndim() != 2 || data.size(1) != rbm.n_visible() || data.size(0) == 0)
    throw ShapeError("[train_rbm] expects data (N, " + std::to_string(rbm.n_visible()) +
                     ") with N > 0 for " + rbm.describe() + ", got " +
                     (data.defined() ? shape_str(data.shape()) : std::string("undefined")));
  if (o.epochs < 0 || o.batch_size <= 0 || !(o.lr > 0))
    throw ValueError("[train_rbm] needs epochs >= 0, batch_size > 0 and lr > 0");
  optim::SGD opt({rbm.weight},
                 {.lr = o.lr, .momentum = o.momentum, .weight_decay = o.weight_decay});
  opt.add_param_group({rbm.visible_bias, rbm.hidden_bias}, {.lr = o.lr, .momentum = o.momentum});
  ContrastiveDivergence cd(rbm, o.cd);
  Generator shuffle(o.shuffle_seed);
  const int64_t n = data.size(0);
  std::vector<double> errors;
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    Tensor order;
    {
      NoGradGuard no_grad;
      order = permutation(n, int64, &shuffle);
    }
    double total = 0;
    int64_t batches = 0;
    for (int64_t s = 0; s < n; s += o.batch_size) {
      Tensor rows;
      {
        NoGradGuard no_grad;
        rows = index_select(data, 0, order.slice(0, s, std::min(n, s + o.batch_size)));
      }
      total += cd.compute_gradients(rows).reconstruction_error;
      ++batches;
      opt.step();
    }
    errors.push_back(total / double(batches));
    if (o.on_epoch) o.on_epoch(epoch, errors.back());
  }
  rbm.zero_grad();
  return errors;
}

DeepBeliefNetwork::DeepBeliefNetwork(const std::vector<int64_t>& sizes, RBMOptions first) {
  if (sizes.size() < 2)
    throw ValueError("[DeepBeliefNetwork] needs at least two sizes (visible, hidden)");
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    RBMOptions o =
        i == 0 ? first : RBMOptions{.visible = VisibleUnits::bernoulli, .init_std = first.init_std};
    auto rbm = std::make_shared<RBM>(sizes[i], sizes[i + 1], o);
    register_module_ptr(std::to_string(i), rbm);
    layers_.push_back(rbm);
  }
}

std::string DeepBeliefNetwork::describe() const {
  std::string s = "DeepBeliefNetwork(" + std::to_string(layers_.front()->n_visible());
  for (const auto& l : layers_) {
    s += '-';
    s += std::to_string(l->n_hidden());
  }
  s += ')';
  return s;
}

RBM& DeepBeliefNetwork::layer(int64_t i) const {
  if (i < 0 || i >= num_layers())
    throw IndexError("[DeepBeliefNetwork] layer " + std::to_string(i) + " out of range for " +
                     describe());
  return *layers_[std::size_t(i)];
}

Tensor DeepBeliefNetwork::transform(const Tensor& v, int64_t layers) const {
  if (layers < -1 || layers > num_layers())
    throw IndexError("[DeepBeliefNetwork.transform] layers " + std::to_string(layers) +
                     " out of range for " + describe());
  const int64_t n = layers < 0 ? num_layers() : layers;
  Tensor x = v;
  for (int64_t i = 0; i < n; ++i) x = layers_[std::size_t(i)]->hidden_probabilities(x);
  return x;
}

std::vector<std::vector<double>> DeepBeliefNetwork::pretrain(const Tensor& data,
                                                             const RBMTrainOptions& options) {
  std::vector<std::vector<double>> errors;
  Tensor x = data;
  for (int64_t i = 0; i < num_layers(); ++i) {
    RBMTrainOptions o = options;
    o.cd.seed = options.cd.seed + uint64_t(i);
    o.shuffle_seed = options.shuffle_seed + uint64_t(i);
    errors.push_back(train_rbm(*layers_[std::size_t(i)], x, o));
    if (i + 1 < num_layers()) {
      NoGradGuard no_grad;
      x = layers_[std::size_t(i)]->hidden_probabilities(x);
    }
  }
  return errors;
}

}  // namespace nabla::nn
