// nn::RBM: conditionals, sampling, free energy and the likelihood estimates.
#include "nabla/nn/rbm.h"

#include <cmath>
#include <limits>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/join.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/unary.h"

namespace nabla::nn {

namespace {

constexpr int kMaxEnumeratedBits = 20;

bool bernoulli_visible(VisibleUnits u) { return u == VisibleUnits::bernoulli; }

// F(v) for parameters W (nh, nv), b (nv), c (nh) and rows v (N, nv) of the same dtype.
Tensor free_energy_of(const Tensor& W, const Tensor& b, const Tensor& c, const Tensor& v,
                      VisibleUnits units) {
  Tensor hidden_term = sum(softplus(matmul(v, W.t()) + c), {-1});
  Tensor visible_term =
      bernoulli_visible(units) ? -sum(v * b, {-1}) : 0.5 * sum(square(v - b), {-1});
  return visible_term - hidden_term;
}

// All 2^n binary vectors of length n from `first` to `first + count`, float64 (count, n).
Tensor binary_states(int64_t n, int64_t first, int64_t count) {
  std::vector<double> bits(std::size_t(count * n));
  for (int64_t s = 0; s < count; ++s)
    for (int64_t i = 0; i < n; ++i) bits[std::size_t(s * n + i)] = double(((first + s) >> i) & 1);
  return tensor(bits, {count, n});
}

// log sum over all 2^n binary rows x of f(x), in chunks; f returns (rows) float64 log terms.
double log_sum_over_states(int64_t n, const std::function<Tensor(const Tensor&)>& f) {
  const int64_t total = int64_t(1) << n, chunk = std::min<int64_t>(total, int64_t(1) << 14);
  std::vector<double> parts;
  for (int64_t first = 0; first < total; first += chunk)
    parts.push_back(logsumexp(f(binary_states(n, first, chunk)), {0}).item<double>());
  return logsumexp(tensor(parts), {0}).item<double>();
}

}  // namespace

RBM::RBM(int64_t n_visible, int64_t n_hidden, RBMOptions options)
    : nv_(n_visible), nh_(n_hidden), o_(options) {
  if (n_visible <= 0 || n_hidden <= 0)
    throw ValueError("[RBM] n_visible and n_hidden must be positive, got " +
                     std::to_string(n_visible) + " and " + std::to_string(n_hidden));
  if (!(options.init_std >= 0))
    throw ValueError("[RBM] init_std must be >= 0, got " + std::to_string(options.init_std));
  weight = register_parameter("weight", normal(0.0, options.init_std, {n_hidden, n_visible}));
  visible_bias = register_parameter("visible_bias", zeros({n_visible}));
  hidden_bias = register_parameter("hidden_bias", zeros({n_hidden}));
}

std::string RBM::describe() const {
  return std::string("RBM(visible=") + std::to_string(nv_) +
         (bernoulli_visible(o_.visible) ? " bernoulli" : " gaussian") +
         ", hidden=" + std::to_string(nh_) + ")";
}

Tensor RBM::check_visible(const Tensor& v, const char* fn) const {
  if (!v.defined()) throw ValueError(std::string("[RBM.") + fn + "] got an undefined tensor");
  if (v.ndim() < 1 || v.ndim() > 2 || v.size(-1) != nv_)
    throw ShapeError(std::string("[RBM.") + fn + "] expects visible units (N, " +
                     std::to_string(nv_) + ") or (" + std::to_string(nv_) + "), got " +
                     shape_str(v.shape()));
  if (!is_floating(v.dtype()))
    throw DTypeError(std::string("[RBM.") + fn + "] expects floating visible units, got " +
                     std::string(dtype_name(v.dtype())));
  return v;
}

Tensor RBM::check_hidden(const Tensor& h, const char* fn) const {
  if (!h.defined()) throw ValueError(std::string("[RBM.") + fn + "] got an undefined tensor");
  if (h.ndim() < 1 || h.ndim() > 2 || h.size(-1) != nh_)
    throw ShapeError(std::string("[RBM.") + fn + "] expects hidden units (N, " +
                     std::to_string(nh_) + ") or (" + std::to_string(nh_) + "), got " +
                     shape_str(h.shape()));
  if (!is_floating(h.dtype()))
    throw DTypeError(std::string("[RBM.") + fn + "] expects floating hidden units, got " +
                     std::string(dtype_name(h.dtype())));
  return h;
}

Tensor RBM::hidden_probabilities(const Tensor& v) const {
  check_visible(v, "hidden_probabilities");
  return sigmoid(matmul(v, weight.t()) + hidden_bias);
}

Tensor RBM::visible_mean(const Tensor& h) const {
  check_hidden(h, "visible_mean");
  Tensor pre = matmul(h, weight) + visible_bias;
  return bernoulli_visible(o_.visible) ? sigmoid(pre) : pre;
}

Tensor RBM::sample_hidden(const Tensor& v, Generator* gen) const {
  check_visible(v, "sample_hidden");
  return bernoulli(hidden_probabilities(v), gen);
}

Tensor RBM::sample_visible(const Tensor& h, Generator* gen) const {
  check_hidden(h, "sample_visible");
  Tensor mean = visible_mean(h);
  return bernoulli_visible(o_.visible) ? bernoulli(mean, gen) : mean + randn_like(mean, gen);
}

Tensor RBM::gibbs_step(const Tensor& v, Generator* gen) const {
  check_visible(v, "gibbs_step");
  return sample_visible(sample_hidden(v, gen), gen);
}

Tensor RBM::gibbs(const Tensor& v, int64_t k, Generator* gen) const {
  check_visible(v, "gibbs");
  if (k < 0) throw ValueError("[RBM.gibbs] k must be >= 0, got " + std::to_string(k));
  Tensor x = v;
  for (int64_t i = 0; i < k; ++i) x = gibbs_step(x, gen);
  return x;
}

Tensor RBM::free_energy(const Tensor& v) const {
  check_visible(v, "free_energy");
  return free_energy_of(weight, visible_bias, hidden_bias, v, o_.visible);
}

Tensor RBM::reconstruction_error(const Tensor& v) const {
  check_visible(v, "reconstruction_error");
  return mean(square(v - visible_mean(hidden_probabilities(v))));
}

Tensor RBM::pseudo_log_likelihood(const Tensor& v, Generator* gen) const {
  check_visible(v, "pseudo_log_likelihood");
  if (!bernoulli_visible(o_.visible))
    throw ValueError("[RBM.pseudo_log_likelihood] is defined for Bernoulli visible units only");
  Tensor rows = v.ndim() == 1 ? v.unsqueeze(0) : v;
  Tensor unit = one_hot(randint(0, nv_, {rows.size(0)}, int64, gen), nv_).astype(rows.dtype());
  Tensor flipped = rows + unit * (1.0 - 2.0 * rows);
  Tensor pl = -double(nv_) * softplus(free_energy(rows) - free_energy(flipped));
  return v.ndim() == 1 ? pl.squeeze(0) : pl;
}

Tensor RBM::pseudo_log_likelihood_exact(const Tensor& v) const {
  check_visible(v, "pseudo_log_likelihood_exact");
  if (!bernoulli_visible(o_.visible))
    throw ValueError(
        "[RBM.pseudo_log_likelihood_exact] is defined for Bernoulli visible units only");
  Tensor rows = v.ndim() == 1 ? v.unsqueeze(0) : v;
  // Flipping unit i moves the hidden pre-activations by d_i W[:, i] with d_i = 1 - 2 v_i:
  // F(v^i) - F(v) = -b_i d_i - sum_j [softplus(a_j + d_i W_ji) - softplus(a_j)], for all i at once,
  // over chunks of rows so that (rows, nv, nh) stays small.
  const int64_t n = rows.size(0),
                per_chunk = std::max<int64_t>(1, (int64_t(1) << 22) / (nv_ * nh_));
  std::vector<Tensor> parts;
  for (int64_t s = 0; s < n; s += per_chunk) {
    Tensor x = rows.slice(0, s, std::min(n, s + per_chunk));
    Tensor a = matmul(x, weight.t()) + hidden_bias;                            // (r, nh)
    Tensor d = 1.0 - 2.0 * x;                                                  // (r, nv)
    Tensor moved = a.unsqueeze(1) + d.unsqueeze(2) * weight.t().unsqueeze(0);  // (r, nv, nh)
    Tensor delta =
        -(d * visible_bias) - sum(softplus(moved) - softplus(a).unsqueeze(1), {-1});  // (r, nv)
    parts.push_back(sum(-softplus(-delta), {-1}));
  }
  Tensor pl = parts.size() == 1 ? parts[0] : concat(parts, 0);
  return v.ndim() == 1 ? pl.squeeze(0) : pl;
}

double RBM::log_partition() const {
  NoGradGuard no_grad;
  const bool enumerate_visible = bernoulli_visible(o_.visible) && nv_ < nh_;
  const int64_t bits = enumerate_visible ? nv_ : nh_;
  if (bits > kMaxEnumeratedBits)
    throw ValueError("[RBM.log_partition] enumerates 2^" + std::to_string(bits) +
                     " states; at most 2^" + std::to_string(kMaxEnumeratedBits) + " are allowed (" +
                     describe() + ")");
  Tensor W = weight.astype(float64), b = visible_bias.astype(float64),
         c = hidden_bias.astype(float64);
  if (enumerate_visible)
    return log_sum_over_states(
        nv_, [&](const Tensor& v) { return -free_energy_of(W, b, c, v, o_.visible); });
  // Summing v out of exp(-E(v, h)) leaves, per hidden state h (with m = b + W^T h):
  //   Bernoulli: c.h + sum_i softplus(m_i);   Gaussian: c.h + |m|^2/2 - |b|^2/2 + (nv/2) log 2 pi.
  double gauss_const = 0;
  if (!bernoulli_visible(o_.visible))
    gauss_const = -0.5 * sum(square(b)).item<double>() + 0.5 * double(nv_) * std::log(2 * M_PI);
  return gauss_const + log_sum_over_states(nh_, [&](const Tensor& h) {
           Tensor m = matmul(h, W) + b;
           Tensor visible =
               bernoulli_visible(o_.visible) ? sum(softplus(m), {-1}) : 0.5 * sum(square(m), {-1});
           return matmul(h, c.unsqueeze(1)).squeeze(1) + visible;
         });
}

Tensor RBM::log_likelihood(const Tensor& v) const {
  check_visible(v, "log_likelihood");
  NoGradGuard no_grad;
  Tensor W = weight.astype(float64), b = visible_bias.astype(float64),
         c = hidden_bias.astype(float64);
  return -free_energy_of(W, b, c, v.astype(float64), o_.visible) - log_partition();
}

Tensor cd_loss(const RBM& rbm, const Tensor& v_data, const Tensor& v_model) {
  return mean(rbm.free_energy(v_data)) - mean(rbm.free_energy(v_model.detach()));
}

}  // namespace nabla::nn
