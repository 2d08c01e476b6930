// Compiling symbolic graphs (DESIGN.md, "Symbolic" and "Mixed"). nb::compile(outputs) takes the
// graph reachable from symbolic tensors (placeholders and ops on them), runs the passes (dead-code
// elimination, common subexpressions, constant folding, algebraic simplification) and returns a
// Function that runs it on concrete inputs. nb::jit(fn) traces an imperative function with
// placeholders and keeps one compiled Function per input signature. See docs/symbolic.md.
#pragma once
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/symbolic.h"
#include "nabla/tensor.h"

namespace nabla {

// A frozen value for a symbolic graph: a detached copy of `value`, which the compiler may fold
// into other constants. (Other concrete tensors a graph uses are read afresh at every call.)
Tensor constant(const Tensor& value);
namespace compile_detail {
Tensor weak_constant(double value, DType dtype);
}
// A 0-d constant of T's dtype. Like a C++ literal it is weak: `x + nb::constant(1.0f)` keeps
// x's dtype, as `x + 1.0f` does.
template <Arithmetic T>
Tensor constant(T value) {
  return compile_detail::weak_constant(double(value), dtype_of_v<T>);
}

struct CompileOptions {
  // The placeholders in positional order. Empty: every placeholder the outputs use, sorted by
  // name. Listing one the outputs do not use makes it an (ignored) input.
  std::vector<Tensor> inputs;
  bool eliminate_dead_code = true;
  bool eliminate_common_subexpressions = true;
  bool fold_constants = true;
  bool simplify = true;  // x*1, x+0, double transpose, reshape chains
  // Convolutions and matmuls by a weight the graph captures (a module's parameter) or holds as
  // a constant keep that weight in oneDNN's blocked layout, made once and remade only after
  // the weight changes (its version counter moves; see docs/symbolic.md).
  bool prepack_weights = true;
};

namespace compile_detail {
struct Plan;
}

// A compiled graph: call it with a {name -> Tensor} map or positional tensors. Inputs are checked
// against the placeholders (names, dtypes, shapes; a -1 dim takes any size) with typed errors.
// Copies share the plan; calls may run concurrently.
class Function {
 public:
  Function() = default;
  explicit Function(std::shared_ptr<const compile_detail::Plan> plan) : plan_(std::move(plan)) {}

  // Single-output functions return the tensor; others throw ValueError (use run()).
  Tensor operator()(const std::map<std::string, Tensor>& inputs) const;
  Tensor operator()(const std::vector<Tensor>& inputs) const;
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs) const;
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  // f({x, w}): positional (without these, a braced list of two tensors is ambiguous).
  Tensor operator()(std::initializer_list<Tensor> inputs) const {
    return (*this)(std::vector<Tensor>(inputs));
  }
  std::vector<Tensor> run(std::initializer_list<Tensor> inputs) const {
    return run(std::vector<Tensor>(inputs));
  }

  // Placeholder names in positional order, and their declared shapes and dtypes.
  std::vector<std::string> input_names() const;
  std::vector<Shape> input_shapes() const;
  std::vector<DType> input_dtypes() const;
  std::size_t num_outputs() const;
  // Op nodes the plan runs per call (after the passes).
  std::size_t num_ops() const;
  // Graphviz DOT text of the compiled graph.
  std::string to_dot() const;
  // The ahead-of-time memory plan (static shapes): the bytes of the one arena a call allocates
  // for the values that die inside it, next to the bytes those values take when each has its
  // own allocation (naive). Both 0 when a shape is dynamic. `in_place` counts the elementwise
  // ops that write their result over an operand dying at them instead of into a new buffer.
  struct MemoryReport {
    std::size_t arena_bytes = 0;
    std::size_t naive_bytes = 0;
    std::size_t in_place = 0;
  };
  MemoryReport memory_report() const;

  bool defined() const { return plan_ != nullptr; }
  const std::shared_ptr<const compile_detail::Plan>& plan() const { return plan_; }

 private:
  std::shared_ptr<const compile_detail::Plan> plan_;
};

Function compile(const std::vector<Tensor>& outputs, CompileOptions options = {});
Function compile(const Tensor& output, CompileOptions options = {});

