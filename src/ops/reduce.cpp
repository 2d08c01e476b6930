// Reductions: sum and mean.
#include "nabla/ops/reduce.h"

#include "nabla/ops/binary.h"
#include "ops/reduce_common.h"

namespace nabla {
namespace {

OutputMeta reduce_infer(std::span<const Tensor> in, const Attrs& a, DType out) {
  return {reduced_shape(in[0].shape(), a.get<Shape>("axes"), a.get<bool>("keepdims")), out};
}

const OpDef& kSum = define_op({
    .name = "sum",
    .flags = kReduction,
    .infer = [](std::span<const Tensor> in, const Attrs& a) {
      DType t = in[0].dtype();
      return reduce_infer(in, a, is_floating(t) ? t : int64);
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      Tensor g = unreduce(c.cotangent, x.shape(), c.attrs.get<Shape>("axes"), c.attrs.get<bool>("keepdims"));
      return {g.broadcast_to(x.shape())};
    },
});

}  // namespace

Tensor sum(const Tensor& x, const Shape& axes, bool keepdims) {
  Shape ax = normalize_axes(axes, x.ndim(), "sum");
  return apply(kSum, {x}, {{"axes", ax}, {"keepdims", keepdims}});
}

Tensor mean(const Tensor& x, const Shape& axes, bool keepdims) {
  Shape ax = normalize_axes(axes, x.ndim(), "mean");
  Tensor xf = is_floating(x.dtype()) ? x : x.astype(float32);
  int64_t n = reduced_count(x.shape(), ax);
  return sum(xf, ax, keepdims) / double(n);
}

Tensor Tensor::sum() const { return nabla::sum(*this); }
Tensor Tensor::mean() const { return nabla::mean(*this); }

}  // namespace nabla
