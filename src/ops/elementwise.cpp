#include "ops/elementwise.h"

#include "nabla/ops/reduce.h"

namespace nabla {

DType result_dtype(std::span<const Tensor> operands) {
  bool have_strong = false;
  DType strong = bool_, weak = bool_;
  bool have_weak = false;
  for (const Tensor& t : operands) {
    if (t.node()->weak) {
      weak = have_weak ? promote_types(weak, t.dtype()) : t.dtype();
      have_weak = true;
    } else {
      strong = have_strong ? promote_types(strong, t.dtype()) : t.dtype();
      have_strong = true;
    }
  }
  if (!have_strong) return is_floating(weak) ? float32 : weak;  // literals alone: default dtypes
  return have_weak ? promote_with_weak(strong, weak) : strong;
}

std::vector<Tensor> cast_all(std::span<const Tensor> operands, DType dtype) {
  std::vector<Tensor> out;
  out.reserve(operands.size());
  for (const Tensor& t : operands) out.push_back(t.astype(dtype));
  return out;
}

OutputMeta broadcast_infer(std::span<const Tensor> in, const char* op, DType out) {
  Shape s = in[0].shape();
  for (std::size_t i = 1; i < in.size(); ++i) {
    if (in[i].dtype() != in[0].dtype())
      throw DTypeError("[" + std::string(op) + "] operands must share a dtype, got " +
                       dtype_str(in[0].dtype()) + " and " + dtype_str(in[i].dtype()));
    s = broadcast_shapes(s, in[i].shape(), op);
  }
  return {s, out};
}

Tensor apply_binary(const OpDef& op, const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) throw ValueError("[" + op.name + "] an operand is undefined");
  Tensor ops[2] = {a, b};
  DType t = result_dtype(ops);
  return apply(op, {a.astype(t), b.astype(t)});
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  int64_t lead = g.ndim() - int64_t(shape.size());
  Shape axes;
  for (int64_t i = 0; i < g.ndim(); ++i)
    if (i < lead || (shape[std::size_t(i - lead)] == 1 && g.shape()[std::size_t(i)] != 1))
      axes.push_back(i);
  Tensor s = axes.empty() ? g : sum(g, axes, /*keepdims=*/true);
  return s.reshape(shape);
}

}  // namespace nabla
