// eigh beyond the op table: agreement with torch.linalg.eigh (values, vectors up to sign,
// gradients), the defining identities on a larger matrix, repeated eigenvalues, error paths,
// and PCA (reconstruction optimality vs a random subspace, errors).
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/nabla.h"
#include "torch/reference.h"

namespace nb = nabla;
using nlohmann::json;

namespace {

nb::Tensor from_json(const json& j) {
  nb::Shape s;
  for (auto d : j["shape"]) s.push_back(d.get<int64_t>());
  return nb::tensor(j["data"].get<std::vector<double>>(), s);
}

double max_abs(const nb::Tensor& t) { return nb::amax(nb::abs(t)).item<double>(); }

nb::Tensor symmetric(int64_t n, nb::DType t, uint64_t seed) {
  nb::Generator g(seed);
  nb::Tensor m = nb::randn({n, n}, nb::float64, &g);
  return ((m + m.t()) * 0.5).astype(t);
}

TEST(Eigh, MatchesTorch) {
  static json ref = nb::testing::torch_reference("eigh_reference.py");
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  for (auto& [name, c] : ref.items()) {
    nb::Tensor a = from_json(c["a"]).requires_grad_();
    nb::Eigh e = nb::eigh(a);
    EXPECT_LT(max_abs(e.eigenvalues - from_json(c["w"])), 1e-12) << name;
    // Columns agree up to sign: |<v_nabla, v_torch>| = 1.
    nb::Tensor dots = nb::sum(e.eigenvectors * from_json(c["v"]), {-2});
    EXPECT_LT(max_abs(nb::abs(dots) - 1.0), 1e-10) << name;
    nb::Tensor loss = nb::sum(from_json(c["cw"]) * e.eigenvalues) +
                      nb::sum(from_json(c["cv"]) * e.eigenvectors * e.eigenvectors);
    loss.backward();
    EXPECT_LT(max_abs(a.grad() - from_json(c["grad"])), 1e-9) << name;
  }
}

TEST(Eigh, IdentitiesOnALargeMatrix) {
  for (nb::DType t : {nb::float32, nb::float64}) {
    const int64_t n = 200;
    nb::Tensor a = symmetric(n, t, 7);
    nb::Eigh e = nb::eigh(a);
    ASSERT_EQ(e.eigenvalues.shape(), (nb::Shape{n}));
    ASSERT_EQ(e.eigenvectors.shape(), (nb::Shape{n, n}));
    EXPECT_EQ(e.eigenvalues.dtype(), t);
    nb::Tensor a64 = a.astype(nb::float64), v = e.eigenvectors.astype(nb::float64);
    nb::Tensor w = e.eigenvalues.astype(nb::float64);
    double tol = t == nb::float64 ? 1e-11 : 1e-5;
    EXPECT_LT(max_abs(nb::matmul(a64, v) - v * w), tol * n) << nb::dtype_name(t);
    EXPECT_LT(max_abs(nb::matmul(v.t(), v) - nb::eye(n, n, nb::float64)), tol * 10)
        << nb::dtype_name(t);
    std::vector<double> wv = w.to_vector<double>();
    EXPECT_TRUE(std::is_sorted(wv.begin(), wv.end()));
  }
}

TEST(Eigh, RepeatedEigenvaluesAndEigvalsGradient) {
  // The identity (all eigenvalues equal) and a diagonal matrix with a repeated value.
  nb::Eigh e = nb::eigh(nb::eye(4, 4, nb::float64));
  EXPECT_LT(max_abs(e.eigenvalues - 1.0), 1e-15);
  EXPECT_LT(max_abs(nb::matmul(e.eigenvectors.t(), e.eigenvectors) - nb::eye(4, 4, nb::float64)),
            1e-15);
  nb::Tensor a =
      nb::tensor(std::vector<double>{2, 0, 0, 0, 2, 0, 0, 0, 5}, {3, 3}).requires_grad_();
  // d(sum of eigenvalues)/dA = I, d(largest)/dA = v v^T: defined despite the repeated 2.
  nb::Tensor w = nb::eigvalsh(a);
  (w.sum() + w.select(0, 2)).backward();
  std::vector<double> g = a.grad().to_vector<double>();
  std::vector<double> want = {1, 0, 0, 0, 1, 0, 0, 0, 2};
  for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], 1e-12) << i;
}

