// Indexing with index tensors and masks: gather, scatter, scatter_add, index_select,
// take_along_axis and masked_fill. Gradients pair the ops up: gather's is a scatter_add of
// the cotangent, scatter's source gets a gather of it.
#include "nabla/ops/index.h"

#include "nabla/ops/creation.h"
#include "nabla/ops/join.h"
#include "ops/common.h"

namespace nabla {
namespace {

[[noreturn]] void fail_shape(const char* op, const std::string& what) {
  throw ShapeError("[" + std::string(op) + "] " + what);
}

Tensor index_as_int64(const Tensor& index, const char* op) {
  if (!index.defined()) throw ValueError("[" + std::string(op) + "] the index tensor is undefined");
  if (index.dtype() == int64) return index;
  if (index.dtype() == int32) return index.astype(int64);
  throw DTypeError("[" + std::string(op) + "] indices must be int64 or int32, got " +
                   dtype_str(index.dtype()));
}

// Zero-pads `g` at the end of each dim up to `shape` (a source larger than its index).
Tensor grow_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  std::vector<int64_t> pads;
  for (std::size_t d = shape.size(); d-- > 0;) {
    pads.push_back(0);
    pads.push_back(shape[d] - g.shape()[d]);
  }
  return pad(g, pads);
}

int64_t axis_of(const VjpContext& c) { return c.attrs.get<int64_t>("axis"); }

const OpDef& kGather = define_op({
    .name = "gather",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      return {in[1].shape(), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& x = c.inputs[0];
      Tensor base = zeros_shaped_like(x, c.cotangent.dtype());
      return {scatter_add(base, axis_of(c), c.inputs[1], c.cotangent), Tensor()};
    },
});

// inputs: x, index, src (already x's dtype)
const OpDef& kScatter = define_op({
    .name = "scatter",
    .arity = 3,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Tensor& index = c.inputs[1];
      Tensor gx =
          scatter(c.cotangent, axis_of(c), index, zeros_shaped_like(index, c.cotangent.dtype()));
      Tensor gsrc = grow_to(gather(c.cotangent, axis_of(c), index), c.inputs[2].shape());
      return {gx, Tensor(), gsrc};
    },
});

const OpDef& kScatterAdd = define_op({
    .name = "scatter_add",
    .arity = 3,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      Tensor gsrc = grow_to(gather(c.cotangent, axis_of(c), c.inputs[1]), c.inputs[2].shape());
      return {c.cotangent, Tensor(), gsrc};
    },
});

const OpDef& kIndexSelect = define_op({
    .name = "index_select",
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s = in[0].shape();
      if (!s.empty()) s[std::size_t(a.get<int64_t>("axis"))] = in[1].numel();
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      // The 1-d index, broadcast along the other dims, makes this a scatter_add.
      const Tensor& x = c.inputs[0];
      int64_t axis = axis_of(c);
      Tensor g = x.ndim() == 0 ? c.cotangent.reshape({1}) : c.cotangent;
      Shape at(std::size_t(g.ndim()), 1);
      at[std::size_t(axis)] = c.inputs[1].numel();
      Tensor index = c.inputs[1].reshape(at).expand(g.shape());
      Tensor base = g.ndim() == x.ndim() ? zeros_shaped_like(x, g.dtype()) : zeros({1}, g.dtype());
      return {scatter_add(base, axis, index, g).reshape(x.shape()), Tensor()};
    },
});

const OpDef& kMaskedFill = define_op({
    .name = "masked_fill",
    .flags = kElementwise,
    .arity = 2,
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      return {broadcast_shapes(in[0].shape(), in[1].shape(), "masked_fill"), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {sum_to_shape(masked_fill(c.cotangent, c.inputs[1], 0.0), c.inputs[0].shape()),
              Tensor()};
    },
});

