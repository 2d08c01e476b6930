// nn::RBM: free energy and partition function against independent float64 computations,
// exact log-likelihood under CD training, Gibbs sampling against exact marginals, PCD chains,
// typed errors and state dicts.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/samples.h"

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

using nabla::testing::message_of;

// An RBM with weights large enough that the tests see structure, not a near-uniform model.
nn::RBM make_rbm(int64_t nv, int64_t nh, nn::VisibleUnits units, uint64_t seed,
                 double scale = 0.8) {
  nn::RBM rbm(nv, nh, {.visible = units});
  nb::Generator g(seed);
  nb::NoGradGuard no_grad;
  rbm.weight.copy_(nb::randn({nh, nv}, nb::float32, &g) * scale);
  rbm.visible_bias.copy_(nb::randn({nv}, nb::float32, &g) * 0.5);
  rbm.hidden_bias.copy_(nb::randn({nh}, nb::float32, &g) * 0.5);
  return rbm;
}

double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// F(v) with plain loops in double.
std::vector<double> reference_free_energy(const nn::RBM& rbm, const std::vector<double>& v,
                                          int64_t n) {
  auto W = rbm.weight.to_vector<double>(), b = rbm.visible_bias.to_vector<double>(),
       c = rbm.hidden_bias.to_vector<double>();
  const int64_t nv = rbm.n_visible(), nh = rbm.n_hidden();
  std::vector<double> out;
  for (int64_t r = 0; r < n; ++r) {
    double f = 0;
    for (int64_t i = 0; i < nv; ++i) {
      double x = v[std::size_t(r * nv + i)];
      f += rbm.visible_units() == nn::VisibleUnits::bernoulli
               ? -b[std::size_t(i)] * x
               : 0.5 * (x - b[std::size_t(i)]) * (x - b[std::size_t(i)]);
    }
    for (int64_t j = 0; j < nh; ++j) {
      double a = c[std::size_t(j)];
      for (int64_t i = 0; i < nv; ++i) a += W[std::size_t(j * nv + i)] * v[std::size_t(r * nv + i)];
      f -= softplus(a);
    }
    out.push_back(f);
  }
  return out;
}

// Every binary vector of length n as rows (2^n, n), float32.
nb::Tensor all_states(int64_t n) {
  std::vector<float> bits;
  for (int64_t s = 0; s < (int64_t(1) << n); ++s)
    for (int64_t i = 0; i < n; ++i) bits.push_back(float((s >> i) & 1));
  return nb::tensor(bits, {int64_t(1) << n, n});
}

int64_t state_index(const float* row, int64_t n) {
  int64_t s = 0;
  for (int64_t i = 0; i < n; ++i) s |= int64_t(row[i] > 0.5f) << i;
  return s;
}

double chi_square(const std::vector<double>& counts, const std::vector<double>& probs) {
  double total = 0, chi = 0;
  for (double c : counts) total += c;
  for (std::size_t s = 0; s < counts.size(); ++s) {
    double e = total * probs[s];
    chi += (counts[s] - e) * (counts[s] - e) / e;
  }
  return chi;
}

}  // namespace

TEST(RBM, FreeEnergyMatchesFloat64Loops) {
  for (auto units : {nn::VisibleUnits::bernoulli, nn::VisibleUnits::gaussian}) {
    nn::RBM rbm = make_rbm(7, 5, units, 3);
    nb::Generator g(11);
    nb::Tensor v = units == nn::VisibleUnits::bernoulli
                       ? nb::bernoulli(0.5, {9, 7}, nb::float32, &g)
                       : nb::randn({9, 7}, nb::float32, &g);
    auto got = rbm.free_energy(v).to_vector<double>();
    auto want = reference_free_energy(rbm, v.to_vector<double>(), 9);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-4 * (1 + std::fabs(want[i])));
    // A single row gives a 0-d result.
    EXPECT_EQ(rbm.free_energy(v.select(0, 2)).ndim(), 0);
    EXPECT_NEAR(rbm.free_energy(v.select(0, 2)).item<double>(), want[2],
                1e-4 * (1 + std::fabs(want[2])));
  }
}

TEST(RBM, BernoulliLikelihoodSumsToOneWhicheverSideIsEnumerated) {
  // nv > nh enumerates hidden states for Z; nv < nh enumerates visible states.
  for (auto [nv, nh] : {std::pair<int64_t, int64_t>{6, 3}, {3, 6}}) {
    nn::RBM rbm = make_rbm(nv, nh, nn::VisibleUnits::bernoulli, 5, 1.2);
    double total = nb::exp(rbm.log_likelihood(all_states(nv))).sum().item<double>();
    EXPECT_NEAR(total, 1.0, 1e-9) << nv << "x" << nh;
  }
}

