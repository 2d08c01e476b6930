// A node of the one graph. Concrete nodes carry a strided view of storage; symbolic nodes
// only shape and dtype. The producing op, its attributes and inputs are kept when autograd
// or a symbolic graph needs them.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/storage.h"
#include "ir/attrs.h"
#include "nabla/tensor.h"

namespace nabla {

struct OpDef;
struct VjpContext;

struct AutogradMeta {
  Tensor grad;
  std::vector<std::function<Tensor(const Tensor&)>> hooks;
};

struct Node {
  // value
  std::shared_ptr<Storage> storage;  // null for symbolic nodes
  int64_t offset = 0;
  Shape shape;
  Strides strides;
  DType dtype = float32;
  Device device;
  bool weak = false;  // a C++ literal taking part in promotion like a Python number

  // graph
  const OpDef* op = nullptr;  // null for leaves (data) and placeholders
  Attrs attrs;
  std::vector<Tensor> inputs;
  std::vector<uint32_t> input_versions;  // storage versions when inputs were saved
  std::string name;                      // placeholders and constants
  bool placeholder = false;
  // Made by nb::constant: a frozen value the compiler may fold and merge. Other concrete
  // tensors a graph captures are read afresh at each call (they may change in place).
  bool constant = false;

  // autograd
  bool requires_grad = false;
  std::unique_ptr<AutogradMeta> grad_meta;
  // Set by custom functions and checkpoints: used instead of op->vjp.
  std::function<std::vector<Tensor>(const VjpContext&)> custom_vjp;

  int64_t numel() const { return numel_of(shape); }
  bool is_contiguous() const;
  char* data() const {
    return static_cast<char*>(storage->data) + offset * int64_t(itemsize(dtype));
  }
  template <class T>
  T* ptr() const {
    return reinterpret_cast<T*>(data());
  }
};

// A contiguous, uninitialised concrete tensor.
Tensor make_empty(const Shape& shape, DType dtype, Device device = kCPU);

}  // namespace nabla
