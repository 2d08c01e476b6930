#include "nabla/nn/module.h"

#include <atomic>
#include <functional>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "ir/node.h"
#include "nabla/autograd.h"
#include "nabla/compile.h"
#include "nabla/ops/creation.h"

namespace nabla::nn {

namespace {
// Bumped by every change that a hybridized module's trace may have baked in (a dtype, a new
// parameter, buffer or child anywhere): a cheap, conservative invalidation of all caches.
std::atomic<uint64_t> g_structure_epoch{0};
void structure_changed() { g_structure_epoch.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  structure_changed();
  if (value.defined() && is_floating(value.dtype()) && !value.requires_grad()) value.requires_grad_();
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  structure_changed();
  buffers_.emplace_back(name, value);
  return value;
}

void Module::collect(const std::string& prefix, bool recurse, bool buffers,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [n, t] : buffers ? buffers_ : params_)
    if (t.defined()) out.emplace_back(prefix + n, t);
  if (!recurse) return;
  for (const auto& [n, m] : children_) m->collect(prefix + n + ".", true, buffers, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, false, out);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, true, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  std::set<const Node*> seen;  // a shared parameter counts once
  for (auto& [n, t] : named_parameters(recurse))
    if (seen.insert(t.node()).second) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

TensorMap Module::state_dict() const {
  TensorMap m;
  for (auto& [n, t] : named_parameters()) m[n] = t.detach();
  for (auto& [n, t] : named_buffers()) m[n] = t.detach();
  return m;
}

void Module::load_state_dict(const TensorMap& state, bool strict) {
  TensorMap mine = state_dict();
  std::vector<std::string> missing, unexpected;
  for (auto& [n, t] : mine)
    if (!state.count(n)) missing.push_back(n);
  for (auto& [n, t] : state)
    if (!mine.count(n)) unexpected.push_back(n);
  if (strict && (!missing.empty() || !unexpected.empty())) {
    std::string msg = "[load_state_dict]";
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
      return s;
    };
    if (!missing.empty()) msg += " missing keys: " + list(missing) + ";";
    if (!unexpected.empty()) msg += " unexpected keys: " + list(unexpected) + ";";
    throw ValueError(msg);
  }
  for (auto& [n, t] : mine) {
    auto it = state.find(n);
    if (it == state.end()) continue;
    if (it->second.shape() != t.shape())
      throw ShapeError("[load_state_dict] '" + n + "' has shape " + shape_str(it->second.shape()) +
                       " in the state dict but " + shape_str(t.shape()) + " in the model");
  }
  NoGradGuard off;
  for (auto& [n, t] : mine) {
    auto it = state.find(n);
    if (it != state.end()) Tensor(t).copy_(it->second);
  }
}

void Module::train(bool on) {
  apply([on](Module& m) { m.training_ = on; });
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.zero_grad();
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [n, m] : children_) m->apply(fn);
  fn(*this);
}

void Module::to(DType dtype) {
  if (!is_floating(dtype)) throw DTypeError("[Module::to] parameters must stay floating, got " + std::string(dtype_name(dtype)));
  structure_changed();
  apply([dtype](Module& m) {
    for (auto* list : {&m.params_, &m.buffers_})
      for (auto& [n, t] : *list)
        if (t.defined() && is_floating(t.dtype()) && t.dtype() != dtype) {
          // Swap the node's value so every handle to this parameter sees the new dtype.
          Tensor c = t.detach().astype(dtype).contiguous();
          Node& dst = *t.node();
          const Node& src = *c.node();
          dst.storage = src.storage;
          dst.offset = src.offset;
          dst.strides = src.strides;
          dst.dtype = dtype;
          t.zero_grad();
        }
  });
}

namespace {
// While summary() runs: the operator() calls, each with its nesting depth, in the order they end.
struct CallRecord {
  const Module* module;
  int depth;
  Shape shape;
};
thread_local std::vector<CallRecord>* g_calls = nullptr;
thread_local int g_depth = 0;
}  // namespace

Module::CallScope::CallScope(const Module& m) : m_(m) { ++g_depth; }
Module::CallScope::~CallScope() { --g_depth; }
Tensor Module::CallScope::done(const Tensor& out) {
  if (g_calls) g_calls->push_back({&m_, g_depth, out.shape()});
  return out;
}

