// astype, copies, fills and in-place updates; creation functions.
#include <cstring>

#include "backend/cpu/assign.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/shape_like.h"
#include "ops/common.h"

namespace nabla {
namespace {

const OpDef& kAsType = define_op({
    .name = "astype",
    .flags = kElementwise,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {in[0].shape(), a.get<DType>("dtype")};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      if (!is_floating(c.inputs[0].dtype())) return {Tensor()};
      return {c.cotangent.astype(c.inputs[0].dtype())};
    },
});

const OpDef& kCopy = define_op({
    .name = "copy",
    .flags = kElementwise,
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> { return {c.cotangent}; },
});

const OpDef& kFill = define_op({
    .name = "fill",
    .flags = kCreation,
    .arity = 0,
    .infer = [](std::span<const Tensor>, const Attrs& a) -> OutputMeta {
      return {a.get<Shape>("shape"), a.get<DType>("dtype")};
    },
    .dispatch_input = -1,
});

void check_shape(const Shape& shape, const char* op) {
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("[" + std::string(op) + "] negative dimension in " + shape_str(shape));
}

void check_writable(const Tensor& self, const char* op) {
  if (!self.is_concrete()) throw ValueError("[" + std::string(op) + "] cannot write into a symbolic tensor");
  if (self.requires_grad() && grad_mode_enabled())
    throw AutogradError("[" + std::string(op) +
                        "] in-place update of a tensor that requires grad; use the out-of-place "
                        "op or run it under NoGradGuard");
}

}  // namespace

Tensor Tensor::astype(DType dtype) const {
  if (defined() && this->dtype() == dtype) return *this;
  return apply(kAsType, {*this}, {{"dtype", dtype}});
}

Tensor Tensor::contiguous() const {
  if (is_concrete() && is_contiguous()) return *this;
  return apply(kCopy, {*this});
}

Tensor Tensor::clone() const { return apply(kCopy, {*this}); }

Tensor full(const Shape& shape, double value, DType dtype) {
  check_shape(shape, "full");
  return apply(kFill, {}, {{"shape", shape}, {"value", value}, {"dtype", dtype}});
}
Tensor empty(const Shape& shape, DType dtype) {
  check_shape(shape, "empty");
  return make_empty(shape, dtype);
}
Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor full_like(const Tensor& t, double value) {
  // A symbolic tensor's dynamic (-1) dims are sized when its graph runs: fill to that size.
  if (t.defined() && is_dynamic(t.shape()))
    return broadcast_like(scalar(value, t.dtype()), t).contiguous();
  return full(t.shape(), value, t.dtype());
}
Tensor empty_like(const Tensor& t) {
  return t.defined() && is_dynamic(t.shape()) ? full_like(t, 0) : empty(t.shape(), t.dtype());
}
Tensor zeros_like(const Tensor& t) { return full_like(t, 0); }
Tensor ones_like(const Tensor& t) { return full_like(t, 1); }

Tensor scalar(double value, DType dtype, bool weak) {
  Tensor t = full({}, value, dtype);
  t.node()->weak = weak;
  return t;
}

template <class T>
Tensor tensor(const std::vector<T>& values, const Shape& shape) {
  if (numel_of(shape) != int64_t(values.size()))
    throw ShapeError("[tensor] " + std::to_string(values.size()) + " values cannot fill shape " +
                     shape_str(shape));
  check_shape(shape, "tensor");
  Tensor t = make_empty(shape, dtype_of_v<T>);
  T* p = static_cast<T*>(t.raw_data());
  for (std::size_t i = 0; i < values.size(); ++i) p[i] = values[i];  // vector<bool> has no data()
  return t;
}
template Tensor tensor(const std::vector<bool>&, const Shape&);
template Tensor tensor(const std::vector<uint8_t>&, const Shape&);
template Tensor tensor(const std::vector<int8_t>&, const Shape&);
template Tensor tensor(const std::vector<int32_t>&, const Shape&);
template Tensor tensor(const std::vector<int64_t>&, const Shape&);
template Tensor tensor(const std::vector<half>&, const Shape&);
template Tensor tensor(const std::vector<bfloat16_t>&, const Shape&);
template Tensor tensor(const std::vector<float>&, const Shape&);
template Tensor tensor(const std::vector<double>&, const Shape&);

Tensor from_blob(void* data, const Shape& shape, DType dtype, std::function<void(void*)> release,
                 const Strides& strides) {
  check_shape(shape, "from_blob");
  if (!data && numel_of(shape) > 0) throw ValueError("[from_blob] data is null");
  if (!strides.empty() && strides.size() != shape.size())
    throw ShapeError("[from_blob] " + std::to_string(strides.size()) + " strides for shape " +
                     shape_str(shape));
  auto n = std::make_shared<Node>();
  n->shape = shape;
  n->strides = strides.empty() ? contiguous_strides(shape) : strides;
  n->dtype = dtype;
  int64_t extent = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) extent += (shape[i] - 1) * n->strides[i];
  n->storage = wrap_storage(data, std::size_t(std::max<int64_t>(extent, 0)) * itemsize(dtype), kCPU,
                            std::move(release));
  return Tensor(std::move(n));
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_writable(*this, "copy_");
  Tensor s = src.astype(dtype());
  Shape b = broadcast_shapes(s.shape(), shape(), "copy_");
  if (b != shape())
    throw ShapeError("[copy_] cannot write shape " + shape_str(src.shape()) + " into " +
                     shape_str(shape()));
  if (s.shares_storage(*this)) s = s.clone();  // overlapping reads and writes
  cpu::assign(*node(), *s.node());
  node()->storage->version++;
  return *this;
}

Tensor& Tensor::fill_(double value) { return copy_(scalar(value, dtype())); }

Tensor& Tensor::add_(const Tensor& o) { return copy_(*this + o); }
Tensor& Tensor::sub_(const Tensor& o) { return copy_(*this - o); }
Tensor& Tensor::mul_(const Tensor& o) { return copy_(*this * o); }
Tensor& Tensor::div_(const Tensor& o) { return copy_(*this / o); }

}  // namespace nabla
