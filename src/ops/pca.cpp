// PCA from the float64 eigendecomposition of the covariance matrix (ops only, so a fit on
// tensors that require gradients stays differentiable through eigh).
#include "nabla/ops/binary.h"
#include "nabla/ops/compare.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/decomposition.h"
#include "nabla/ops/index.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/ternary.h"
#include "nabla/ops/unary.h"
#include "ops/common.h"

namespace nabla {

PCA pca(const Tensor& x, int64_t k) {
  if (!x.defined()) throw ValueError("[pca] the input is undefined");
  if (x.ndim() != 2)
    throw ShapeError("[pca] expects data (N, d), got shape " + shape_str(x.shape()));
  if (!is_floating(x.dtype()))
    throw DTypeError("[pca] expects floating data, got " + dtype_str(x.dtype()));
  const int64_t rows = x.shape()[0], d = x.shape()[1];
  if (rows < 2) throw ValueError("[pca] needs at least 2 rows, got shape " + shape_str(x.shape()));
  if (k < 1 || k > d)
    throw ValueError("[pca] k = " + std::to_string(k) + " must be in [1, " + std::to_string(d) +
                     "] for data of shape " + shape_str(x.shape()));
  // Centred in float64, multiplied in x's dtype (a float32 product of 60000 x 784 data is
  // oneDNN-fast and accurate enough for a covariance), decomposed in float64.
  Tensor mu = mean(x.astype(float64), {0});
  Tensor xc = (x.astype(float64) - mu).astype(x.dtype());
  Tensor cov = (matmul(xc.t(), xc) / double(rows - 1)).astype(float64);
  Eigh e = eigh(cov);
  std::vector<int64_t> top(static_cast<std::size_t>(k));
  for (int64_t i = 0; i < k; ++i) top[std::size_t(i)] = d - 1 - i;  // largest first
  Tensor idx = tensor(top, {k});
  Tensor comps = index_select(e.eigenvectors, 1, idx).t();         // (k, d)
  Tensor s = sign(gather(comps, 1, argmax(abs(comps), 1, true)));  // a zero gradient
  comps = comps * where(s == 0, 1.0, s);
  Tensor var = index_select(e.eigenvalues, 0, idx);
  DType t = x.dtype();
  return {mu.astype(t), comps.astype(t), var.astype(t)};
}

Tensor PCA::transform(const Tensor& x) const {
  if (!components.defined()) throw ValueError("[pca] transform before fit");
  if (x.ndim() != 2 || x.shape()[1] != components.shape()[1])
    throw ShapeError("[pca] transform expects (N, " + std::to_string(components.shape()[1]) +
                     "), got shape " + shape_str(x.shape()));
  return matmul(x - mean, components.t());
}

Tensor PCA::inverse_transform(const Tensor& z) const {
  if (!components.defined()) throw ValueError("[pca] inverse_transform before fit");
  if (z.ndim() != 2 || z.shape()[1] != components.shape()[0])
    throw ShapeError("[pca] inverse_transform expects (N, " +
                     std::to_string(components.shape()[0]) + "), got shape " +
                     shape_str(z.shape()));
  return matmul(z, components) + mean;
}

}  // namespace nabla
