// Joining, splitting and rearranging tensors. Axes may be negative (counted from the end).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// Joins tensors along an existing axis; the other dims must match. Dtypes promote as in
// arithmetic (torch.cat).
Tensor concat(const std::vector<Tensor>& tensors, int64_t axis = 0);
// Joins same-shaped tensors along a new axis (torch.stack).
Tensor stack(const std::vector<Tensor>& tensors, int64_t axis = 0);
// Views of consecutive pieces along `axis`: pieces of `section` elements (the last may be
// smaller), or pieces of the given sizes, which must sum to the axis length (torch.split).
std::vector<Tensor> split(const Tensor& x, int64_t section, int64_t axis = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis = 0);
// At most n views of equal size ceil(len / n) along `axis`, the last possibly smaller
// (torch.chunk).
std::vector<Tensor> chunk(const Tensor& x, int64_t n, int64_t axis = 0);

enum class PadMode { constant, reflect, replicate };
// Pads with pairs (before, after) listed from the last dim backwards, as torch.nn.functional.pad:
// {1, 2} pads the last dim by 1 before and 2 after; {1, 2, 3, 4} also pads the dim before it.
// reflect mirrors without repeating the edge (pads must be smaller than the dim); replicate
// repeats the edge. Pads are non-negative.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode = PadMode::constant,
           double value = 0);

// Reverses the order of elements along each of `axes` (a copy, as torch.flip).
Tensor flip(const Tensor& x, const std::vector<int64_t>& axes);
// Rotates elements by shifts[i] along axes[i]; with no axes, rotates the flattened tensor.
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts,
            const std::vector<int64_t>& axes = {});
// Repeats the whole tensor repeats[i] times along dim i (torch.Tensor.repeat): at least
// x.ndim() repeats; extra leading repeats add new dims.
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
// NumPy's tile: like repeat, but fewer reps than dims repeat the trailing dims.
Tensor tile(const Tensor& x, const std::vector<int64_t>& reps);
// Lower (upper) triangle of the last two dims: keeps elements with col - row <= k (>= k).
Tensor tril(const Tensor& x, int64_t k = 0);
Tensor triu(const Tensor& x, int64_t k = 0);

}  // namespace nabla
