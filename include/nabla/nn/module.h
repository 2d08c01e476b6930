// nn::Module: named parameters, buffers and submodules, train/eval mode, state dicts.
// Modules hold tensors by handle: copying a module shares its parameters (as PyTorch's
// shallow copies do), which is what lets nn::Sequential take layers by value.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/io/safetensors.h"
#include "nabla/tensor.h"

namespace nabla::compile_detail {
class JitCache;
}

namespace nabla::nn {

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  // forward(x); calls made this way are the rows summary() shows.
  Tensor operator()(const Tensor& x);
  // What summary() shows, e.g. "Linear(in=784, out=10)".
  virtual std::string describe() const = 0;

  // Parameters of this module and, with `recurse`, its submodules ("conv1.weight").
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  int64_t num_parameters() const;

  // Parameters and buffers by dotted name.
  TensorMap state_dict() const;
  // Copies values into the existing tensors. Strict: every key must match, naming the
  // missing and unexpected keys; shape mismatches name the key and both shapes.
  void load_state_dict(const TensorMap& state, bool strict = true);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Converts floating parameters and buffers to `dtype` in place (every handle sees it).
  void to(DType dtype);
  void zero_grad();
  // Calls fn on this module and every submodule, children first.
  void apply(const std::function<void(Module&)>& fn);
  // A Keras-like table for one forward pass on zeros of `input_shape`: each submodule that
  // forward() calls through operator() (not nested in another such call), its output shape
  // and its parameters. Modules whose forward calls children only through forward() are
  // shown as a chain of their children.
  std::string summary(const Shape& input_shape);

  // After hybridize(), operator() runs forward through nb::jit (one compiled Function per input
  // shape, dtype and grad mode), in training mode too unless the module has buffers: training
  // mode updates buffers in place (BatchNorm's running statistics), a side effect a trace
  // performs only once, so such modules train eagerly. Results are differentiable: ops the
  // forward runs on parameters (Linear's weight.t()) are replayed at each call, so backward
  // reaches the parameters and an optimizer step needs no retrace (docs/symbolic.md). What
  // the trace computes from buffers and frozen parameters alone (BatchNorm's eval scale) is
  // computed once, so an in-place change to one (load_state_dict) drops the compiled Functions
  // and the next call retraces, as do to() and registering parameters, buffers or submodules
  // anywhere. Only this module's operator() is affected (hybridized submodules called inside a
  // trace are inlined). Copies start with no Function.
  void hybridize(bool on = true);
  bool is_hybridized() const { return hybrid_.on; }
  // Input signatures compiled so far (0 until a call takes the compiled path).
  std::size_t hybrid_signatures() const;
  // Traces since the compiled Functions were last dropped (retraces of a signature included).
  std::size_t hybrid_traces() const;

 protected:
  // Ends an operator() call of a module with another signature (nn::Bilinear): summary() sees it.
  struct CallScope {
    explicit CallScope(const Module& m);
    ~CallScope();
    Tensor done(const Tensor& out);
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    const Module& m_;
  };
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, M module) {
    auto p = std::make_shared<M>(std::move(module));
    register_module_ptr(name, p);
    return p;
  }
  void register_module_ptr(const std::string& name, std::shared_ptr<Module> m);
  // For containers that insert, replace or remove children (ModuleList, ModuleDict).
  std::vector<std::pair<std::string, std::shared_ptr<Module>>>& mutable_children();

 private:
  void collect(const std::string& prefix, bool recurse, bool buffers,
               std::vector<std::pair<std::string, Tensor>>& out) const;
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
  // The compiled forward of hybridize(). Its trace calls this->forward, so copies and moves
  // keep the flag but not the cache.
  struct Hybrid {
    bool on = false;
    uint64_t epoch = 0;             // the structure epoch the cache was traced in
    std::vector<int64_t> versions;  // of the parameters and buffers, when traced
    std::shared_ptr<compile_detail::JitCache> cache;
    Hybrid() = default;
    Hybrid(const Hybrid& o) : on(o.on) {}
    Hybrid& operator=(const Hybrid& o) {
      on = o.on;
      cache.reset();
      return *this;
    }
  };
  Hybrid hybrid_;
  Tensor hybrid_forward(const Tensor& x);
};

// A module whose forward is a function of its input only (activations, reshapes).
class Lambda : public Module {
 public:
  Lambda(std::string name, std::function<Tensor(const Tensor&)> fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  Tensor forward(const Tensor& x) override { return fn_(x); }
  std::string describe() const override { return name_; }

 private:
  std::string name_;
  std::function<Tensor(const Tensor&)> fn_;
};

// Runs its children in order.
class Sequential : public Module {
 public:
  Sequential() = default;
  template <class... M>
    requires(sizeof...(M) > 0 && (std::is_base_of_v<Module, std::decay_t<M>> && ...))
  explicit Sequential(M&&... modules) {
    (push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(modules))), ...);
  }
  void push_back(std::shared_ptr<Module> m) { register_module_ptr(std::to_string(children().size()), std::move(m)); }
  template <class M>
    requires std::is_base_of_v<Module, std::decay_t<M>>
  void push_back(M&& m) {
    push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(m)));
  }
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Sequential"; }
  std::size_t size() const { return children().size(); }
  Module& operator[](std::size_t i) const { return *children().at(i).second; }
};

}  // namespace nabla::nn