TEST(RBM, GaussianPartitionMatchesQuadrature) {
  nn::RBM rbm = make_rbm(2, 3, nn::VisibleUnits::gaussian, 7, 0.6);
  // Z = sum_h int exp(-E(v, h)) dv on a grid over [-12, 12]^2, midpoint rule.
  auto W = rbm.weight.to_vector<double>(), b = rbm.visible_bias.to_vector<double>(),
       c = rbm.hidden_bias.to_vector<double>();
  const int n = 600;
  const double lo = -12, step = 24.0 / n;
  double z = 0;
  for (int h = 0; h < 8; ++h)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        double v[2] = {lo + (i + 0.5) * step, lo + (j + 0.5) * step};
        double e = 0;
        for (int k = 0; k < 2; ++k) e += 0.5 * (v[k] - b[k]) * (v[k] - b[k]);
        for (int m = 0; m < 3; ++m)
          if ((h >> m) & 1) e -= c[m] + W[m * 2] * v[0] + W[m * 2 + 1] * v[1];
        z += std::exp(-e) * step * step;
      }
  EXPECT_NEAR(rbm.log_partition(), std::log(z), 1e-6);
}

namespace {

// Three 8-bit prototypes with 5% bit noise, 120 rows.
nb::Tensor prototype_data() {
  const std::vector<std::vector<float>> protos = {
      {1, 1, 1, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 1, 1, 1}, {1, 0, 1, 0, 1, 0, 1, 0}};
  std::vector<float> rows;
  nb::Generator g(1);
  auto noise = nb::rand({120, 8}, nb::float32, &g).to_vector<float>();
  for (int r = 0; r < 120; ++r)
    for (int i = 0; i < 8; ++i) {
      float bit = protos[std::size_t(r % 3)][std::size_t(i)];
      rows.push_back(noise[std::size_t(r * 8 + i)] < 0.05f ? 1 - bit : bit);
    }
  return nb::tensor(rows, {120, 8});
}

}  // namespace

TEST(RBM, ExactLogLikelihoodRisesUnderCD1) {
  nb::manual_seed(0);
  nb::Tensor data = prototype_data();
  nn::RBM rbm(8, 6, {.init_std = 0.1});
  double before = rbm.log_likelihood(data).mean().item<double>();
  std::vector<double> lls{before};
  for (int round = 0; round < 4; ++round) {
    nn::train_rbm(rbm, data,
                  {.epochs = 25,
                   .batch_size = 10,
                   .lr = 0.1,
                   .momentum = 0.5,
                   .weight_decay = 0,
                   .cd = {.k = 1, .seed = uint64_t(round)},
                   .shuffle_seed = uint64_t(round)});
    lls.push_back(rbm.log_likelihood(data).mean().item<double>());
  }
  // Uniform model: 8 log(1/2) = -5.55; the three noisy prototypes are worth about -2.9.
  EXPECT_NEAR(before, 8 * std::log(0.5), 0.05);
  EXPECT_GT(lls.back(), before + 1.5) << "log-likelihood " << before << " -> " << lls.back();
  EXPECT_GT(lls[1], before);
}

TEST(RBM, ExactLogLikelihoodRisesUnderPersistentCD) {
  // ContrastiveDivergence with any optimizer: PCD's chains follow the model, so the learning
  // rate decays to let them keep up (a constant rate makes the likelihood oscillate).
  nb::manual_seed(0);
  nb::Tensor data = prototype_data();
  nn::RBM rbm(8, 6, {.init_std = 0.1});
  double before = rbm.log_likelihood(data).mean().item<double>();
  nn::ContrastiveDivergence cd(rbm, {.k = 1, .persistent = true, .num_chains = 20, .seed = 3});
  nb::optim::SGD opt(rbm.parameters(), {.lr = 0.1, .momentum = 0.5});
  const int epochs = 60;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    opt.set_lr(0.1 * (1.0 - double(epoch) / epochs) + 0.005);
    for (int64_t s = 0; s < 120; s += 10) {
      cd.compute_gradients(data.slice(0, s, s + 10));
      opt.step();
    }
  }
  EXPECT_EQ(cd.chains().shape(), (nb::Shape{20, 8}));
  double after = rbm.log_likelihood(data).mean().item<double>();
  EXPECT_GT(after, before + 1.5) << "log-likelihood " << before << " -> " << after;
}

