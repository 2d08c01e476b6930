// Matrix decompositions: the symmetric eigendecomposition, and PCA built on it.
#pragma once
#include <cstdint>

#include "nabla/tensor.h"

namespace nabla {

struct Eigh {
  Tensor eigenvalues;   // (..., n), ascending
  Tensor eigenvectors;  // (..., n, n), orthonormal columns: A V = V diag(w)
};

// Eigenvalues and eigenvectors of symmetric matrices, like torch.linalg.eigh: `a` is
// (..., n, n), float32 or float64, batched over the leading dims. The matrix decomposed is
// (A + A^T) / 2, which is A itself for symmetric input (PyTorch reads the lower triangle
// only; the symmetrised form keeps the gradient the true derivative for any input).
// Computed in float64 on the CPU (Householder tridiagonalisation, implicit QL) and rounded
// to the input's dtype. Each eigenvector's sign is arbitrary (as in LAPACK); non-finite input
// gives NaN results.
// Differentiable: with w, V and cotangents gw, gV the gradient is
//   V (diag(gw) + skew(V^T gV) / (w_j - w_i)) V^T,  skew(M) = (M - M^T) / 2,
// The eigenvector part is undefined when eigenvalues repeat (as in PyTorch): nabla sets the
// terms of exactly equal pairs to zero where PyTorch returns inf/NaN, so do not trust
// eigenvector gradients of (near-)degenerate matrices. Losses of the eigenvalues alone have
// exact gradients everywhere.
// Throws ShapeError when a is not (..., n, n), DTypeError when it is not float32/float64.
Eigh eigh(const Tensor& a);
// Only the eigenvalues (ascending); differentiable even when they repeat.
Tensor eigvalsh(const Tensor& a);

// Principal component analysis by the eigendecomposition of the covariance matrix.
struct PCA {
  Tensor mean;                // (d)
  Tensor components;          // (k, d): orthonormal rows, largest variance first
  Tensor explained_variance;  // (k): variance along each component (unbiased, / (N - 1))

  // Codes of x (N, d): (x - mean) components^T, (N, k).
  Tensor transform(const Tensor& x) const;
  // Back to data space: z components + mean, (N, d).
  Tensor inverse_transform(const Tensor& z) const;
};
// Fits the top-k principal components of the rows of x (N, d), N >= 2, 1 <= k <= d. The data
// are centred in float64, their covariance is multiplied out in x's dtype and decomposed in
// float64 (eigh); the result has x's dtype. Each
// component's sign makes its largest-magnitude entry positive, so fits are reproducible.
// Throws ShapeError for a non-matrix x, ValueError for k out of range or N < 2.
PCA pca(const Tensor& x, int64_t k);

}  // namespace nabla
