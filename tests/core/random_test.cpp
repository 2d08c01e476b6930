// Random ops: the Philox generator against its published answers, the moments of each
// distribution, reproducibility (seeds, offsets, thread counts) and bad input.
#include <gtest/gtest.h>
#include <nabla/nabla.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/philox.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nb = nabla;

namespace {

struct Moments {
  double mean = 0, var = 0, skew = 0, kurt = 0, min = INFINITY, max = -INFINITY;
};

Moments moments(const nb::Tensor& t) {
  std::vector<double> v = t.to_vector<double>();
  Moments m;
  for (double x : v) {
    m.mean += x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  m.mean /= double(v.size());
  double m3 = 0, m4 = 0;
  for (double x : v) {
    double d = x - m.mean;
    m.var += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  double n = double(v.size());
  m.var /= n;
  m.skew = m3 / n / std::pow(m.var, 1.5);
  m.kurt = m4 / n / (m.var * m.var);
  return m;
}

// Runs fn with a given OpenMP thread count, then restores the previous one.
template <class F>
nb::Tensor with_threads(int n, F fn) {
  int keep = omp_get_max_threads();
  omp_set_num_threads(n);
  nb::Tensor t = fn();
  omp_set_num_threads(keep);
  return t;
}

template <class T>
bool equal(const nb::Tensor& a, const nb::Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector<T>() == b.to_vector<T>();
}

}  // namespace

// Known-answer vectors of Random123 (kat_vectors, philox4x32 10).
TEST(Philox, KnownAnswers) {
  using nb::philox::philox4x32_10;
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (nb::philox::Block{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}),
            (nb::philox::Block{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(
      philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      (nb::philox::Block{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, TilesMatchSingleBlocks) {
  uint32_t w[4][16];
  uint64_t seed = 0x123456789abcdefull, first = (uint64_t(1) << 32) - 5;  // crosses a carry
  nb::philox::blocks<16>(seed, first, w);
  for (int j = 0; j < 16; ++j) {
    nb::philox::Block b = nb::philox::block(seed, first + uint64_t(j));
    for (int l = 0; l < 4; ++l) EXPECT_EQ(w[l][j], b[std::size_t(l)]) << j << " " << l;
  }
}

TEST(Random, UniformMoments) {
  nb::Generator g(1);
  for (nb::DType t : {nb::float32, nb::float64}) {
    Moments m = moments(nb::rand({1000, 1000}, t, &g));
    EXPECT_NEAR(m.mean, 0.5, 2e-3);
    EXPECT_NEAR(m.var, 1.0 / 12, 1e-3);
    EXPECT_GE(m.min, 0.0);
    EXPECT_LT(m.max, 1.0);
    EXPECT_LT(m.min, 1e-4);
    EXPECT_GT(m.max, 1 - 1e-4);
  }
  Moments u = moments(nb::uniform(-2, 5, {1000000}, nb::float32, &g));
  EXPECT_NEAR(u.mean, 1.5, 0.015);
  EXPECT_NEAR(u.var, 49.0 / 12, 0.02);
  EXPECT_GE(u.min, -2.0);
  EXPECT_LT(u.max, 5.0);
  for (nb::DType t : {nb::float16, nb::bfloat16}) {
    nb::Tensor r = nb::rand({200000}, t, &g);
    EXPECT_EQ(r.dtype(), t);
    Moments m = moments(r);
    EXPECT_NEAR(m.mean, 0.5, 5e-3);
    EXPECT_GE(m.min, 0.0);
    EXPECT_LT(m.max, 1.0);
  }
}

TEST(Random, NormalMoments) {
  nb::Generator g(2);
  for (nb::DType t : {nb::float32, nb::float64}) {
    Moments m = moments(nb::randn({1000000}, t, &g));
    EXPECT_NEAR(m.mean, 0.0, 5e-3);
    EXPECT_NEAR(m.var, 1.0, 1e-2);
    EXPECT_NEAR(m.skew, 0.0, 2e-2);
    EXPECT_NEAR(m.kurt, 3.0, 5e-2);
    EXPECT_LT(m.min, -4.0);  // the tails are there
    EXPECT_GT(m.max, 4.0);
  }
  Moments n = moments(nb::normal(3, 2, {1000, 1000}, nb::float32, &g));
  EXPECT_NEAR(n.mean, 3.0, 1e-2);
  EXPECT_NEAR(std::sqrt(n.var), 2.0, 1e-2);
  for (nb::DType t : {nb::float16, nb::bfloat16}) {
    Moments m = moments(nb::randn({200000}, t, &g));
    EXPECT_NEAR(m.mean, 0.0, 1e-2);
    EXPECT_NEAR(m.var, 1.0, 3e-2);
  }
  EXPECT_EQ(nb::normal(1, 0, {5}, nb::float64, &g).to_vector<double>(),
            std::vector<double>(5, 1.0));
}

TEST(Random, BernoulliMean) {
  nb::Generator g(3);
  nb::Tensor b = nb::bernoulli(0.3, {1000000}, nb::float32, &g);
  std::vector<float> v = b.to_vector<float>();
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](float x) { return x == 0 || x == 1; }));
  EXPECT_NEAR(moments(b).mean, 0.3, 3e-3);
  // Per-element probabilities: half the elements at 0.9, half at 0.1.
  nb::Tensor p = nb::full({500000, 2}, 0.1, nb::float64);
  p.select(1, 0).fill_(0.9);
  nb::Tensor bp = nb::bernoulli(p, &g);
  EXPECT_EQ(bp.dtype(), nb::float64);
  EXPECT_NEAR(moments(bp.select(1, 0)).mean, 0.9, 3e-3);
  EXPECT_NEAR(moments(bp.select(1, 1)).mean, 0.1, 3e-3);
  EXPECT_EQ(nb::bernoulli(nb::zeros({1000}), &g).sum().item<float>(), 0.0f);
  EXPECT_EQ(nb::bernoulli(nb::ones({1000}), &g).sum().item<float>(), 1000.0f);
  nb::Tensor mask = nb::bernoulli(0.5, {64}, nb::bool_, &g);
  EXPECT_EQ(mask.dtype(), nb::bool_);
  // Non-contiguous probabilities are read in logical order.
  nb::Tensor pt = nb::full({3, 2}, 1.0).t();
  pt.select(0, 0).fill_(0.0);
  EXPECT_EQ(nb::bernoulli(pt, &g).to_vector<float>(), (std::vector<float>{0, 0, 0, 1, 1, 1}));
}

TEST(Random, RandintRange) {
  nb::Generator g(4);
  nb::Tensor r = nb::randint(-5, 7, {120000}, nb::int64, &g);
  EXPECT_EQ(r.dtype(), nb::int64);
  std::vector<int64_t> v = r.to_vector<int64_t>();
  std::set<int64_t> seen(v.begin(), v.end());
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_EQ(*seen.begin(), -5);
  EXPECT_EQ(*seen.rbegin(), 6);
  EXPECT_NEAR(moments(r).mean, 0.5, 0.05);
  // A range above 2^32 draws 64 bits per element.
  int64_t big = int64_t(1) << 40;
  Moments b = moments(nb::randint(0, big, {200000}, nb::int64, &g));
  EXPECT_GE(b.min, 0.0);
  EXPECT_LT(b.max, double(big));
  EXPECT_NEAR(b.mean / double(big), 0.5, 5e-3);
  Moments full = moments(nb::randint(INT64_MIN, INT64_MAX, {100000}, nb::int64, &g));
  EXPECT_LT(full.min, -8e18);
  EXPECT_GT(full.max, 8e18);
  for (nb::DType t : {nb::uint8, nb::int8, nb::int32, nb::float32, nb::float16}) {
    nb::Tensor x = nb::randint(0, 100, {1000}, t, &g);
    EXPECT_EQ(x.dtype(), t);
    Moments m = moments(x);
    EXPECT_GE(m.min, 0.0);
    EXPECT_LE(m.max, 99.0);
  }
  Moments s8 = moments(nb::randint(-128, 128, {10000}, nb::int8, &g));
  EXPECT_EQ(s8.min, -128.0);
  EXPECT_EQ(s8.max, 127.0);
}

TEST(Random, PermutationIsValid) {
  nb::Generator g(5);
  for (int64_t n : {0, 1, 2, 7, 100, 100001}) {
    nb::Tensor p = nb::permutation(n, nb::int64, &g);
    EXPECT_EQ(p.shape(), nb::Shape{n});
    std::vector<int64_t> v = p.to_vector<int64_t>();
    std::sort(v.begin(), v.end());
    EXPECT_EQ(v, nb::arange(n).to_vector<int64_t>());
  }
  nb::Tensor a = nb::permutation(1000, nb::int32, &g);
  EXPECT_EQ(a.dtype(), nb::int32);
  EXPECT_NE(a.to_vector<int32_t>(), nb::arange(1000, nb::int32).to_vector<int32_t>());
  // Each position takes each value about equally often.
  std::vector<int> first(4, 0);
  for (int i = 0; i < 4000; ++i)
    ++first[std::size_t(nb::permutation(4, nb::int64, &g).to_vector<int64_t>()[0])];
  for (int c : first) EXPECT_NEAR(c, 1000, 150);
}

TEST(Random, SameSeedSameValues) {
  nb::Generator a(42), b(42);
  EXPECT_TRUE(equal<float>(nb::randn({1000}, nb::float32, &a), nb::randn({1000}, nb::float32, &b)));
  EXPECT_TRUE(
      equal<int64_t>(nb::permutation(50, nb::int64, &a), nb::permutation(50, nb::int64, &b)));
  EXPECT_EQ(a.state(), b.state());
  nb::manual_seed(7);
  nb::Tensor x = nb::rand({100});
  nb::Tensor y = nb::randint(0, 10, {8}, nb::int64);
  nb::manual_seed(7);
  EXPECT_TRUE(equal<float>(nb::rand({100}), x));
  EXPECT_TRUE(equal<int64_t>(nb::randint(0, 10, {8}, nb::int64), y));
  EXPECT_EQ(nb::default_generator().seed(), 7u);
  // A copied generator continues the same stream.
  nb::Generator c = a;
  EXPECT_TRUE(equal<double>(nb::rand({9}, nb::float64, &a), nb::rand({9}, nb::float64, &c)));
}

TEST(Random, SeedsAndOffsetsGiveDifferentStreams) {
  nb::Generator a(1), b(2);
  std::vector<float> x = nb::rand({1000}, nb::float32, &a).to_vector<float>();
  std::vector<float> y = nb::rand({1000}, nb::float32, &b).to_vector<float>();
  std::vector<float> z = nb::rand({1000}, nb::float32, &a).to_vector<float>();
  int same_xy = 0, same_xz = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    same_xy += x[i] == y[i];
    same_xz += x[i] == z[i];
  }
  EXPECT_LT(same_xy, 5);
  EXPECT_LT(same_xz, 5);
}

TEST(Random, CountersFollowTheDocumentedLayout) {
  nb::Generator g(9);
  nb::rand({10}, nb::float32, &g);  // 3 counters
  EXPECT_EQ(g.offset(), 3u);
  nb::rand({10}, nb::float64, &g);  // 5 counters
  EXPECT_EQ(g.offset(), 8u);
  nb::randint(0, int64_t(1) << 33, {3}, nb::int64, &g);  // 64-bit draws: 2 counters
  EXPECT_EQ(g.offset(), 10u);
  nb::permutation(5, nb::int64, &g);  // 3 counters
  EXPECT_EQ(g.offset(), 13u);
  // Two draws of 8 read the same counters as one draw of 16.
  nb::Generator h(11), k(11);
  std::vector<float> first = nb::rand({8}, nb::float32, &h).to_vector<float>();
  std::vector<float> second = nb::rand({8}, nb::float32, &h).to_vector<float>();
  first.insert(first.end(), second.begin(), second.end());
  EXPECT_EQ(first, nb::rand({16}, nb::float32, &k).to_vector<float>());
  // Element i is word i % 4 of counter offset + i / 4.
  nb::Generator m(0xdeadbeefcafeull);
  m.set_state({0xdeadbeefcafeull, 1000});
  std::vector<float> v = nb::rand({9}, nb::float32, &m).to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    uint32_t w = nb::philox::block(0xdeadbeefcafeull, 1000 + i / 4)[i % 4];
    EXPECT_EQ(v[i], float(w >> 8) * 0x1p-24f) << i;
  }
}

TEST(Random, OpsCarryTheirStreamInAttrs) {
  nb::Generator g(77);
  g.set_state({77, 5});
  nb::Tensor t = nb::randn({4}, nb::float32, &g);
  const nb::OpDef* op = nb::find_op("normal");
  ASSERT_NE(op, nullptr);
  EXPECT_TRUE(op->has(nb::kRandom));
  EXPECT_EQ(t.node()->attrs.get<int64_t>("seed"), 77);
  EXPECT_EQ(t.node()->attrs.get<int64_t>("offset"), 5);
  for (const char* name : {"uniform", "normal", "randint", "bernoulli", "permutation"})
    EXPECT_TRUE(nb::find_op(name)->has(nb::kRandom)) << name;
}

TEST(Random, ThreadCountDoesNotChangeValues) {
  const int64_t n = 300001;  // several threads' worth of counters, not a multiple of 4
  auto draw_all = [&](int threads) {
    std::vector<nb::Tensor> out;
    nb::Generator g(123);
    out.push_back(with_threads(threads, [&] { return nb::rand({n}, nb::float32, &g); }));
    out.push_back(with_threads(threads, [&] { return nb::randn({n}, nb::float64, &g); }));
    out.push_back(with_threads(threads, [&] { return nb::randn({n}, nb::bfloat16, &g); }));
    out.push_back(with_threads(threads, [&] { return nb::randint(-3, 1000, {n}, nb::int32, &g); }));
    out.push_back(with_threads(threads, [&] { return nb::bernoulli(0.25, {n}, nb::uint8, &g); }));
    out.push_back(with_threads(threads, [&] { return nb::permutation(n, nb::int64, &g); }));
    return out;
  };
  std::vector<nb::Tensor> one = draw_all(1), two = draw_all(2);
  for (std::size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(equal<double>(one[i], two[i])) << "draw " << i;
}

TEST(Random, LikeKeepsShapeAndDtype) {
  nb::Tensor x = nb::zeros({3, 5}, nb::float16);
  EXPECT_EQ(nb::rand_like(x).shape(), x.shape());
  EXPECT_EQ(nb::randn_like(x).dtype(), nb::float16);
  EXPECT_THROW(nb::rand_like(nb::zeros({2}, nb::int64)), nb::DTypeError);
  EXPECT_EQ(nb::rand({0, 3}).numel(), 0);
  EXPECT_EQ(nb::randn({}).shape(), nb::Shape{});
}

TEST(Random, BadInputThrowsTypedErrors) {
  auto expect_message = [](auto fn, const std::string& op) {
    try {
      fn();
      ADD_FAILURE() << "no error for " << op;
    } catch (const nb::ValueError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("[" + op + "]", 0), 0u) << e.what();
    }
  };
  expect_message([] { nb::randint(5, 5, {3}); }, "randint");
  expect_message([] { nb::randint(7, 3, {3}); }, "randint");
  expect_message([] { nb::randint(0, 300, {3}, nb::uint8); }, "randint");
  expect_message([] { nb::bernoulli(1.5, {3}); }, "bernoulli");
  expect_message([] { nb::bernoulli(-0.1, {3}); }, "bernoulli");
  expect_message([] { nb::bernoulli(NAN, {3}); }, "bernoulli");
  expect_message([] { nb::bernoulli(nb::full({4}, 1.01)); }, "bernoulli");
  expect_message([] { nb::bernoulli(nb::full({4}, NAN)); }, "bernoulli");
  expect_message([] { nb::uniform(3, 1, {3}); }, "uniform");
  expect_message([] { nb::uniform(0, INFINITY, {3}); }, "uniform");
  expect_message([] { nb::normal(0, -1, {3}); }, "normal");
  expect_message([] { nb::permutation(-1); }, "permutation");
  EXPECT_THROW(nb::randint(0, 2, {3}, nb::bool_), nb::DTypeError);
  EXPECT_THROW(nb::rand({3}, nb::int32), nb::DTypeError);
  EXPECT_THROW(nb::randn({3}, nb::bool_), nb::DTypeError);
  EXPECT_THROW(nb::bernoulli(nb::ones({3}, nb::int64)), nb::DTypeError);
  EXPECT_THROW(nb::permutation(3, nb::float32), nb::DTypeError);
  EXPECT_THROW(nb::rand({2, -1}), nb::ShapeError);
  EXPECT_THROW(nb::randint(0, 3, {-2}), nb::ShapeError);
}