// Graphviz DOT text of the graph reachable from `outputs`, as built (no passes).
std::string to_dot(const std::vector<Tensor>& outputs);

// Saves a compiled function to one file (a JSON header, then the constants' bytes as in
// safetensors), written atomically. Captured tensors are saved by value. IOError on failure.
void save_function(const std::string& path, const Function& f);
Function load_function(const std::string& path);

// While alive on this thread, random ops record graph nodes even when their inputs are concrete
// (rand, randn, bernoulli...), so a compiled function draws fresh numbers at every call instead
// of reusing the values drawn while the graph was built. nb::jit sets it while tracing.
class RecordRandomGuard {
 public:
  RecordRandomGuard();
  ~RecordRandomGuard();
  RecordRandomGuard(const RecordRandomGuard&) = delete;
  RecordRandomGuard& operator=(const RecordRandomGuard&) = delete;

 private:
  bool previous_;
};

namespace compile_detail {
using TraceFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// The per-signature cache behind nb::jit (shared by copies of one jitted function).
class JitCache {
 public:
  explicit JitCache(CompileOptions options) : options_(std::move(options)) {}
  std::vector<Tensor> call(const std::vector<Tensor>& args, const TraceFn& trace);
  std::size_t size() const;
  // Traces so far (a signature traced again after a captured tensor changed counts twice).
  std::size_t traces() const;

  struct Traced;  // a Function and the concrete tensors its trace computed with

 private:
  CompileOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Traced>> cache_;  // key: the input signature
  std::size_t traces_ = 0;
};

template <class R>
std::vector<Tensor> as_outputs(R&& r) {
  if constexpr (std::is_same_v<std::decay_t<R>, Tensor>)
    return {std::forward<R>(r)};
  else
    return std::vector<Tensor>(std::forward<R>(r));
}
}  // namespace compile_detail

// The callable nb::jit returns: same arguments (tensors) and result (a Tensor or a
// std::vector<Tensor>) as fn.
template <class F>
class JitFunction {
 public:
  JitFunction(F fn, CompileOptions options)
      : fn_(std::move(fn)),
        cache_(std::make_shared<compile_detail::JitCache>(std::move(options))) {}

  template <class... Args>
  auto operator()(const Args&... args) const {
    static_assert((std::is_same_v<Args, Tensor> && ...), "nb::jit functions take tensors");
    using R = std::decay_t<std::invoke_result_t<const F&, const Args&...>>;
    static_assert(std::is_same_v<R, Tensor> || std::is_same_v<R, std::vector<Tensor>>,
                  "nb::jit functions return a Tensor or a std::vector<Tensor>");
    auto trace = [this](const std::vector<Tensor>& ph) {
      return invoke_with(ph, std::make_index_sequence<sizeof...(Args)>{});
    };
    std::vector<Tensor> out = cache_->call({args...}, trace);
    if constexpr (std::is_same_v<R, Tensor>)
      return out.at(0);
    else
      return out;
  }
  // Compiled signatures so far, and traces (retraces included).
  std::size_t cache_size() const { return cache_->size(); }
  std::size_t traces() const { return cache_->traces(); }

 private:
  template <std::size_t... I>
  std::vector<Tensor> invoke_with(const std::vector<Tensor>& ph, std::index_sequence<I...>) const {
    return compile_detail::as_outputs(fn_(ph[I]...));
  }
  F fn_;
  std::shared_ptr<compile_detail::JitCache> cache_;
};

// Traces fn with placeholders shaped like the first call's inputs and compiles it; later calls
// with the same shapes, dtypes and grad mode reuse that Function, new ones trace again. Concrete
// tensors fn reads (weights) are captured by reference and read at each call. Ops fn runs on
// tensors that require grad (Linear's weight.t(), `w * mask`) are replayed at each call, so
// results are differentiable into the parameters and optimizer steps need no retrace; what fn
// computes from other concrete tensors alone (`b * 2`) is computed once while tracing, so a call
// after one of them changed in place traces again (docs/symbolic.md, "What tracing captures"). Reading a traced tensor's values (item, to_vector) throws, since data-dependent
// control flow cannot be traced.
template <class F>
JitFunction<F> jit(F fn, CompileOptions options = {}) {
  return JitFunction<F>(std::move(fn), std::move(options));
}

}  // namespace nabla
