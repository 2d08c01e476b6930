// The reverse-mode engine behind Tensor::backward and the functional transforms.
#pragma once
#include <vector>

#include "nabla/tensor.h"

namespace nabla::autograd_detail {

// Propagates `seeds` (one per root, same shapes) back through the recorded graph.
// With `capture` empty, gradients accumulate into leaves' .grad() (backward()). Otherwise
// the summed gradient reaching each captured tensor is returned in order (undefined where
// none arrives) and no .grad() is touched (torch.autograd.grad).
std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds,
                                 bool retain_graph, bool create_graph,
                                 const std::vector<Tensor>& capture);

}  // namespace nabla::autograd_detail
