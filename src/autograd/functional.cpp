// torch.autograd.grad-style gradients() and the JAX-style transforms built on it.
#include <algorithm>

#include "autograd/engine.h"
#include "ops/common.h"
#include "nabla/autograd.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/reduce.h"

namespace nabla {
namespace {

// The tensor to differentiate with respect to: x itself when an outer transform already
// tracks it (so results stay connected for higher order), else a fresh tracked leaf.
Tensor track(const Tensor& x) {
  if (!x.defined()) throw ValueError("[grad] an input is undefined");
  if (x.requires_grad() || !x.is_concrete()) return x;
  if (!is_floating(x.dtype()))
    throw AutogradError("[grad] cannot differentiate with respect to a " +
                        std::string(dtype_name(x.dtype())) + " tensor; only floating dtypes have gradients");
  return x.detach().requires_grad_();
}

// vjp and jvp take any primals; only floating ones are differentiated.
Tensor track_floating(const Tensor& x) {
  if (!x.defined()) throw ValueError("[grad] an input is undefined");
  return is_floating(x.dtype()) ? track(x) : x;
}

bool any_tracked_outside(const std::vector<Tensor>& xs) {
  for (const Tensor& x : xs)
    if (x.requires_grad()) return true;
  return false;
}

Tensor zeros_if_undefined(const Tensor& g, const Tensor& like) { return g.defined() ? g : zeros_like(like); }

}  // namespace

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  Shape b = broadcast_shapes(shape, grad.shape(), "sum_to");
  if (b != grad.shape())
    throw ShapeError("[sum_to] a gradient of shape " + shape_str(grad.shape()) + " cannot be reduced to " +
                     shape_str(shape));
  return sum_to_shape(grad, shape);
}

std::vector<Tensor> gradients(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& grad_outputs, GradOptions options) {
  if (outputs.empty()) throw ValueError("[gradients] no outputs given");
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw ValueError("[gradients] " + std::to_string(grad_outputs.size()) + " grad_outputs for " +
                     std::to_string(outputs.size()) + " outputs");
  std::vector<Tensor> seeds;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& y = outputs[i];
    Tensor s = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!s.defined()) {
      if (y.numel() != 1)
        throw AutogradError("[gradients] output " + std::to_string(i) + " of shape " + shape_str(y.shape()) +
                            " is not a scalar: pass its grad_output");
      s = ones_like(y);
    } else if (s.shape() != y.shape()) {
      throw ShapeError("[gradients] grad_output of shape " + shape_str(s.shape()) + " for output of shape " +
                       shape_str(y.shape()));
    }
    seeds.push_back(s.astype(y.dtype()));
  }
  for (const Tensor& x : inputs)
    if (!x.defined()) throw ValueError("[gradients] an input is undefined");
  // Symbolic gradients keep the graph: the eager parts they pass through (a Linear's weight.t())
  // are replayed by the compiled Function, which needs their history.
  const bool symbolic = std::any_of(outputs.begin(), outputs.end(), [](const Tensor& y) { return !y.is_concrete(); });
  std::vector<Tensor> g = autograd_detail::run_backward(
      outputs, seeds, options.retain_graph || options.create_graph || symbolic, options.create_graph, inputs);
  for (std::size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined() && !options.allow_unused)
      throw AutogradError("[gradients] input " + std::to_string(i) +
                          " is not used by the outputs; pass allow_unused=true to get an undefined tensor");
  return g;
}

std::vector<Tensor> gradients(const Tensor& output, const std::vector<Tensor>& inputs, const Tensor& grad_output,
                              GradOptions options) {
  return gradients(std::vector<Tensor>{output}, inputs,
                   grad_output.defined() ? std::vector<Tensor>{grad_output} : std::vector<Tensor>{}, options);
}

UnaryFn grad(UnaryFn f) {
  return [f](const Tensor& x) {
    EnableGradGuard on;
    Tensor xi = track(x);
    Tensor y = f(xi);
    if (!y.defined() || y.numel() != 1)
      throw AutogradError("[grad] f must return a scalar, got shape " + (y.defined() ? shape_str(y.shape()) : "undefined"));
    if (!y.requires_grad()) return zeros_like(x);
    return zeros_if_undefined(
        gradients(y, {xi}, Tensor(), {.create_graph = x.requires_grad(), .allow_unused = true})[0], x);
  };
}

std::function<std::vector<Tensor>(const std::vector<Tensor>&)> grad(MultiFn f, std::vector<int> argnums) {
  return [f, argnums](const std::vector<Tensor>& xs) {
    EnableGradGuard on;
    std::vector<Tensor> args = xs, wrt;
    for (int a : argnums) {
      if (a < 0 || std::size_t(a) >= xs.size())
        throw IndexError("[grad] argnum " + std::to_string(a) + " is out of range for " + std::to_string(xs.size()) +
                         " arguments");
      args[std::size_t(a)] = track(xs[std::size_t(a)]);
      wrt.push_back(args[std::size_t(a)]);
    }
    Tensor y = f(args);
    if (!y.defined() || y.numel() != 1) throw AutogradError("[grad] f must return a scalar");
    std::vector<Tensor> g(wrt.size());
    if (y.requires_grad())
      g = gradients(y, wrt, Tensor(), {.create_graph = any_tracked_outside(xs), .allow_unused = true});
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = zeros_if_undefined(g[i], wrt[i]);
    return g;
  };
}