TEST(RBM, GaussianVisibleTrainingLowersReconstructionError) {
  // Two clusters in 5-d standardised data; a Gaussian-Bernoulli RBM learns to reconstruct them.
  nb::manual_seed(2);
  nb::Generator g(6);
  nb::Tensor which = nb::bernoulli(0.5, {300, 1}, nb::float32, &g);
  nb::Tensor centre = nb::tensor(std::vector<float>{1.5f, -1.5f, 1.f, 0.f, -1.f}, {1, 5});
  nb::Tensor data = (2.0 * which - 1.0) * centre + 0.3 * nb::randn({300, 5}, nb::float32, &g);
  nn::RBM rbm(5, 8, {.visible = nn::VisibleUnits::gaussian});
  double before = rbm.reconstruction_error(data).item<double>();
  auto errors =
      nn::train_rbm(rbm, data, {.epochs = 30, .batch_size = 20, .lr = 0.01, .momentum = 0.5});
  double after = rbm.reconstruction_error(data).item<double>();
  EXPECT_LT(after, 0.5 * before) << before << " -> " << after;
  EXPECT_LT(errors.back(), errors.front());
}

TEST(RBM, GibbsSamplesMatchExactVisibleMarginals) {
  // 20000 independent chains, 40 steps each: the final states are independent draws from
  // (very nearly) the stationary distribution; chi-square against p(v) with 15 dof.
  nn::RBM rbm = make_rbm(4, 3, nn::VisibleUnits::bernoulli, 21, 1.0);
  auto probs = nb::exp(rbm.log_likelihood(all_states(4))).to_vector<double>();
  nb::Generator g(123);
  nb::Tensor v = nb::bernoulli(0.5, {20000, 4}, nb::float32, &g);
  v = rbm.gibbs(v, 40, &g).contiguous();
  std::vector<double> counts(16, 0);
  const float* p = v.data_ptr<float>();
  for (int64_t r = 0; r < 20000; ++r) counts[std::size_t(state_index(p + r * 4, 4))] += 1;
  // 37.7 is the 0.999 quantile of chi-square(15).
  EXPECT_LT(chi_square(counts, probs), 37.7);
  // A wrong model (the biases negated) must be rejected by the same statistic.
  nn::RBM other = make_rbm(4, 3, nn::VisibleUnits::bernoulli, 21, 1.0);
  {
    nb::NoGradGuard no_grad;
    other.visible_bias.copy_(-other.visible_bias);
  }
  auto wrong = nb::exp(other.log_likelihood(all_states(4))).to_vector<double>();
  EXPECT_GT(chi_square(counts, wrong), 100.0);
}

TEST(RBM, GaussianGibbsHiddenMarginalsMatchExact) {
  // For Gaussian visibles p(h) is proportional to exp(c.h + |b + W^T h|^2 / 2).
  nn::RBM rbm = make_rbm(3, 3, nn::VisibleUnits::gaussian, 9, 0.7);
  auto W = rbm.weight.to_vector<double>(), b = rbm.visible_bias.to_vector<double>(),
       c = rbm.hidden_bias.to_vector<double>();
  std::vector<double> probs(8);
  double z = 0;
  for (int h = 0; h < 8; ++h) {
    double e = 0, m2 = 0;
    for (int j = 0; j < 3; ++j)
      if ((h >> j) & 1) e += c[std::size_t(j)];
    for (int i = 0; i < 3; ++i) {
      double m = b[std::size_t(i)];
      for (int j = 0; j < 3; ++j)
        if ((h >> j) & 1) m += W[std::size_t(j * 3 + i)];
      m2 += m * m;
    }
    probs[std::size_t(h)] = std::exp(e + 0.5 * m2);
    z += probs[std::size_t(h)];
  }
  for (double& p : probs) p /= z;
  nb::Generator g(5);
  nb::Tensor v = rbm.gibbs(nb::randn({20000, 3}, nb::float32, &g), 40, &g);
  nb::Tensor h = rbm.sample_hidden(v, &g).contiguous();
  std::vector<double> counts(8, 0);
  for (int64_t r = 0; r < 20000; ++r)
    counts[std::size_t(state_index(h.data_ptr<float>() + r * 3, 3))] += 1;
  EXPECT_LT(chi_square(counts, probs), 24.3);  // 0.999 quantile of chi-square(7)
}