TEST(Eigh, NonFiniteInputGivesNaN) {
  nb::Tensor a = nb::tensor(std::vector<float>{1, NAN, NAN, 2}, {2, 2});
  nb::Eigh e = nb::eigh(a);
  EXPECT_TRUE(std::isnan(e.eigenvalues.to_vector<float>()[0]));
}

TEST(Eigh, Errors) {
  auto message = [](auto f) {
    try {
      f();
    } catch (const nb::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THROW(nb::eigh(nb::ones({3})), nb::ShapeError);
  EXPECT_THROW(nb::eigh(nb::ones({2, 3, 4})), nb::ShapeError);
  EXPECT_THROW(nb::eigh(nb::ones({3, 3}, nb::int64)), nb::DTypeError);
  EXPECT_THROW(nb::eigh(nb::ones({3, 3}, nb::float16)), nb::DTypeError);
  EXPECT_THROW(nb::eigh(nb::Tensor()), nb::ValueError);
  EXPECT_EQ(message([] {
              nb::eigh(nb::ones({2, 3}));
            }),
            "[eigh] expects square matrices (..., n, n), got shape (2, 3)");
}

TEST(Pca, RecoversTheSubspaceAndBeatsARandomOne) {
  // Data on a 3-d subspace of R^10 plus small noise: 3 components explain almost all of it.
  nb::Generator g(3);
  nb::Tensor basis = nb::randn({3, 10}, nb::float64, &g);
  nb::Tensor x = nb::matmul(nb::randn({500, 3}, nb::float64, &g), basis) +
                 0.01 * nb::randn({500, 10}, nb::float64, &g) + 5.0;
  nb::PCA p = nb::pca(x.astype(nb::float32), 3);
  ASSERT_EQ(p.components.shape(), (nb::Shape{3, 10}));
  ASSERT_EQ(p.mean.shape(), (nb::Shape{10}));
  EXPECT_EQ(p.components.dtype(), nb::float32);
  EXPECT_LT(max_abs(nb::matmul(p.components, p.components.t()) - nb::eye(3, 3)), 1e-5);
  std::vector<float> var = p.explained_variance.to_vector<float>();
  EXPECT_GE(var[0], var[1]);
  EXPECT_GE(var[1], var[2]);
  nb::Tensor xf = x.astype(nb::float32);
  nb::Tensor z = p.transform(xf);
  ASSERT_EQ(z.shape(), (nb::Shape{500, 3}));
  double err = nb::mean(nb::square(p.inverse_transform(z) - xf)).item<double>();
  EXPECT_LT(err, 2e-4);
  // A random orthonormal 3-d subspace (from eigh of a random matrix) does much worse.
  nb::Tensor q = nb::eigh(symmetric(10, nb::float32, 9)).eigenvectors.slice(1, 0, 3).t();
  nb::PCA rnd{p.mean, q, p.explained_variance};
  double rerr = nb::mean(nb::square(rnd.inverse_transform(rnd.transform(xf)) - xf)).item<double>();
  EXPECT_GT(rerr, 10 * err);
  // Explained variance equals the variance of the codes.
  nb::Tensor code_var = nb::var(z.astype(nb::float64), {0});
  EXPECT_LT(max_abs(code_var - p.explained_variance.astype(nb::float64)) / var[0], 1e-4);
}

TEST(Pca, Errors) {
  EXPECT_THROW(nb::pca(nb::ones({10}), 1), nb::ShapeError);
  EXPECT_THROW(nb::pca(nb::ones({10, 4}), 0), nb::ValueError);
  EXPECT_THROW(nb::pca(nb::ones({10, 4}), 5), nb::ValueError);
  EXPECT_THROW(nb::pca(nb::ones({1, 4}), 1), nb::ValueError);
  EXPECT_THROW(nb::pca(nb::ones({10, 4}, nb::int64), 1), nb::DTypeError);
  nb::PCA p = nb::pca(nb::randn({10, 4}), 2);
  EXPECT_THROW(p.transform(nb::ones({3, 5})), nb::ShapeError);
  EXPECT_THROW(p.inverse_transform(nb::ones({3, 3})), nb::ShapeError);
  EXPECT_THROW(nb::PCA{}.transform(nb::ones({3, 4})), nb::ValueError);
}

}  // namespace
