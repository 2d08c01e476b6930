// broadcast_like and count_elements: shapes read from a tensor when the op runs, so symbolic
// graphs over dynamic (-1) dims broadcast and count with each call's sizes.
#include "nabla/ops/shape_like.h"

#include "nabla/ops/creation.h"
#include "ops/common.h"
#include "ops/reduce_common.h"

namespace nabla {
namespace {

const OpDef& kBroadcastLike = define_op({
    .name = "broadcast_like",
    .flags = kView,
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      const Shape &x = in[0].shape(), &to = in[1].shape();
      bool ok = x.size() <= to.size();
      const std::size_t lead = ok ? to.size() - x.size() : 0;
      for (std::size_t i = 0; ok && i < x.size(); ++i) ok = x[i] == 1 || x[i] == to[lead + i];
      if (!ok)
        throw ShapeError("[broadcast_like] cannot broadcast " + shape_str(x) + " to " +
                         shape_str(to));
      return {to, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {sum_to_shape(c.cotangent, c.inputs[0].shape()), Tensor()};
    },
    .view =
        [](const Node& in, const Attrs&, Node& out) {
          out.offset = in.offset;
          const std::size_t lead = out.shape.size() - in.shape.size();
          out.strides = Strides(out.shape.size(), 0);
          for (std::size_t i = 0; i < in.shape.size(); ++i)
            out.strides[lead + i] = in.shape[i] == out.shape[lead + i] ? in.strides[i] : 0;
        },
});

// No gradient: the count does not depend on x's values.
const OpDef& kCountElements = define_op({
    .name = "count_elements",
    .infer = [](std::span<const Tensor>, const Attrs& a) -> OutputMeta {
      return {Shape{}, a.get<DType>("dtype")};
    },
    .dispatch_input = -1,
});

}  // namespace

bool is_dynamic(const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) return true;
  return false;
}

Tensor broadcast_like(const Tensor& x, const Tensor& like) {
  if (!x.defined() || !like.defined()) throw ValueError("[broadcast_like] an input is undefined");
  return apply(kBroadcastLike, {x, like});
}

Tensor zeros_shaped_like(const Tensor& x, DType dtype) {
  if (!is_dynamic(x.shape())) return zeros(x.shape(), dtype);
  return broadcast_like(scalar(0, dtype), x).contiguous();
}

Tensor count_elements(const Tensor& x, const Shape& axes, DType dtype) {
  if (!x.defined()) throw ValueError("[count_elements] the input is undefined");
  if (dtype == bool_) throw DTypeError("[count_elements] cannot count in bool");
  Shape ax = normalize_axes(axes, x.ndim(), "count_elements");
  return apply(kCountElements, {x}, {{"axes", ax}, {"dtype", dtype}});
}

}  // namespace nabla
