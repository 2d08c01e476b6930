// Making tensors: from C++ data, filled, ranges.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// Copies `values` into a tensor of `shape` (default: 1-d); the dtype comes from T.
template <class T>
Tensor tensor(const std::vector<T>& values, const Shape& shape);
template <class T>
Tensor tensor(const std::vector<T>& values) {
  return tensor(values, Shape{int64_t(values.size())});
}
template <class T>
Tensor tensor(std::initializer_list<T> values) {
  return tensor(std::vector<T>(values));
}
// Views memory owned elsewhere without copying; `release` runs when the last view dies.
Tensor from_blob(void* data, const Shape& shape, DType dtype,
                 std::function<void(void*)> release = nullptr, const Strides& strides = {});

Tensor empty(const Shape& shape, DType dtype = float32);
Tensor zeros(const Shape& shape, DType dtype = float32);
Tensor ones(const Shape& shape, DType dtype = float32);
Tensor full(const Shape& shape, double value, DType dtype = float32);
// Shaped like t. On a symbolic t with dynamic (-1) dims they are graph nodes sized by each
// call (empty_like then gives zeros).
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// [start, end) by step; int64 unless a dtype is given.
Tensor arange(double start, double end, double step = 1, DType dtype = int64);
Tensor arange(int64_t end, DType dtype = int64);
// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, DType dtype = float32);
Tensor eye(int64_t n, int64_t m = -1, DType dtype = float32);

}  // namespace nabla
