#include <gtest/gtest.h>
#include <nabla/nabla.h>
#include <nabla/nn/sampling.h>

#include <cmath>
#include <vector>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

const std::vector<double> kLogits = {1.5, -0.5, 0.2, 2.0, 0.0, -1.2};

// Draws n samples from (n, V) copies of kLogits and returns the count of each index.
std::vector<double> counts(const nn::SamplingOptions& o, int64_t n, uint64_t seed) {
  nb::Tensor row = nb::tensor(kLogits, {1, int64_t(kLogits.size())});
  nb::Tensor logits = row.broadcast_to({n, int64_t(kLogits.size())});
  nb::Generator gen(seed);
  std::vector<int64_t> picks = nn::sample_logits(logits, o, &gen).to_vector<int64_t>();
  std::vector<double> c(kLogits.size(), 0);
  for (int64_t p : picks) c[size_t(p)] += 1;
  return c;
}

// softmax(kLogits / t) restricted to the indices in `keep`.
std::vector<double> expected(double t, const std::vector<int>& keep) {
  std::vector<double> p(kLogits.size(), 0);
  double total = 0;
  for (int i : keep) total += p[size_t(i)] = std::exp(kLogits[size_t(i)] / t);
  for (double& v : p) v /= total;
  return p;
}

double chi_square(const std::vector<double>& observed, const std::vector<double>& p) {
  double n = 0, chi = 0;
  for (double o : observed) n += o;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) continue;
    double e = n * p[i];
    chi += (observed[i] - e) * (observed[i] - e) / e;
  }
  return chi;
}

constexpr double kChi5At0001 = 20.52;  // chi-square, 5 degrees of freedom, p = 0.001
constexpr double kChi2At0001 = 13.82;  // 2 degrees of freedom

}  // namespace

TEST(Sampling, TemperatureMatchesSoftmaxOfScaledLogits) {
  for (double t : {0.5, 1.0, 2.0}) {
    std::vector<double> c = counts({.temperature = t}, 40000, 7);
    std::vector<double> p = expected(t, {0, 1, 2, 3, 4, 5});
    EXPECT_LT(chi_square(c, p), kChi5At0001) << "temperature " << t;
    // The same counts are far from the distribution of another temperature: the test can fail.
    EXPECT_GT(chi_square(c, expected(t * 2, {0, 1, 2, 3, 4, 5})), 10 * kChi5At0001);
  }
}

TEST(Sampling, TopKRenormalisesOverTheKLargest) {
  std::vector<double> c = counts({.temperature = 1.0, .top_k = 3}, 30000, 11);
  // The three largest logits are indices 3 (2.0), 0 (1.5) and 2 (0.2).
  EXPECT_EQ(c[1] + c[4] + c[5], 0);
  EXPECT_LT(chi_square(c, expected(1.0, {0, 2, 3})), kChi2At0001);
}

TEST(Sampling, TopKNeverPicksOutsideTheTopK) {
  nb::Generator gen(3);
  nb::Tensor logits = nb::randn({200, 50}, nb::float32, &gen);
  for (int64_t k : {1, 2, 5, 49}) {
    std::vector<int64_t> picks =
        nn::sample_logits(logits, {.temperature = 5.0, .top_k = k}, &gen).to_vector<int64_t>();
    nb::Tensor top = nb::topk(logits, k, -1).indices;
    std::vector<int64_t> allowed = top.to_vector<int64_t>();
    for (int64_t i = 0; i < 200; ++i) {
      bool inside = false;
      for (int64_t j = 0; j < k; ++j) inside |= allowed[size_t(i * k + j)] == picks[size_t(i)];
      EXPECT_TRUE(inside) << "row " << i << " k " << k;
    }
  }
  // top_k = 1 is greedy whatever the temperature.
  nb::Tensor one = nn::sample_logits(logits, {.temperature = 100.0, .top_k = 1}, &gen);
  EXPECT_EQ(one.to_vector<int64_t>(), nn::greedy_sample(logits).to_vector<int64_t>());
}