void Module::register_module_ptr(const std::string& name, std::shared_ptr<Module> m) {
  structure_changed();
  children_.emplace_back(name, std::move(m));
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>>& Module::mutable_children() {
  structure_changed();  // the caller is about to insert, replace or remove children
  return children_;
}

void Module::hybridize(bool on) {
  hybrid_.on = on;
  hybrid_.cache.reset();
}

std::size_t Module::hybrid_signatures() const { return hybrid_.cache ? hybrid_.cache->size() : 0; }
std::size_t Module::hybrid_traces() const { return hybrid_.cache ? hybrid_.cache->traces() : 0; }

Tensor Module::hybrid_forward(const Tensor& x) {
  if (!x.is_concrete()) return forward(x);
  // Training mode may update buffers in place (BatchNorm's running statistics), a side effect a
  // trace would perform once: modules with buffers train eagerly.
  if (training_ && !named_buffers().empty()) return forward(x);
  // What the trace computes from buffers and frozen parameters alone (BatchNorm's eval scale)
  // is a value: an in-place change to one (load_state_dict) retraces. Parameters that require
  // grad need no such check: ops on them are replayed at each call (compile/graph.h), and the
  // jit cache retraces when a value it froze was read from them.
  std::vector<int64_t> versions;
  for (bool buffers : {false, true})
    for (const auto& [n, t] : buffers ? named_buffers() : named_parameters())
      if (buffers || !t.requires_grad()) versions.push_back(t.version());
  uint64_t epoch = g_structure_epoch.load(std::memory_order_relaxed);
  if (!hybrid_.cache || hybrid_.epoch != epoch || hybrid_.versions != versions) {
    hybrid_.cache = std::make_shared<compile_detail::JitCache>(CompileOptions{});
    hybrid_.epoch = epoch;
    hybrid_.versions = std::move(versions);
  }
  return hybrid_.cache->call({x}, [this](const std::vector<Tensor>& ph) { return std::vector<Tensor>{forward(ph[0])}; })
      .at(0);
}

Tensor Module::operator()(const Tensor& x) {
  if (!g_calls) return hybrid_.on ? hybrid_forward(x) : forward(x);
  CallScope scope(*this);
  return scope.done(forward(x));
}

std::string Module::summary(const Shape& input_shape) {
  std::ostringstream os;
  os << std::left << std::setw(34) << "Layer" << std::setw(22) << "Output shape" << "Params\n";
  os << std::string(66, '=') << "\n";
  NoGradGuard off;
  Tensor x = zeros(input_shape);
  bool was_training = training_;
  eval();
  auto row = [&](const std::string& name, const Module& m, const Shape& out) {
    int64_t p = 0;
    for (auto& [n, t] : m.named_parameters()) p += t.numel();
    os << std::setw(34) << name.substr(0, 33) << std::setw(22) << shape_str(out) << p << "\n";
  };
  // Dotted names of every submodule.
  std::map<const Module*, std::string> names;
  std::function<void(const Module&, const std::string&)> walk = [&](const Module& m, const std::string& prefix) {
    for (auto& [n, c] : m.children_) {
      names.emplace(c.get(), prefix + n);
      walk(*c, prefix + n + ".");
    }
  };
  walk(*this, "");
  std::vector<CallRecord> calls;
  Tensor y;
  {
    struct Restore {
      std::vector<CallRecord>* calls = g_calls;
      int depth = g_depth;
      ~Restore() { g_calls = calls, g_depth = depth; }
    } restore;
    g_calls = &calls;
    g_depth = 0;
    try {
      y = forward(x);
    } catch (...) {
      train(was_training);
      throw;
    }
  }
  int top = std::numeric_limits<int>::max();
  for (auto& c : calls)
    if (names.count(c.module)) top = std::min(top, c.depth);
  for (auto& c : calls)
    if (c.depth == top && names.count(c.module)) row(names[c.module] + ": " + c.module->describe(), *c.module, c.shape);
  if (top == std::numeric_limits<int>::max()) {
    // forward() reached no submodule through operator(): show the children as a chain when
    // they make one, else the module as one row.
    std::ostringstream chain;
    chain << std::left;
    std::swap(os, chain);
    try {
      Tensor h = x;
      for (auto& [n, m] : children_) {
        h = m->forward(h);
        row(n + ": " + m->describe(), *m, h.shape());
      }
      if (children_.empty()) row(describe(), *this, y.shape());
      std::swap(os, chain);
      os << chain.str();
    } catch (const Error&) {
      std::swap(os, chain);
      row(describe(), *this, y.shape());
    }
  }
  train(was_training);
  os << std::string(66, '=') << "\nTotal params: " << num_parameters() << "\n";
  return os.str();
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [n, m] : children()) h = (*m)(h);
  return h;
}

}  // namespace nabla::nn