TEST(RBM, PseudoLikelihoodMatchesFlippedFreeEnergies) {
  nn::RBM rbm = make_rbm(6, 4, nn::VisibleUnits::bernoulli, 2);
  nb::Generator g(3);
  nb::Tensor v = nb::bernoulli(0.5, {5, 6}, nb::float32, &g);
  auto f = reference_free_energy(rbm, v.to_vector<double>(), 5);
  std::vector<double> want(5, 0);
  auto rows = v.to_vector<double>();
  for (int r = 0; r < 5; ++r)
    for (int i = 0; i < 6; ++i) {
      std::vector<double> flipped(rows.begin() + r * 6, rows.begin() + r * 6 + 6);
      flipped[std::size_t(i)] = 1 - flipped[std::size_t(i)];
      double d = reference_free_energy(rbm, flipped, 1)[0] - f[std::size_t(r)];
      want[std::size_t(r)] += -softplus(-d);  // log sigmoid(d)
    }
  auto exact = rbm.pseudo_log_likelihood_exact(v).to_vector<double>();
  for (int r = 0; r < 5; ++r) EXPECT_NEAR(exact[std::size_t(r)], want[std::size_t(r)], 1e-4);
  // The stochastic estimator (one random unit, scaled by n_visible) is unbiased.
  nb::Tensor many = v.select(0, 1).unsqueeze(0).expand({20000, 6}).contiguous();
  double mean = rbm.pseudo_log_likelihood(many, &g).mean().item<double>();
  EXPECT_NEAR(mean, want[1], 0.03 * std::fabs(want[1]) + 0.02);
  EXPECT_EQ(rbm.pseudo_log_likelihood(v, &g).shape(), nb::Shape{5});
}

TEST(RBM, PersistentChainsCarryOverBetweenBatches) {
  nn::RBM rbm = make_rbm(6, 4, nn::VisibleUnits::bernoulli, 8);
  nb::Generator data_gen(4);
  nb::Tensor batch1 = nb::bernoulli(0.5, {10, 6}, nb::float32, &data_gen);
  nb::Tensor batch2 = nb::bernoulli(0.5, {10, 6}, nb::float32, &data_gen);
  nn::ContrastiveDivergence cd(rbm, {.k = 1, .persistent = true, .num_chains = 7, .seed = 42});
  EXPECT_FALSE(cd.chains().defined());
  cd.compute_gradients(batch1);
  ASSERT_EQ(cd.chains().shape(), (nb::Shape{7, 6}));
  nb::Tensor after1 = cd.chains().clone();
  cd.compute_gradients(batch2);
  // The chains continue from where they were, whatever the second batch: replay them.
  nb::Generator replay(42);
  nb::Tensor c1 = rbm.sample_visible(rbm.sample_hidden(batch1.slice(0, 0, 7), &replay), &replay);
  nb::Tensor c2 = rbm.sample_visible(rbm.sample_hidden(c1, &replay), &replay);
  EXPECT_EQ(after1.to_vector<float>(), c1.to_vector<float>());
  EXPECT_EQ(cd.chains().to_vector<float>(), c2.to_vector<float>());
  // The gradient's negative phase is the chains': it equals autograd of the free-energy gap.
  nb::Tensor dW = rbm.weight.grad().clone(), db = rbm.visible_bias.grad().clone(),
             dc = rbm.hidden_bias.grad().clone();
  rbm.zero_grad();
  nn::cd_loss(rbm, batch2, cd.chains()).backward();
  auto near = [](const nb::Tensor& a, const nb::Tensor& b) {
    return nb::amax(nb::abs(a - b)).item<double>();
  };
  EXPECT_LT(near(dW, rbm.weight.grad()), 1e-5);
  EXPECT_LT(near(db, rbm.visible_bias.grad()), 1e-5);
  EXPECT_LT(near(dc, rbm.hidden_bias.grad()), 1e-5);
  cd.reset_chains();
  EXPECT_FALSE(cd.chains().defined());
}

