#include "ops/reduce_common.h"

#include <algorithm>

#include "nabla/ops/binary.h"
#include "ops/elementwise.h"

namespace nabla {

Shape normalize_axes(const Shape& axes, int64_t ndim, const char* op) {
  Shape out;
  if (axes.empty()) {
    for (int64_t i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (int64_t a : axes)
    out.push_back(ndim == 0 ? (normalize_axis(a, 0, op), 0) : normalize_axis(a, ndim, op));
  std::sort(out.begin(), out.end());
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i] == out[i - 1])
      throw IndexError("[" + std::string(op) + "] axis " + std::to_string(out[i]) +
                       " appears twice");
  if (ndim == 0) out.clear();
  return out;
}

std::vector<bool> reduced_mask(int64_t ndim, const Shape& axes) {
  std::vector<bool> m(std::size_t(ndim), false);
  for (int64_t a : axes) m[std::size_t(a)] = true;
  return m;
}

Shape reduced_shape(const Shape& shape, const Shape& axes, bool keepdims) {
  std::vector<bool> m = reduced_mask(int64_t(shape.size()), axes);
  Shape out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (!m[i])
      out.push_back(shape[i]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

int64_t reduced_count(const Shape& shape, const Shape& axes) {
  int64_t n = 1;
  for (int64_t a : axes) n *= shape[std::size_t(a)];
  return n;
}

bool reduces_dynamic_dim(const Shape& shape, const Shape& axes) {
  for (int64_t a : axes)
    if (shape[std::size_t(a)] < 0) return true;
  return false;
}

Tensor unreduce(const Tensor& g, const Shape& in_shape, const Shape& axes, bool keepdims) {
  if (keepdims) return g;
  return g.reshape(reduced_shape(in_shape, axes, true));
}

}  // namespace nabla

// --- compare_mask: the comparisons the gradient rules need, owned here so the reductions
// do not depend on the comparison family.

namespace nabla {
namespace {

const OpDef& kCompareMask = define_op({
    .name = "compare_mask",
    .flags = kElementwise,
    .arity = 2,
    .infer = [](std::span<const Tensor> in,
                const Attrs&) { return broadcast_infer(in, "compare_mask", in[0].dtype()); },
});

}  // namespace

Tensor compare_mask(const Tensor& a, const Tensor& b, const char* cmp) {
  std::string c(cmp);
  if (c != "eq" && c != "gt" && c != "lt")
    throw ValueError("[compare_mask] unknown comparison '" + c + "'");
  Tensor ops[2] = {a, b};
  DType t = result_dtype(ops);
  return apply(kCompareMask, {a.astype(t), b.astype(t)}, {{"cmp", c}});
}

Tensor sign_of(const Tensor& x) {
  return compare_mask(x, weak_scalar(0), "gt") - compare_mask(x, weak_scalar(0), "lt");
}

}  // namespace nabla
