// Tensor's metadata and access; its ops live with their families in src/ops/.
#include "nabla/tensor.h"

#include <cstring>

#include "ir/node.h"
#include "ir/op.h"

namespace nabla {
namespace {
const Node& checked(const std::shared_ptr<Node>& n) {
  if (!n) throw ValueError("[tensor] the tensor is undefined (default-constructed)");
  return *n;
}
// Reading values of a symbolic tensor is what data-dependent control flow does while a
// graph is built or traced (nb::jit): say so, since the values only exist when it runs.
[[noreturn]] void throw_symbolic_access(const Node& n) {
  std::string what = n.placeholder ? "placeholder '" + n.name + "'" : "the tensor";
  throw ValueError(
      "[data_ptr] " + what + " is symbolic (shape " + shape_str(n.shape) +
      ") and has no values: reading values (item, to_vector, data_ptr) while building a "
      "graph or tracing with nb::jit is data-dependent control flow, which a traced "
      "graph cannot capture; compute on the values after calling the compiled function");
}
}  // namespace

bool Tensor::is_concrete() const { return checked(node_).storage != nullptr; }
const Shape& Tensor::shape() const { return checked(node_).shape; }
const Strides& Tensor::strides() const { return checked(node_).strides; }
int64_t Tensor::offset() const { return checked(node_).offset; }
int64_t Tensor::ndim() const { return int64_t(shape().size()); }
int64_t Tensor::numel() const { return numel_of(shape()); }
int64_t Tensor::size(int64_t dim) const {
  return shape()[std::size_t(normalize_axis(dim, ndim(), "size"))];
}
DType Tensor::dtype() const { return checked(node_).dtype; }
Device Tensor::device() const { return checked(node_).device; }
bool Tensor::is_contiguous() const { return checked(node_).is_contiguous(); }
bool Tensor::shares_storage(const Tensor& other) const {
  return is_concrete() && other.is_concrete() && node_->storage == other.node_->storage;
}
int64_t Tensor::version() const {
  const Node& n = checked(node_);
  return n.storage ? int64_t(n.storage->version.load()) : 0;
}

void Tensor::check_access(DType requested) const {
  const Node& n = checked(node_);
  if (!n.storage) throw_symbolic_access(n);
  if (n.device.type != DeviceType::cpu)
    throw ValueError("[data_ptr] the tensor lives on " + n.device.str());
  if (requested != n.dtype)
    throw DTypeError("[data_ptr] asked for " + std::string(dtype_name(requested)) +
                     " but the tensor holds " + std::string(dtype_name(n.dtype)));
}

void* Tensor::raw_data() const {
  const Node& n = checked(node_);
  if (!n.storage) throw_symbolic_access(n);
  return n.data();
}

double Tensor::item_as_double() const {
  if (numel() != 1)
    throw ValueError("[item] needs a tensor of one element, got shape " + shape_str(shape()));
  return to_vector<double>()[0];
}

int64_t Tensor::item_as_int64() const {
  if (numel() != 1)
    throw ValueError("[item] needs a tensor of one element, got shape " + shape_str(shape()));
  return to_vector<int64_t>()[0];
}

}  // namespace nabla
