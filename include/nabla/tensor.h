// Tensor: a handle to one node of the graph (DESIGN.md, "The one idea"). A concrete tensor
// holds a strided view of shared storage; a symbolic one (a placeholder, or an op on one)
// holds only its shape and dtype until a compiled Function gives it values.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/shape.h"

namespace nabla {

struct Node;
class Tensor;

template <class T>
concept Arithmetic = std::is_arithmetic_v<T>;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<Node> node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  Node* node() const { return node_.get(); }
  const std::shared_ptr<Node>& node_ptr() const { return node_; }
  // True when this tensor has values (false for placeholders and ops on them).
  bool is_concrete() const;

  // --- metadata
  const Shape& shape() const;
  const Strides& strides() const;  // in elements
  int64_t offset() const;          // storage offset, in elements
  int64_t ndim() const;
  int64_t numel() const;
  int64_t size(int64_t dim) const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  // True when both tensors view the same storage block.
  bool shares_storage(const Tensor& other) const;

  // --- element access (CPU). The requested T must match dtype(): a DTypeError otherwise.
  template <class T> T* data_ptr();
  template <class T> const T* data_ptr() const;
  template <class T> T item() const;             // one-element tensors; converts to T
  template <class T> std::vector<T> to_vector() const;  // any dtype, converted to T
  void* raw_data() const;                         // address of element 0

  // --- conversions and copies
  Tensor astype(DType dtype) const;
  Tensor contiguous() const;  // this tensor when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy

  // --- views (no copy; reshape/view copy only when strides forbid a view)
  Tensor reshape(const Shape& shape) const;  // one dim may be -1
  Tensor view(const Shape& shape) const;     // ShapeError when a view is impossible
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a matrix
  Tensor permute(const Shape& dims) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // drops dim
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a dim
  Tensor broadcast_to(const Shape& shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1) const;
  Tensor operator[](int64_t index) const { return select(0, index); }

  // --- reductions as methods (see ops.h for the free functions)
  Tensor sum() const;
  Tensor mean() const;
  Tensor max() const;
  Tensor min() const;

  // --- in-place arithmetic; bumps the version counter
  Tensor& add_(const Tensor& other);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& copy_(const Tensor& src);   // broadcasts src into this, converting dtype
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  int64_t version() const;

  // --- autograd (src/autograd)
  Tensor& requires_grad_(bool enabled = true);
  bool requires_grad() const;
  bool is_leaf() const;
  Tensor grad() const;  // undefined when no gradient was accumulated
  void set_grad(const Tensor& g);
  void zero_grad();
  // Scalar outputs need no gradient; others take one of the output's shape.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  Tensor detach() const;
  // The hook sees each gradient flowing into this tensor and may return a replacement.
  void register_hook(std::function<Tensor(const Tensor&)> hook);

  // --- printing, NumPy-like and summarised for large tensors
  std::string to_string() const;
  friend std::ostream& operator<<(std::ostream& os, const Tensor& t);

 private:
  void check_access(DType requested) const;
  double item_as_double() const;
  int64_t item_as_int64() const;
  std::shared_ptr<Node> node_;
};

// A 0-d tensor from a C++ number. Weak scalars (the default) take part in type promotion
// like Python numbers: `x * 2` keeps x's dtype. The dtype is float32 for floating values,
// int64 for integers, bool for bool; floating literals are stored as float64 so no precision
// is lost before they are cast to the other operand's dtype.
Tensor scalar(double value, DType dtype, bool weak = false);
template <Arithmetic T>
Tensor weak_scalar(T value) {
  if constexpr (std::is_same_v<T, bool>) return scalar(value, bool_, true);
  else if constexpr (std::is_integral_v<T>) return scalar(double(value), int64, true);
  else return scalar(double(value), float64, true);  // weak: the width never propagates
}

// --- templates
template <class T>
T* Tensor::data_ptr() {
  check_access(dtype_of_v<T>);
  return static_cast<T*>(raw_data());
}
template <class T>
const T* Tensor::data_ptr() const {
  check_access(dtype_of_v<T>);
  return static_cast<const T*>(raw_data());
}
template <class T>
T Tensor::item() const {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return T(item_as_int64());
  else return T(item_as_double());
}
template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = astype(dtype_of_v<T>).contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}

}  // namespace nabla
