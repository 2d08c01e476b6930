// Automatic differentiation: reverse mode on the dynamic graph, torch.autograd-style
// gradients, JAX-style functional transforms, custom functions, checkpointing, anomaly mode.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

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

// Anomaly mode: backward checks every gradient it computes and throws an AutogradError
// naming the op whose backward produced NaN or Inf. Slow; for debugging.
void set_detect_anomaly(bool enabled);
bool is_anomaly_enabled();

struct GradOptions {
  bool retain_graph = false;
  bool create_graph = false;  // record the backward pass too, for gradients of gradients
  bool allow_unused = false;  // an input the outputs do not depend on gets an undefined tensor
};

// Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into
// .grad() (torch.autograd.grad). Scalar outputs need no grad_outputs. On symbolic tensors
// (placeholders) the result is graph nodes: symbolic gradients (the graph is then always kept).
std::vector<Tensor> gradients(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& grad_outputs = {}, GradOptions options = {});
std::vector<Tensor> gradients(const Tensor& output, const std::vector<Tensor>& inputs,
                              const Tensor& grad_output = Tensor(), GradOptions options = {});

// Sums a gradient over the dims broadcasting added or stretched, back to `shape`: what a
// custom backward needs when its forward broadcast an input.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// --- functional transforms (JAX-style). They compose: grad(grad(f)) is the second derivative.
using UnaryFn = std::function<Tensor(const Tensor&)>;
using MultiFn = std::function<Tensor(const std::vector<Tensor>&)>;

// x -> df/dx for a scalar-valued f.
UnaryFn grad(UnaryFn f);
// xs -> d f / d xs[argnums[i]] for each listed argument.
std::function<std::vector<Tensor>(const std::vector<Tensor>&)> grad(MultiFn f, std::vector<int> argnums);
// x -> (f(x), df/dx).
std::function<std::pair<Tensor, Tensor>(const Tensor&)> value_and_grad(UnaryFn f);
// (f(primals), cotangent^T J): one gradient per primal.
std::pair<Tensor, std::vector<Tensor>> vjp(const MultiFn& f, const std::vector<Tensor>& primals,
                                           const Tensor& cotangent);
// (f(primals), J tangents): forward mode by the double-VJP trick (the VJP is linear in its
// cotangent, so differentiating it once more gives the JVP).
std::pair<Tensor, Tensor> jvp(const MultiFn& f, const std::vector<Tensor>& primals,
                              const std::vector<Tensor>& tangents);
// Jacobian of f at x, shape f(x).shape + x.shape; one VJP per output element (small f).
Tensor jacobian(const UnaryFn& f, const Tensor& x);
// Hessian of a scalar f at x, shape x.shape + x.shape.
Tensor hessian(const UnaryFn& f, const Tensor& x);

// A differentiable function with a hand-written backward (torch.autograd.Function):
// forward runs without recording; backward gets the inputs, the output and the output's
// gradient and returns one gradient per input (undefined for none), written with ops.
struct CustomFunction {
  std::string name = "custom";
  std::function<Tensor(const std::vector<Tensor>& inputs)> forward;
  std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs, const Tensor& output,
                                    const Tensor& grad_output)>
      backward;
  Tensor operator()(const std::vector<Tensor>& inputs) const;
};

// Runs fn without keeping its activations; backward recomputes them (gradient
// checkpointing). fn must be deterministic (random ops draw new numbers when recomputed).
Tensor checkpoint(const MultiFn& fn, const std::vector<Tensor>& inputs);

}  // namespace nabla