std::function<std::pair<Tensor, Tensor>(const Tensor&)> value_and_grad(UnaryFn f) {
  return [f](const Tensor& x) {
    EnableGradGuard on;
    Tensor xi = track(x);
    Tensor y = f(xi);
    if (!y.defined() || y.numel() != 1) throw AutogradError("[value_and_grad] f must return a scalar");
    Tensor g = y.requires_grad()
                   ? gradients(y, {xi}, Tensor(), {.retain_graph = true, .create_graph = x.requires_grad(),
                                                   .allow_unused = true})[0]
                   : Tensor();
    return std::pair{x.requires_grad() ? y : y.detach(), zeros_if_undefined(g, x)};
  };
}

std::pair<Tensor, std::vector<Tensor>> vjp(const MultiFn& f, const std::vector<Tensor>& primals,
                                           const Tensor& cotangent) {
  EnableGradGuard on;
  std::vector<Tensor> xs;
  for (const Tensor& p : primals) xs.push_back(track_floating(p));
  Tensor y = f(xs);
  if (cotangent.shape() != y.shape())
    throw ShapeError("[vjp] cotangent of shape " + shape_str(cotangent.shape()) + " for output of shape " +
                     shape_str(y.shape()));
  std::vector<Tensor> g(xs.size());
  bool outer = any_tracked_outside(primals) || cotangent.requires_grad();
  if (y.requires_grad())
    g = gradients({y}, xs, {cotangent}, {.retain_graph = true, .create_graph = outer, .allow_unused = true});
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = is_floating(xs[i].dtype()) ? zeros_if_undefined(g[i], xs[i]) : Tensor();
  return {outer ? y : y.detach(), g};
}

std::pair<Tensor, Tensor> jvp(const MultiFn& f, const std::vector<Tensor>& primals, const std::vector<Tensor>& tangents) {
  if (tangents.size() != primals.size())
    throw ValueError("[jvp] " + std::to_string(tangents.size()) + " tangents for " + std::to_string(primals.size()) +
                     " primals");
  for (std::size_t i = 0; i < primals.size(); ++i)
    if (tangents[i].shape() != primals[i].shape())
      throw ShapeError("[jvp] tangent " + std::to_string(i) + " has shape " + shape_str(tangents[i].shape()) +
                       " but its primal has " + shape_str(primals[i].shape()));
  EnableGradGuard on;
  std::vector<Tensor> xs;
  for (const Tensor& p : primals) xs.push_back(track_floating(p));
  Tensor y = f(xs);
  if (!y.requires_grad()) return {y.detach(), zeros_like(y)};
  // u is a dummy cotangent: g(u) = u^T J is linear in u, and d<g(u), t>/du = J t.
  Tensor u = zeros_like(y).requires_grad_();
  std::vector<Tensor> wrt;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (xs[i].requires_grad() || !xs[i].is_concrete()) {
      wrt.push_back(xs[i]);
      which.push_back(i);
    }
  std::vector<Tensor> g = gradients({y}, wrt, {u}, {.retain_graph = true, .create_graph = true, .allow_unused = true});
  std::vector<Tensor> outs, seeds;
  for (std::size_t i = 0; i < g.size(); ++i)
    if (g[i].defined() && g[i].requires_grad()) {
      outs.push_back(g[i]);
      seeds.push_back(tangents[which[i]].astype(g[i].dtype()));
    }
  if (outs.empty()) return {y.detach(), zeros_like(y)};
  Tensor t = gradients(outs, {u}, seeds, {.allow_unused = true})[0];
  return {y.detach(), zeros_if_undefined(t, y)};
}

Tensor jacobian(const UnaryFn& f, const Tensor& x) {
  EnableGradGuard on;
  Tensor xi = track(x);
  Tensor y = f(xi);
  int64_t m = y.numel();
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < m; ++i) {
    Tensor e = zeros({m}, y.dtype());
    e.select(0, i).fill_(1.0);
    Tensor r = y.requires_grad()
                   ? gradients({y}, {xi}, {e.reshape(y.shape())},
                               {.retain_graph = true, .create_graph = x.requires_grad(), .allow_unused = true})[0]
                   : Tensor();
    rows.push_back(zeros_if_undefined(r, x).reshape({1, x.numel()}));
  }
  Shape out = y.shape();
  for (int64_t d : x.shape()) out.push_back(d);
  if (m == 0) return zeros(out, x.dtype());
  // Stack rows by writing into a fresh tensor (concat belongs to the index family).
  Tensor jac = zeros({m, x.numel()}, x.dtype());
  NoGradGuard off;
  for (int64_t i = 0; i < m; ++i) jac.select(0, i).copy_(rows[std::size_t(i)].reshape({x.numel()}));
  return jac.reshape(out);
}

Tensor hessian(const UnaryFn& f, const Tensor& x) { return jacobian(grad(f), x); }

}  // namespace nabla
