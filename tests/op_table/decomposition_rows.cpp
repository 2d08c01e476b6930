// Rows for eigh. Eigenvector signs are arbitrary, so the row's run fixes each column's sign
// (largest-magnitude entry positive; sign() has a zero gradient) and stacks the eigenvalues on
// top: out (..., n + 1, n) = [w; V]. The reference is an independent cyclic Jacobi iteration
// in float64 on (A + A^T) / 2, sorted ascending, with the same sign rule.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

Tensor eigh_packed(const Tensor& a) {
  Eigh e = eigh(a);
  Tensor v = e.eigenvectors;
  Tensor s = sign(gather(v, -2, argmax(abs(v), -2, true)));  // sign has a zero gradient
  return concat({e.eigenvalues.unsqueeze(-2), v * where(s == 0, 1.0, s)}, -2);
}

// Jacobi rotations on a (n x n, symmetric) until the off-diagonal vanishes; returns
// eigenvalues and eigenvectors (columns of q).
void jacobi(int64_t n, std::vector<double>& a, std::vector<double>& q) {
  auto at = [n](std::vector<double>& m, int64_t i, int64_t j) -> double& {
    return m[std::size_t(i * n + j)];
  };
  q.assign(std::size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) at(q, i, i) = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (i != j) off += at(a, i, j) * at(a, i, j);
    if (off < 1e-30) break;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t r = p + 1; r < n; ++r) {
        double apr = at(a, p, r);
        if (apr == 0) continue;
        double theta = (at(a, r, r) - at(a, p, p)) / (2 * apr);
        double t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < n; ++k) {  // columns p, r
          double akp = at(a, k, p), akr = at(a, k, r);
          at(a, k, p) = c * akp - s * akr;
          at(a, k, r) = s * akp + c * akr;
        }
        for (int64_t k = 0; k < n; ++k) {  // rows p, r
          double apk = at(a, p, k), ark = at(a, r, k);
          at(a, p, k) = c * apk - s * ark;
          at(a, r, k) = s * apk + c * ark;
        }
        for (int64_t k = 0; k < n; ++k) {
          double qkp = at(q, k, p), qkr = at(q, k, r);
          at(q, k, p) = c * qkp - s * qkr;
          at(q, k, r) = s * qkp + c * qkr;
        }
      }
  }
}

Ref eigh_ref(const Ref& x) {
  const std::size_t nd = x.shape.size();
  const int64_t n = x.shape[nd - 1];
  Shape out = x.shape;
  out[nd - 2] = n + 1;
  Ref r{out, std::vector<double>(std::size_t(numel_of(out)))};
  const int64_t batch = n == 0 ? 0 : numel_of(x.shape) / (n * n);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> a(std::size_t(n * n)), q;
    const double* src = x.v.data() + b * n * n;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        a[std::size_t(i * n + j)] = 0.5 * (src[i * n + j] + src[j * n + i]);
    jacobi(n, a, q);
    std::vector<int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
      return a[std::size_t(i * n + i)] < a[std::size_t(j * n + j)];
    });
    double* o = r.v.data() + b * (n + 1) * n;
    for (int64_t c = 0; c < n; ++c) {
      int64_t k = order[std::size_t(c)];
      o[c] = a[std::size_t(k * n + k)];
      int64_t lead = 0;
      for (int64_t i = 1; i < n; ++i)
        if (std::fabs(q[std::size_t(i * n + k)]) > std::fabs(q[std::size_t(lead * n + k)]))
          lead = i;
      double s = q[std::size_t(lead * n + k)] < 0 ? -1 : 1;
      for (int64_t i = 0; i < n; ++i) o[(i + 1) * n + c] = s * q[std::size_t(i * n + k)];
    }
  }
  return r;
}

NABLA_OP_ROWS(Row{
    .op = "eigh",
    .samples = {{{{4, 4}}},
                {{{1, 1}}},
                {{{2, 3, 5, 5}}},
                {{{6, 6}, true}},
                {{{0, 3, 3}}},
                {{{0, 0}}},
                {{{4, 40, 40}}}},
    .run = [](const std::vector<Tensor>& in) { return eigh_packed(in[0]); },
    .ref = [](const std::vector<Ref>& in) { return eigh_ref(in[0]); },
    .second_order = true,
    .tol_scale = 10,
});

}  // namespace
}  // namespace nabla::optable
