// Restricted Boltzmann machines and deep belief networks.
//
// An RBM is an energy model over visible units v (n_visible) and binary hidden units h
// (n_hidden), with weight W (n_hidden, n_visible), visible bias b and hidden bias c:
//   Bernoulli visibles (binary):           E(v, h) = -b.v - c.h - h.W v
//   Gaussian visibles (unit variance):     E(v, h) = |v - b|^2 / 2 - c.h - h.W v
// p(h_j = 1 | v) = sigmoid(c_j + W_j.v); p(v | h) is Bernoulli(sigmoid(b + W^T h)) or
// Normal(b + W^T h, I). Data for Gaussian visibles should be standardised per unit.
//
// Training. ContrastiveDivergence::compute_gradients(batch) writes the CD-k (or persistent
// CD) estimate of the negative log-likelihood's gradient into the parameters' .grad:
//   dW = (E_model[h v^T] - E_data[h v^T]) over the batch, with h given by p(h | v),
// and likewise for the biases. Any nabla optimizer then applies it (SGD with momentum and
// weight decay is the classic recipe). The same gradient is what autograd gives for
// mean(free_energy(v_data)) - mean(free_energy(v_model)) with v_model held constant, so
// `cd_loss` can also be fed to backward() (slower: it keeps a graph).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nabla/nn/module.h"
#include "nabla/random.h"

namespace nabla::nn {

enum class VisibleUnits { bernoulli, gaussian };

struct RBMOptions {
  VisibleUnits visible = VisibleUnits::bernoulli;
  double init_std = 0.01;  // weight ~ Normal(0, init_std); biases start at 0
};

class RBM : public Module {
 public:
  RBM(int64_t n_visible, int64_t n_hidden, RBMOptions options = {});

  // forward(v) = hidden_probabilities(v): the features an RBM passes to the next model.
  Tensor forward(const Tensor& v) override { return hidden_probabilities(v); }
  std::string describe() const override;

  // v is (N, n_visible) or (n_visible); h is (N, n_hidden) or (n_hidden). Floating dtypes;
  // ShapeError / DTypeError naming the RBM and the shape otherwise.
  Tensor hidden_probabilities(const Tensor& v) const;  // p(h = 1 | v)
  Tensor visible_mean(const Tensor& h) const;          // E[v | h]: probabilities or means
  Tensor sample_hidden(const Tensor& v, Generator* gen = nullptr) const;
  Tensor sample_visible(const Tensor& h, Generator* gen = nullptr) const;
  // One block-Gibbs step v -> h ~ p(h|v) -> v' ~ p(v|h); gibbs runs k of them.
  Tensor gibbs_step(const Tensor& v, Generator* gen = nullptr) const;
  Tensor gibbs(const Tensor& v, int64_t k, Generator* gen = nullptr) const;

  // F(v) = -log sum_h exp(-E(v, h)), one value per row: (N) or 0-d. Differentiable.
  Tensor free_energy(const Tensor& v) const;
  // Mean over all elements of (v - E[v | p(h|v)])^2: the mean-field reconstruction, 0-d.
  Tensor reconstruction_error(const Tensor& v) const;
  // scikit-learn's BernoulliRBM.score_samples: for each row, one visible unit i drawn at
  // random is flipped and n_visible * log sigmoid(F(v_flipped) - F(v)) is returned (N).
  // Bernoulli visibles only (ValueError otherwise).
  Tensor pseudo_log_likelihood(const Tensor& v, Generator* gen = nullptr) const;
  // The same summed over every unit instead of one random unit: the exact pseudo-likelihood.
  Tensor pseudo_log_likelihood_exact(const Tensor& v) const;

  // Exact log partition function by enumerating the 2^n_hidden hidden states (or, for
  // Bernoulli visibles, the 2^n_visible visible states when fewer): tiny models only
  // (ValueError beyond 2^20 states). Gaussian visibles integrate v analytically.
  double log_partition() const;
  // Exact log p(v) = -F(v) - log Z per row (N), float64.
  Tensor log_likelihood(const Tensor& v) const;

