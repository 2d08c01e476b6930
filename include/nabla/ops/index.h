// Indexing by tensors of indices, masks and sorting. Index tensors are int64 (int32 is
// accepted and converted); an index may be negative, counting from the end of its dim, and
// an index outside [-size, size) throws IndexError. Axes may be negative.
#pragma once
#include <cstdint>
#include <utility>

#include "nabla/tensor.h"

namespace nabla {

// out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (torch.gather): index has x's number of
// dims, no dim larger than x's except along `axis`; the output has index's shape.
Tensor gather(const Tensor& x, int64_t axis, const Tensor& index);
// A copy of x with out[index[i][j][k]][j][k] = src[i][j][k] for axis 0 (torch.scatter, out of
// place). src's dtype converts to x's. Where indices repeat, the last write wins.
Tensor scatter(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src);
// Like scatter, but adds into the copy: out[index[i][j][k]][j][k] += src[i][j][k].
Tensor scatter_add(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src);
// The entries of x at the 1-d `index` along `axis` (torch.index_select).
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index);
// NumPy's take_along_axis: gather where index and x broadcast in the dims other than `axis`.
Tensor take_along_axis(const Tensor& x, const Tensor& index, int64_t axis);
// x where mask (bool, broadcasting with x) is false, `value` where it is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// Sorted values along `axis` (stable; NaN sorts as the largest value).
Tensor sort(const Tensor& x, int64_t axis = -1, bool descending = false);
// int64 indices that sort x along `axis` (stable: equal values keep their order).
Tensor argsort(const Tensor& x, int64_t axis = -1, bool descending = false);

struct TopK {
  Tensor values;
  Tensor indices;  // int64
};
// The k largest (or smallest) entries along `axis`, with their indices. Ties pick the lower
// index first; the result is ordered (best first) whether or not `sorted` is asked for.
TopK topk(const Tensor& x, int64_t k, int64_t axis = -1, bool largest = true, bool sorted = true);

}  // namespace nabla
