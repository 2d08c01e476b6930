#include "nabla/nn/init.h"

#include <cmath>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/nabla.h"

namespace nabla::nn::init {

std::pair<int64_t, int64_t> fans(const Tensor& w) {
  if (w.ndim() < 2)
    throw ShapeError("[init] fan in and fan out need at least 2 dims, got shape " + shape_str(w.shape()));
  int64_t field = 1;
  for (int64_t i = 2; i < w.ndim(); ++i) field *= w.size(i);
  return {w.size(1) * field, w.size(0) * field};
}

double gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "sigmoid" || nl.rfind("conv", 0) == 0) return 1;
  if (nl == "tanh") return 5.0 / 3;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nl == "selu") return 0.75;
  throw ValueError("[init] unknown nonlinearity '" + nl + "'");
}

namespace {
void write(Tensor& t, const Tensor& values) {
  NoGradGuard off;
  t.copy_(values);
}
int64_t fan(const Tensor& t, const std::string& mode) {
  auto [in, out] = fans(t);
  if (mode == "fan_in") return in;
  if (mode == "fan_out") return out;
  throw ValueError("[init] mode must be fan_in or fan_out, got '" + mode + "'");
}
}  // namespace

void uniform_(Tensor& t, double low, double high, Generator* gen) { write(t, uniform(low, high, t.shape(), t.dtype(), gen)); }
void normal_(Tensor& t, double mean, double std, Generator* gen) { write(t, normal(mean, std, t.shape(), t.dtype(), gen)); }
void constant_(Tensor& t, double value) {
  NoGradGuard off;
  t.fill_(value);
}
void zeros_(Tensor& t) { constant_(t, 0); }
void ones_(Tensor& t) { constant_(t, 1); }

void xavier_uniform_(Tensor& t, double g, Generator* gen) {
  auto [in, out] = fans(t);
  double a = g * std::sqrt(6.0 / double(in + out));
  uniform_(t, -a, a, gen);
}
void xavier_normal_(Tensor& t, double g, Generator* gen) {
  auto [in, out] = fans(t);
  normal_(t, 0, g * std::sqrt(2.0 / double(in + out)), gen);
}
void kaiming_uniform_(Tensor& t, double a, const std::string& mode, const std::string& nl, Generator* gen) {
  double bound = gain(nl, a) * std::sqrt(3.0 / double(fan(t, mode)));
  uniform_(t, -bound, bound, gen);
}
void kaiming_normal_(Tensor& t, double a, const std::string& mode, const std::string& nl, Generator* gen) {
  normal_(t, 0, gain(nl, a) / std::sqrt(double(fan(t, mode))), gen);
}

void orthogonal_(Tensor& t, double g, Generator* gen) {
  if (t.ndim() < 2) throw ShapeError("[orthogonal_] needs at least 2 dims, got shape " + shape_str(t.shape()));
  int64_t rows = t.size(0), cols = t.numel() / rows;
  bool flip = rows < cols;
  int64_t m = flip ? cols : rows, n = flip ? rows : cols;  // m >= n
  std::vector<double> a = randn({m, n}, float64, gen).to_vector<double>();
  // Modified Gram-Schmidt on the n columns of the m x n matrix gives Q with orthonormal
  // columns; the sign of R's diagonal is folded in as torch does (Q * sign(diag R)).
  std::vector<double> q(static_cast<std::size_t>(m * n));
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double> v(static_cast<std::size_t>(m));
    for (int64_t i = 0; i < m; ++i) v[std::size_t(i)] = a[std::size_t(i * n + j)];
    for (int64_t k = 0; k < j; ++k) {
      double d = 0;
      for (int64_t i = 0; i < m; ++i) d += q[std::size_t(i * n + k)] * v[std::size_t(i)];
      for (int64_t i = 0; i < m; ++i) v[std::size_t(i)] -= d * q[std::size_t(i * n + k)];
    }
    double norm = 0;
    for (double x : v) norm += x * x;
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < m; ++i) q[std::size_t(i * n + j)] = v[std::size_t(i)] / norm;
  }
  Tensor qt = tensor(q, {m, n});
  if (flip) qt = qt.t();
  write(t, (qt * g).reshape(t.shape()));
}

}  // namespace nabla::nn::init
