// softmax, log_softmax and logsumexp, all shifted by the maximum for stability.
#include "nabla/ops/binary.h"
#include "nabla/ops/reduce.h"
#include "ops/reduce_common.h"

namespace nabla {
namespace {

Tensor floating(const Tensor& x) { return is_floating(x.dtype()) ? x : x.astype(float32); }

// softmax and log_softmax carry a list of axes so logsumexp's gradient can use softmax.
const OpDef& kSoftmax = define_op({
    .name = "softmax",
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor &y = c.output, &g = c.cotangent;
      return {y * (g - sum(g * y, c.attrs.get<Shape>("axes"), true))};
    },
});

const OpDef& kLogSoftmax = define_op({
    .name = "log_softmax",
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Shape& axes = c.attrs.get<Shape>("axes");
      const Tensor& g = c.cotangent;
      return {g - softmax_over(c.inputs[0], axes) * sum(g, axes, true)};
    },
});

const OpDef& kLogsumexp = define_op({
    .name = "logsumexp",
    .flags = kReduction,
    .infer =
        [](std::span<const Tensor> in, const Attrs& a) {
          return OutputMeta{
              reduced_shape(in[0].shape(), a.get<Shape>("axes"), a.get<bool>("keepdims")),
              in[0].dtype()};
        },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      const Shape& axes = c.attrs.get<Shape>("axes");
      Tensor g = unreduce(c.cotangent, x.shape(), axes, c.attrs.get<bool>("keepdims"));
      return {g * softmax_over(x, axes)};
    },
});

Shape one_axis(const Tensor& x, int64_t axis, const char* op) {
  return {normalize_axis(axis, std::max<int64_t>(x.ndim(), 1), op)};
}

}  // namespace

Tensor softmax_over(const Tensor& x, const Shape& axes) {
  return apply(kSoftmax, {floating(x)}, {{"axes", axes}});
}

Tensor softmax(const Tensor& x, int64_t axis) {
  Shape ax = one_axis(x, axis, "softmax");
  return softmax_over(x, x.ndim() == 0 ? Shape{} : ax);
}

Tensor log_softmax(const Tensor& x, int64_t axis) {
  Shape ax = one_axis(x, axis, "log_softmax");
  return apply(kLogSoftmax, {floating(x)}, {{"axes", x.ndim() == 0 ? Shape{} : ax}});
}

Tensor logsumexp(const Tensor& x, const Shape& axes, bool keepdims) {
  Shape ax = normalize_axes(axes, x.ndim(), "logsumexp");
  return apply(kLogsumexp, {floating(x)}, {{"axes", ax}, {"keepdims", keepdims}});
}

}  // namespace nabla