  int64_t n_visible() const { return nv_; }
  int64_t n_hidden() const { return nh_; }
  VisibleUnits visible_units() const { return o_.visible; }

  Tensor weight, visible_bias, hidden_bias;

 private:
  Tensor check_visible(const Tensor& v, const char* fn) const;
  Tensor check_hidden(const Tensor& h, const char* fn) const;
  int64_t nv_, nh_;
  RBMOptions o_;
};

// mean(F(v_data)) - mean(F(v_model)) with v_model detached: its gradient is the CD gradient.
Tensor cd_loss(const RBM& rbm, const Tensor& v_data, const Tensor& v_model);

struct CDOptions {
  int64_t k = 1;            // Gibbs steps per gradient
  bool persistent = false;  // PCD: negative chains carry over from batch to batch
  int64_t num_chains = 0;   // PCD chains; 0: the first batch's size
  uint64_t seed = 0;        // of the sampler's own Generator
};

// The statistics of one gradient computation.
struct CDStats {
  double reconstruction_error = 0;  // of the batch, as RBM::reconstruction_error
};

// Computes CD-k / PCD gradients into an RBM's parameters' .grad (the RBM must outlive this).
class ContrastiveDivergence {
 public:
  explicit ContrastiveDivergence(RBM& rbm, CDOptions options = {});
  // Sets weight.grad(), visible_bias.grad(), hidden_bias.grad() (replacing what was there).
  CDStats compute_gradients(const Tensor& batch);
  // The persistent chains' visible states (N, n_visible); undefined before the first PCD batch.
  const Tensor& chains() const { return chains_; }
  void reset_chains() { chains_ = Tensor(); }
  Generator& generator() { return gen_; }

 private:
  RBM& rbm_;
  CDOptions o_;
  Generator gen_;
  Tensor chains_;
};

struct RBMTrainOptions {
  int64_t epochs = 10;
  int64_t batch_size = 64;
  double lr = 0.05;
  double momentum = 0.5;
  double weight_decay = 1e-4;  // on the weight only, not the biases
  CDOptions cd = {};
  uint64_t shuffle_seed = 1;
  // Called after each epoch with (epoch, mean reconstruction error of the epoch's batches).
  std::function<void(int64_t, double)> on_epoch = nullptr;
};

// Trains `rbm` on the rows of `data` (N, n_visible) by CD/PCD and SGD with momentum; returns
// each epoch's mean batch reconstruction error.
std::vector<double> train_rbm(RBM& rbm, const Tensor& data, const RBMTrainOptions& options = {});

// RBMs stacked: layer i's hidden units are layer i+1's visible units. Pretrained greedily,
// layer by layer, each on the hidden probabilities of the one below.
class DeepBeliefNetwork : public Module {
 public:
  // sizes = {n_visible, n_hidden_1, ..., n_hidden_L}; `first` sets the bottom layer's
  // visible units (upper layers are Bernoulli-Bernoulli).
  explicit DeepBeliefNetwork(const std::vector<int64_t>& sizes, RBMOptions first = {});
  // The top layer's hidden probabilities.
  Tensor forward(const Tensor& v) override { return transform(v); }
  std::string describe() const override;
  // Hidden probabilities after `layers` layers (-1: all).
  Tensor transform(const Tensor& v, int64_t layers = -1) const;
  // Trains layer 0 on data, then layer 1 on layer 0's features, ...; returns each layer's
  // per-epoch reconstruction errors. on_epoch (if set) is called per layer's epoch.
  std::vector<std::vector<double>> pretrain(const Tensor& data,
                                            const RBMTrainOptions& options = {});
  int64_t num_layers() const { return int64_t(layers_.size()); }
  RBM& layer(int64_t i) const;

 private:
  std::vector<std::shared_ptr<RBM>> layers_;
};

}  // namespace nabla::nn