// Checks torch.gather/scatter's shape rules; returns the normalised axis.
int64_t check_gather_shapes(const char* op, const Tensor& x, int64_t axis, const Tensor& index,
                            const Tensor* src) {
  int64_t ax = normalize_axis(axis, x.ndim(), op);
  if (index.ndim() != x.ndim())
    fail_shape(op, "index of shape " + shape_str(index.shape()) +
                       " must have as many dims as the input of shape " + shape_str(x.shape()));
  for (int64_t d = 0; d < x.ndim(); ++d) {
    auto du = std::size_t(d);
    if (d != ax && index.shape()[du] > x.shape()[du])
      fail_shape(op, "index of shape " + shape_str(index.shape()) +
                         " is larger than the input of shape " + shape_str(x.shape()) + " in dim " +
                         std::to_string(d));
    if (src && (src->ndim() != x.ndim() || index.shape()[du] > src->shape()[du]))
      fail_shape(op, "index of shape " + shape_str(index.shape()) +
                         " does not fit the source of shape " + shape_str(src->shape()));
  }
  return ax;
}

Tensor scatter_impl(const OpDef& op, const Tensor& x, int64_t axis, const Tensor& index,
                    const Tensor& src) {
  const char* name = op.name.c_str();
  if (!x.defined() || !src.defined()) throw ValueError("[" + op.name + "] an operand is undefined");
  Tensor idx = index_as_int64(index, name);
  int64_t ax = check_gather_shapes(name, x, axis, idx, &src);
  return apply(op, {x, idx, src.astype(x.dtype())}, {{"axis", ax}});
}

}  // namespace

Tensor gather(const Tensor& x, int64_t axis, const Tensor& index) {
  if (!x.defined()) throw ValueError("[gather] the input is undefined");
  Tensor idx = index_as_int64(index, "gather");
  int64_t ax = check_gather_shapes("gather", x, axis, idx, nullptr);
  return apply(kGather, {x, idx}, {{"axis", ax}});
}

Tensor scatter(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src) {
  return scatter_impl(kScatter, x, axis, index, src);
}

Tensor scatter_add(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src) {
  return scatter_impl(kScatterAdd, x, axis, index, src);
}

Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index) {
  if (!x.defined()) throw ValueError("[index_select] the input is undefined");
  Tensor idx = index_as_int64(index, "index_select");
  int64_t ax = normalize_axis(axis, x.ndim(), "index_select");
  if (idx.ndim() > 1)
    fail_shape("index_select", "index must be 0-d or 1-d, got shape " + shape_str(idx.shape()));
  if (x.ndim() == 0 && idx.numel() != 1)
    fail_shape("index_select", "a 0-d input takes one index, got shape " + shape_str(idx.shape()));
  return apply(kIndexSelect, {x, idx}, {{"axis", ax}});
}

Tensor take_along_axis(const Tensor& x, const Tensor& index, int64_t axis) {
  if (!x.defined()) throw ValueError("[take_along_axis] the input is undefined");
  Tensor idx = index_as_int64(index, "take_along_axis");
  int64_t ax = normalize_axis(axis, x.ndim(), "take_along_axis");
  if (idx.ndim() != x.ndim())
    fail_shape("take_along_axis", "index of shape " + shape_str(idx.shape()) +
                                      " must have as many dims as the input of shape " +
                                      shape_str(x.shape()));
  Shape xs = x.shape(), is = idx.shape();
  for (int64_t d = 0; d < x.ndim(); ++d) {
    auto du = std::size_t(d);
    if (d == ax) continue;
    if (xs[du] != is[du] && xs[du] != 1 && is[du] != 1)
      fail_shape("take_along_axis", "index of shape " + shape_str(idx.shape()) +
                                        " does not broadcast with the input of shape " +
                                        shape_str(x.shape()) + " in dim " + std::to_string(d));
    xs[du] = is[du] = std::max(xs[du], is[du]);
  }
  return gather(x.expand(xs), ax, idx.expand(is));
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  if (!x.defined() || !mask.defined()) throw ValueError("[masked_fill] an operand is undefined");
  if (mask.dtype() != bool_)
    throw DTypeError("[masked_fill] the mask must be bool, got " + dtype_str(mask.dtype()));
  return apply(kMaskedFill, {x, mask}, {{"value", value}});
}

}  // namespace nabla
