#include "ops/reduce_common.h"

#include <algorithm>

namespace nabla {

Shape normalize_axes(const Shape& axes, int64_t ndim, const char* op) {
  Shape out;
  if (axes.empty()) {
    for (int64_t i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (int64_t a : axes) out.push_back(ndim == 0 ? (normalize_axis(a, 0, op), 0) : normalize_axis(a, ndim, op));
  std::sort(out.begin(), out.end());
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i] == out[i - 1])
      throw IndexError("[" + std::string(op) + "] axis " + std::to_string(out[i]) + " appears twice");
  if (ndim == 0) out.clear();
  return out;
}

std::vector<bool> reduced_mask(int64_t ndim, const Shape& axes) {
  std::vector<bool> m(std::size_t(ndim), false);
  for (int64_t a : axes) m[std::size_t(a)] = true;
  return m;
}

Shape reduced_shape(const Shape& shape, const Shape& axes, bool keepdims) {
  std::vector<bool> m = reduced_mask(int64_t(shape.size()), axes);
  Shape out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (!m[i]) out.push_back(shape[i]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

int64_t reduced_count(const Shape& shape, const Shape& axes) {
  int64_t n = 1;
  for (int64_t a : axes) n *= shape[std::size_t(a)];
  return n;
}

Tensor unreduce(const Tensor& g, const Shape& in_shape, const Shape& axes, bool keepdims) {
  if (keepdims) return g;
  return g.reshape(reduced_shape(in_shape, axes, true));
}

}  // namespace nabla
