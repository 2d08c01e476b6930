// Scans: cumsum and cumprod along one axis.
#include "nabla/ops/binary.h"
#include "nabla/ops/reduce.h"
#include "ops/reduce_common.h"

namespace nabla {
namespace {

OutputMeta scan_infer(std::span<const Tensor> in, const Attrs&) {
  DType t = in[0].dtype();
  return {in[0].shape(), is_floating(t) ? t : int64};
}

const OpDef& kCumsum = define_op({
    .name = "cumsum",
    .infer = scan_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {
          cumsum_along(c.cotangent, c.attrs.get<int64_t>("axis"), !c.attrs.get<bool>("reverse"))};
    },
});

// d y_k / d x_i = prod_{j <= k, j != i} x_j for k >= i. Before the first zero of a line,
// sum_k g_k y_k / x_i is exact (y_k vanishes from the zero on). At the first zero z it is
// the reverse running sum of g * cumprod(x with x_z := 1); after z every term holds x_z = 0.
const OpDef& kCumprod = define_op({
    .name = "cumprod",
    .infer = scan_infer,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &x = c.inputs[0], &y = c.output, &g = c.cotangent;
      int64_t axis = c.attrs.get<int64_t>("axis");
      Tensor zero = compare_mask(x, weak_scalar(0), "eq");
      Tensor zeros_so_far = cumsum_along(zero, axis, false);
      Tensor before = compare_mask(zeros_so_far, weak_scalar(0), "eq");
      Tensor first = zero * compare_mask(zeros_so_far, weak_scalar(1), "eq");
      Tensor plain = before * cumsum_along(g * y, axis, true) / (x + zero);
      Tensor y_first = cumprod(x + first, axis);
      return {plain + first * cumsum_along(g * y_first, axis, true)};
    },
});

int64_t scan_axis(const Tensor& x, int64_t axis, const char* op) {
  return normalize_axis(axis, std::max<int64_t>(x.ndim(), 1), op);
}

}  // namespace

Tensor cumsum_along(const Tensor& x, int64_t axis, bool reverse) {
  return apply(kCumsum, {x}, {{"axis", axis}, {"reverse", reverse}});
}

Tensor cumsum(const Tensor& x, int64_t axis) {
  return cumsum_along(x, scan_axis(x, axis, "cumsum"), false);
}

Tensor cumprod(const Tensor& x, int64_t axis) {
  return apply(kCumprod, {x}, {{"axis", scan_axis(x, axis, "cumprod")}});
}

}  // namespace nabla
