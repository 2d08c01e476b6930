// Kernels that take their weight already in the layout oneDNN's primitive wants (blocked, such
// as OIhw16i16o for a convolution or BA16a64b for a product), so a compiled plan reorders a
// weight once instead of at every call: conv2d and conv3d forward, and matmul by a 2-d weight
// (x (..., M, K) times w (K, N)), float32 on the CPU. The caller keeps the packed weights and
// decides when they are stale (src/compile/prepacked.cpp).
#pragma once
#include <memory>
#include <span>
#include <string_view>

#include "ir/node.h"

namespace nabla::cpu {

// A weight in a primitive's layout; what it holds is the backend's business.
class PackedWeight {
 public:
  virtual ~PackedWeight() = default;
};

// One op on one set of shapes and attributes, with its primitive made (and cached).
class PackedKernel {
 public:
  virtual ~PackedKernel() = default;
  // Whether `w` is in the layout this primitive wants (a weight packed for another batch size
  // may be in another one).
  virtual bool accepts(const PackedWeight& w) const = 0;
  // in[1] (any strides) reordered into the primitive's layout.
  virtual std::shared_ptr<const PackedWeight> pack(const Node& weight) const = 0;
  // The op on `in` with `w` standing for in[1]; out is contiguous and of the op's shape.
  virtual void run(const PackedWeight& w, std::span<const Node* const> in, Node& out) const = 0;
};

// The kernel for `op` ("conv2d", "conv3d", "matmul") on these inputs (x, weight[, bias]) and
// attributes, or null when there is none: another dtype or device, empty tensors, a weight that
// is not 2-d for matmul, an input x whose rows are not stacked contiguously or is one row.
std::shared_ptr<const PackedKernel> packed_kernel(std::string_view op,
                                                  std::span<const Node* const> in,
                                                  const Attrs& attrs);

}  // namespace nabla::cpu