TEST(RBM, ErrorsAreTypedAndNameTheModule) {
  nn::RBM rbm(6, 4);
  EXPECT_THROW(rbm.free_energy(nb::zeros({3, 5})), nb::ShapeError);
  EXPECT_NE(message_of([&] {
              rbm.free_energy(nb::zeros({3, 5}));
            }).find("[RBM.free_energy]"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              rbm.free_energy(nb::zeros({3, 5}));
            }).find("(3, 5)"),
            std::string::npos);
  EXPECT_THROW(rbm.hidden_probabilities(nb::zeros({2, 3, 6})), nb::ShapeError);
  EXPECT_THROW(rbm.hidden_probabilities(nb::zeros({3, 6}, nb::int64)), nb::DTypeError);
  EXPECT_NE(message_of([&] {
              rbm.sample_visible(nb::zeros({3, 6}));
            }).find("[RBM.sample_visible]"),
            std::string::npos);
  EXPECT_THROW(rbm.visible_mean(nb::zeros({3, 6})), nb::ShapeError);
  EXPECT_THROW(rbm.gibbs(nb::zeros({3, 6}), -1), nb::ValueError);
  EXPECT_THROW(nn::RBM(0, 3), nb::ValueError);
  EXPECT_THROW(nn::RBM(30, 30).log_partition(), nb::ValueError);
  nn::RBM gauss(6, 4, {.visible = nn::VisibleUnits::gaussian});
  EXPECT_THROW(gauss.pseudo_log_likelihood(nb::zeros({2, 6})), nb::ValueError);
  EXPECT_THROW(nn::ContrastiveDivergence(rbm, {.k = 0}), nb::ValueError);
  nn::ContrastiveDivergence cd(rbm);
  EXPECT_THROW(cd.compute_gradients(nb::zeros({4, 5})), nb::ShapeError);
  EXPECT_NE(message_of([&] {
              cd.compute_gradients(nb::zeros({4, 5}));
            }).find("RBM(visible=6"),
            std::string::npos);
  EXPECT_THROW(cd.compute_gradients(nb::zeros({4, 6}, nb::int32)), nb::DTypeError);
  EXPECT_THROW(nn::train_rbm(rbm, nb::zeros({4, 7})), nb::ShapeError);
  EXPECT_THROW(nn::train_rbm(rbm, nb::zeros({4, 6}), {.batch_size = 0}), nb::ValueError);
  nn::DeepBeliefNetwork dbn({6, 4, 3});
  EXPECT_THROW(dbn.layer(2), nb::IndexError);
  EXPECT_THROW(dbn.transform(nb::zeros({2, 6}), 3), nb::IndexError);
  EXPECT_THROW(nn::DeepBeliefNetwork({6}), nb::ValueError);
}

TEST(RBM, StateDictRoundTrip) {
  nn::RBM rbm = make_rbm(6, 4, nn::VisibleUnits::gaussian, 13);
  auto state = rbm.state_dict();
  EXPECT_EQ(state.size(), 3u);
  EXPECT_EQ(state.at("weight").shape(), (nb::Shape{4, 6}));
  auto path = (std::filesystem::temp_directory_path() / "nabla_rbm_test.safetensors").string();
  nb::save_safetensors(path, state);
  nn::RBM loaded(6, 4, {.visible = nn::VisibleUnits::gaussian});
  loaded.load_state_dict(nb::load_safetensors(path));
  std::filesystem::remove(path);
  nb::Tensor v = nb::randn({3, 6});
  EXPECT_EQ(loaded.free_energy(v).to_vector<float>(), rbm.free_energy(v).to_vector<float>());
  nn::RBM wrong(5, 4);
  EXPECT_THROW(wrong.load_state_dict(state), nb::Error);

  nn::DeepBeliefNetwork dbn({6, 4, 3});
  auto keys = dbn.state_dict();
  EXPECT_EQ(keys.count("0.weight") + keys.count("1.hidden_bias"), 2u);
}

TEST(DeepBeliefNetwork, GreedyPretrainingLowersEachLayersError) {
  nb::manual_seed(1);
  nb::Generator g(2);
  // Two prototype 12-bit patterns with noise.
  nb::Tensor which = nb::bernoulli(0.5, {200, 1}, nb::float32, &g);
  nb::Tensor a = nb::tensor(std::vector<float>{1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, {1, 12});
  nb::Tensor clean = which * a + (1.0 - which) * (1.0 - a);
  nb::Tensor flip = nb::bernoulli(0.05, {200, 12}, nb::float32, &g);
  nb::Tensor data = clean + flip * (1.0 - 2.0 * clean);
  nn::DeepBeliefNetwork dbn({12, 8, 4});
  auto errors = dbn.pretrain(data, {.epochs = 15, .batch_size = 20, .lr = 0.1});
  ASSERT_EQ(errors.size(), 2u);
  for (const auto& e : errors) {
    ASSERT_EQ(e.size(), 15u);
    EXPECT_LT(e.back(), 0.7 * e.front());
  }
  nb::Tensor top = dbn.transform(data);
  EXPECT_EQ(top.shape(), (nb::Shape{200, 4}));
  EXPECT_EQ(dbn.transform(data, 1).shape(), (nb::Shape{200, 8}));
  // The top features separate the two prototypes.
  nb::Tensor m1 = nb::sum(top * which, {0}) / nb::sum(which),
             m0 = nb::sum(top * (1.0 - which), {0}) / nb::sum(1.0 - which);
  EXPECT_GT(nb::amax(nb::abs(m1 - m0)).item<double>(), 0.3);
}
