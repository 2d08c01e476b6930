// Pre-packed weights of a compiled conv or matmul node (passes/prepack_weights.cpp): the weight
// in the layout oneDNN's primitive wants, kept between calls and remade when it is stale.
#pragma once
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "backend/cpu/prepack.h"
#include "compile/graph.h"

namespace nabla::compile_detail {

// A packed copy is reused only for the same storage block (held weakly: a freed block's address
// may come back for another tensor, but a dead weak_ptr never matches), the same version of it
// (in-place ops, optimizer steps and load_state_dict bump it), the same view (offset, shape,
// strides) and a layout the call's primitive accepts. Writes through data_ptr() do not bump the
// version and are not seen. Calls may run concurrently.
class PrepackedWeights {
 public:
  std::shared_ptr<const cpu::PackedWeight> get(const Node& weight, const cpu::PackedKernel& kernel);
  // How many times a weight was packed so far (tests).
  std::size_t packs() const { return packs_.load(); }

 private:
  struct Entry {
    std::weak_ptr<Storage> storage;
    uint32_t version = 0;
    int64_t offset = 0;
    Shape shape;
    Strides strides;
    std::shared_ptr<const cpu::PackedWeight> packed;
  };
  std::mutex mu_;
  std::vector<Entry> entries_;  // one per layout in use (batch sizes may want different ones)
  std::atomic<std::size_t> packs_{0};
};

// Runs op node `n` (its `prepacked` set) on `in` with its weight pre-packed, writing the result
// at `offset` bytes into `arena` when that is given. Autograd records the node exactly as the
// ordinary dispatch would (the backward reads the plain weight). Undefined when the call's
// inputs have no pre-packed kernel (dtype, device, layout): the caller runs the node as usual.
Tensor run_prepacked(const GraphNode& n, std::span<const Tensor> in,
                     const std::shared_ptr<Storage>& arena, int64_t offset);

}  // namespace nabla::compile_detail
