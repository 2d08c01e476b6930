// Matrix products: matmul (the one registered op), and dot and outer built on ops.
// The op itself takes two operands of at least 2 dims that share a dtype, with leading batch
// dims that broadcast; the public function maps the 1-d cases onto it with views, so their
// gradients come from the views' rules.
#include "nabla/ops/linalg.h"

#include "nabla/ops/binary.h"
#include "ops/elementwise.h"

namespace nabla {
namespace {

Shape batch_of(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

[[noreturn]] void cannot_multiply(const Shape& a, const Shape& b, const std::string& why) {
  throw ShapeError("[matmul] cannot multiply " + shape_str(a) + " by " + shape_str(b) + ": " + why);
}

// Batch dims of both operands broadcast (NumPy rules) to the output's batch dims.
Shape matmul_batch(const Shape& a, const Shape& b) {
  Shape ba = batch_of(a), bb = batch_of(b);
  std::size_t n = std::max(ba.size(), bb.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    int64_t da = i < n - ba.size() ? 1 : ba[i - (n - ba.size())];
    int64_t db = i < n - bb.size() ? 1 : bb[i - (n - bb.size())];
    if (da != db && da != 1 && db != 1)
      cannot_multiply(
          a, b, "batch dims " + shape_str(ba) + " and " + shape_str(bb) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor mT(const Tensor& x) { return x.transpose(-1, -2); }

const OpDef& kMatmul = define_op({
    .name = "matmul",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      const Shape &a = in[0].shape(), &b = in[1].shape();
      if (a.size() < 2 || b.size() < 2) cannot_multiply(a, b, "the op needs at least 2 dims");
      if (in[0].dtype() != in[1].dtype())
        throw DTypeError("[matmul] operands must share a dtype, got " + dtype_str(in[0].dtype()) +
                         " and " + dtype_str(in[1].dtype()));
      int64_t k = a[a.size() - 1], kb = b[b.size() - 2];
      if (k != kb) cannot_multiply(a, b, std::to_string(k) + " != " + std::to_string(kb));
      Shape out = matmul_batch(a, b);
      out.push_back(a[a.size() - 2]);
      out.push_back(b[b.size() - 1]);
      return {out, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &a = c.inputs[0], &b = c.inputs[1], &g = c.cotangent;
      return {sum_to_shape(matmul(g, mT(b)), a.shape()), sum_to_shape(matmul(mT(a), g), b.shape())};
    },
});

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) throw ValueError("[matmul] an operand is undefined");
  const Shape &sa = a.shape(), &sb = b.shape();
  if (sa.empty() || sb.empty())
    cannot_multiply(sa, sb, "0-d operands have no matrix dims (use mul)");
  int64_t ka = sa.back(), kb = sb.size() == 1 ? sb[0] : sb[sb.size() - 2];
  if (ka != kb) cannot_multiply(sa, sb, std::to_string(ka) + " != " + std::to_string(kb));
  Tensor ops[2] = {a, b};
  DType t = result_dtype(ops);
  if (t == bool_) throw DTypeError("[matmul] is not implemented for bool operands");
  Tensor x = a.astype(t), y = b.astype(t);
  bool vec_a = x.ndim() == 1, vec_b = y.ndim() == 1;
  if (vec_a) x = x.unsqueeze(0);
  if (vec_b) y = y.unsqueeze(1);
  matmul_batch(x.shape(), y.shape());  // reports batch mismatches with the user's shapes
  Tensor out = apply(kMatmul, {x, y});
  if (vec_b) out = out.squeeze(-1);
  if (vec_a) out = out.squeeze(vec_b ? -1 : -2);
  return out;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) throw ValueError("[dot] an operand is undefined");
  if (a.ndim() != 1 || b.ndim() != 1 || a.shape()[0] != b.shape()[0])
    throw ShapeError("[dot] expects two 1-d tensors of equal length, got " + shape_str(a.shape()) +
                     " and " + shape_str(b.shape()));
  return matmul(a, b);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) throw ValueError("[outer] an operand is undefined");
  if (a.ndim() != 1 || b.ndim() != 1)
    throw ShapeError("[outer] expects two 1-d tensors, got " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()));
  return a.unsqueeze(1) * b.unsqueeze(0);
}

}  // namespace nabla
