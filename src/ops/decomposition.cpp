// The symmetric eigendecomposition. The registered op "eigh" returns one packed tensor
// (..., n, n + 1): the eigenvectors in columns 0..n-1 and the eigenvalues in column n, since
// an op has one output; the public function splits it with views, whose gradients scatter
// back into the packed cotangent.
#include "nabla/ops/decomposition.h"

#include "nabla/ops/binary.h"
#include "nabla/ops/compare.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/ternary.h"
#include "ops/common.h"

namespace nabla {
namespace {

Tensor mT(const Tensor& x) { return x.transpose(-1, -2); }

// The standard eigh VJP (e.g. Giles 2008; PyTorch's linalg_eig_backward for Hermitian input).
// skew(V^T gV) / (w_j - w_i) is symmetric, so the gradient is symmetric, which is what the
// op's (A + A^T) / 2 input needs. Terms of exactly equal eigenvalues, where the eigenvector
// derivative does not exist, are set to zero (not inf/NaN) so that losses of the eigenvalues
// alone have exact gradients everywhere. The mask depends on w only, not on the cotangent,
// so the rule stays linear in the cotangent (forward mode differentiates through it).
std::vector<Tensor> eigh_vjp(const VjpContext& c) {
  const Tensor& p = c.output;
  const int64_t n = p.shape()[std::size_t(p.ndim() - 2)];
  Tensor v = p.slice(-1, 0, n), w = p.select(-1, n);
  Tensor gv = c.cotangent.slice(-1, 0, n), gw = c.cotangent.select(-1, n);
  Tensor vt = mT(v);
  Tensor m = matmul(vt, gv);
  Tensor k = (m - mT(m)) * 0.5;
  Tensor id = eye(n, n, p.dtype());
  Tensor gap = w.unsqueeze(-2) - w.unsqueeze(-1) + id;  // gap[i][j] = w_j - w_i, 1 on the diagonal
  Tensor inner = where(gap == 0, 0.0, k / gap) + id * gw.unsqueeze(-2);
  return {matmul(matmul(v, inner), vt)};
}

const OpDef& kEigh = define_op({
    .name = "eigh",
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      Shape s = in[0].shape();
      s.back() += 1;
      return {s, in[0].dtype()};
    },
    .vjp = eigh_vjp,
});

}  // namespace

Eigh eigh(const Tensor& a) {
  if (!a.defined()) throw ValueError("[eigh] the input is undefined");
  if (a.ndim() < 2 || a.shape()[std::size_t(a.ndim() - 1)] != a.shape()[std::size_t(a.ndim() - 2)])
    throw ShapeError("[eigh] expects square matrices (..., n, n), got shape " +
                     shape_str(a.shape()));
  if (a.dtype() != float32 && a.dtype() != float64)
    throw DTypeError("[eigh] supports float32 and float64, got " + dtype_str(a.dtype()) +
                     " (cast with astype)");
  const int64_t n = a.shape().back();
  Tensor packed = apply(kEigh, {a});
  return {packed.select(-1, n), packed.slice(-1, 0, n)};
}

Tensor eigvalsh(const Tensor& a) { return eigh(a).eigenvalues; }

}  // namespace nabla
