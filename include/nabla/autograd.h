// Reverse-mode automatic differentiation on the dynamic graph.
#pragma once
#include "nabla/tensor.h"

namespace nabla {

// While alive, ops do not record the graph (like torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// While alive, ops record the graph again (inside a NoGradGuard, say).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

bool is_grad_enabled();

}  // namespace nabla
