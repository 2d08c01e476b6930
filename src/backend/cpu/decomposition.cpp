// CPU kernel of eigh: each matrix of the batch is symmetrised into a float64 buffer, reduced
// to tridiagonal form by Householder reflections (tred2), and diagonalised by the implicit QL
// algorithm with Wilkinson-like shifts (tql2), both after EISPACK as published in JAMA.
// The accumulated transform is kept transposed during QL so each Givens rotation updates two
// contiguous rows. Output: eigenvectors in columns 0..n-1, eigenvalues in column n.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/parallel.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

// v (n x n, column-major) holds the symmetric matrix on entry and the orthogonal transform
// to tridiagonal form on exit, so v read row-major is its transpose; d gets the diagonal, e
// the subdiagonal in e[1..n-1].
void tred2(int64_t n, double* v, double* d, double* e) {
  // Column-major: the inner loops below run down columns (EISPACK is Fortran), which are
  // then contiguous. The input is symmetric, so its layout is the same either way.
  auto V = [&](int64_t i, int64_t j) -> double& { return v[j * n + i]; };
  for (int64_t j = 0; j < n; ++j) d[j] = V(n - 1, j);
  for (int64_t i = n - 1; i > 0; --i) {
    double scale = 0, h = 0;
    for (int64_t k = 0; k < i; ++k) scale += std::fabs(d[k]);
    if (scale == 0) {
      e[i] = d[i - 1];
      for (int64_t j = 0; j < i; ++j) {
        d[j] = V(i - 1, j);
        V(i, j) = 0;
        V(j, i) = 0;
      }
    } else {
      for (int64_t k = 0; k < i; ++k) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      double f = d[i - 1];
      double g = std::sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (int64_t j = 0; j < i; ++j) e[j] = 0;
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        V(j, i) = f;
        g = e[j] + V(j, j) * f;
        for (int64_t k = j + 1; k <= i - 1; ++k) {
          g += V(k, j) * d[k];
          e[k] += V(k, j) * f;
        }
        e[j] = g;
      }
      f = 0;
      for (int64_t j = 0; j < i; ++j) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      double hh = f / (h + h);
      for (int64_t j = 0; j < i; ++j) e[j] -= hh * d[j];
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        g = e[j];
        for (int64_t k = j; k <= i - 1; ++k) V(k, j) -= (f * e[k] + g * d[k]);
        d[j] = V(i - 1, j);
        V(i, j) = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (int64_t i = 0; i < n - 1; ++i) {
    V(n - 1, i) = V(i, i);
    V(i, i) = 1;
    double h = d[i + 1];
    if (h != 0) {
      for (int64_t k = 0; k <= i; ++k) d[k] = V(k, i + 1) / h;
      for (int64_t j = 0; j <= i; ++j) {
        double g = 0;
        for (int64_t k = 0; k <= i; ++k) g += V(k, i + 1) * V(k, j);
        for (int64_t k = 0; k <= i; ++k) V(k, j) -= g * d[k];
      }
    }
    for (int64_t k = 0; k <= i; ++k) V(k, i + 1) = 0;
  }
  for (int64_t j = 0; j < n; ++j) {
    d[j] = V(n - 1, j);
    V(n - 1, j) = 0;
  }
  V(n - 1, n - 1) = 1;
  e[0] = 0;
}

// Diagonalises the tridiagonal (d, e) and applies the rotations to the rows of vt (the
// transform transposed: row i is eigenvector i on exit). Returns false if it fails to
// converge. Eigenvalues come out ascending with their vectors.
bool tql2(int64_t n, double* vt, double* d, double* e) {
  for (int64_t i = 1; i < n; ++i) e[i - 1] = e[i];
  e[n - 1] = 0;
  double f = 0, tst1 = 0;
  const double eps = std::numeric_limits<double>::epsilon();
  for (int64_t l = 0; l < n; ++l) {
    tst1 = std::max(tst1, std::fabs(d[l]) + std::fabs(e[l]));
    int64_t m = l;
    while (m < n - 1 && !(std::fabs(e[m]) <= eps * tst1)) ++m;
    if (m > l) {
      int iter = 0;
      do {
        if (++iter > 60) return false;
        double g = d[l];
        double p = (d[l + 1] - g) / (2 * e[l]);
        double r = std::hypot(p, 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        double dl1 = d[l + 1];
        double h = g - d[l];
        for (int64_t i = l + 2; i < n; ++i) d[i] -= h;
        f += h;
        p = d[m];
        double c = 1, c2 = 1, c3 = 1, el1 = e[l + 1], s = 0, s2 = 0;
        for (int64_t i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = std::hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          double* a = vt + i * n;
          double* b = vt + (i + 1) * n;
          for (int64_t k = 0; k < n; ++k) {
            double hk = b[k];
            b[k] = s * a[k] + c * hk;
            a[k] = c * a[k] - s * hk;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (std::fabs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  for (int64_t i = 0; i < n - 1; ++i) {
    int64_t k = i;
    double p = d[i];
    for (int64_t j = i + 1; j < n; ++j)
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    if (k != i) {
      d[k] = d[i];
      d[i] = p;
      std::swap_ranges(vt + i * n, vt + (i + 1) * n, vt + k * n);
    }
  }
  return true;
}

template <class T>
void eigh_kernel(const KernelArgs& args) {
  const Node& x = *args.inputs[0];
  Node& out = args.out;
  const std::size_t nd = x.shape.size();
  const int64_t n = x.shape[nd - 1];
  const int64_t batch = n == 0 ? 0 : numel_of(x.shape) / (n * n);
  const int64_t rs = x.strides[nd - 2], cs = x.strides[nd - 1];
  const T* xp = x.ptr<T>();
  T* op = out.ptr<T>();
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n * n * n));
  parallel_for(batch, grain, [&](int64_t b0, int64_t b1) {
    const auto nn = std::size_t(n);
    std::vector<double> v(nn * nn), d(nn), e(nn);
    for (int64_t b = b0; b < b1; ++b) {
      int64_t off = 0, rest = b;  // strided offset of matrix b over the batch dims
      for (std::size_t k = nd - 2; k-- > 0;) {
        off += (rest % x.shape[k]) * x.strides[k];
        rest /= x.shape[k];
      }
      const T* a = xp + off;
      bool finite = true;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = 0.5 * (double(a[i * rs + j * cs]) + double(a[j * rs + i * cs]));
          finite = finite && std::isfinite(s);
          v[std::size_t(i * n + j)] = s;
        }
      T* o = op + b * n * (n + 1);
      bool ok = finite;
      if (ok) {
        tred2(n, v.data(), d.data(), e.data());  // v is left holding the transform transposed
        ok = tql2(n, v.data(), d.data(), e.data());
      }
      if (!ok) {
        std::fill(o, o + n * (n + 1), std::numeric_limits<T>::quiet_NaN());
        continue;
      }
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) o[i * (n + 1) + j] = T(v[std::size_t(j * n + i)]);
        o[i * (n + 1) + n] = T(d[std::size_t(i)]);
      }
    }
  });
}

[[maybe_unused]] const bool kRegistered = [] {
  register_kernel("eigh", DeviceType::cpu, float32, eigh_kernel<float>);
  register_kernel("eigh", DeviceType::cpu, float64, eigh_kernel<double>);
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