TEST(Sampling, GreedyIsArgmaxAlongTheLastAxis) {
  nb::Generator gen(5);
  nb::Tensor logits = nb::randn({3, 4, 17}, nb::float64, &gen);
  nb::Tensor g = nn::greedy_sample(logits);
  EXPECT_EQ(g.shape(), (nb::Shape{3, 4}));
  EXPECT_EQ(g.dtype(), nb::int64);
  EXPECT_EQ(g.to_vector<int64_t>(), nb::argmax(logits, -1).to_vector<int64_t>());
  nb::Tensor v = nn::greedy_sample(nb::tensor(std::vector<float>{0.1f, 3.f, 3.f, -2.f}));
  EXPECT_EQ(v.shape(), nb::Shape{});
  EXPECT_EQ(v.item<int64_t>(), 1);  // the first of tied maxima
}

TEST(Sampling, SameSeedSameDrawsAndShapes) {
  nb::Tensor logits = nb::randn({4, 2, 9});
  nb::Generator a(99), b(99);
  nb::Tensor x = nn::sample_logits(logits, {.temperature = 0.7}, &a);
  nb::Tensor y = nn::sample_logits(logits, {.temperature = 0.7}, &b);
  EXPECT_EQ(x.shape(), (nb::Shape{4, 2}));
  EXPECT_EQ(x.to_vector<int64_t>(), y.to_vector<int64_t>());
  EXPECT_EQ(a.offset(), b.offset());
  EXPECT_GT(a.offset(), 0u);  // the generator advanced
}

TEST(Sampling, NegativeInfinityLogitsAreNeverPicked) {
  std::vector<float> l = {-INFINITY, 0.f, -INFINITY, 1.f};
  nb::Tensor logits = nb::tensor(l, {1, 4});
  nb::Generator gen(1);
  for (int i = 0; i < 50; ++i) {
    int64_t p = nn::sample_logits(logits, {}, &gen).to_vector<int64_t>()[0];
    EXPECT_TRUE(p == 1 || p == 3);
  }
}

TEST(Sampling, BadInputThrowsTypedErrors) {
  nb::Tensor logits = nb::randn({2, 5});
  EXPECT_THROW(nn::sample_logits(logits, {.temperature = 0}), nb::ValueError);
  EXPECT_THROW(nn::sample_logits(logits, {.temperature = -1}), nb::ValueError);
  EXPECT_THROW(nn::sample_logits(logits, {.temperature = NAN}), nb::ValueError);
  EXPECT_THROW(nn::sample_logits(logits, {.temperature = INFINITY}), nb::ValueError);
  EXPECT_THROW(nn::sample_logits(logits, {.top_k = -2}), nb::ValueError);
  EXPECT_THROW(nn::sample_logits(nb::ones({}, nb::float32)), nb::ShapeError);
  EXPECT_THROW(nn::greedy_sample(nb::ones({}, nb::float32)), nb::ShapeError);
  EXPECT_THROW(nn::sample_logits(nb::ones({3, 0})), nb::ShapeError);
  EXPECT_THROW(nn::greedy_sample(nb::ones({3, 0})), nb::ShapeError);
  EXPECT_THROW(nn::sample_logits(nb::ones({3}, nb::int64)), nb::DTypeError);
  EXPECT_THROW(nn::greedy_sample(nb::ones({3}, nb::int32)), nb::DTypeError);
  EXPECT_THROW(nn::greedy_sample(nb::Tensor()), nb::ValueError);
  nb::Tensor with_nan = nb::tensor(std::vector<float>{0.f, NAN, 1.f});
  EXPECT_THROW(nn::sample_logits(with_nan), nb::ValueError);
  EXPECT_THROW(nn::greedy_sample(with_nan), nb::ValueError);
  nb::Tensor all_masked = nb::full({1, 3}, -INFINITY);
  EXPECT_THROW(nn::sample_logits(all_masked), nb::ValueError);
  try {
    nn::sample_logits(logits, {.temperature = 0});
  } catch (const nb::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("[sample_logits]"), std::string::npos);
  }
}

TEST(Sampling, TopKAboveVocabularyKeepsAll) {
  std::vector<double> all = counts({.temperature = 1.0, .top_k = 100}, 20000, 13);
  EXPECT_LT(chi_square(all, expected(1.0, {0, 1, 2, 3, 4, 5})), kChi5At0001);
}
