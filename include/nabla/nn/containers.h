// Containers that hold submodules for a model's own forward, named as in PyTorch so state
// dicts move between the two: a ModuleList's parameters are "0.weight", "1.bias"...; a
// ModuleDict's "<key>.weight". Modules are held by shared_ptr (appending a module by value
// shares its parameters, as with Sequential).
//
//   struct Net : nn::Module {
//     std::shared_ptr<nn::ModuleList> blocks = register_module("blocks", nn::ModuleList());
//     Net() { for (int i = 0; i < 3; ++i) blocks->append(nn::Linear(8, 8)); }  //
//     "blocks.0.weight", ... nb::Tensor forward(const nb::Tensor& x) override {
//       nb::Tensor h = x;
//       for (nn::Module& block : *blocks) h = nb::relu(block(h));
//       return h;
//     }
//     std::string describe() const override { return "Net"; }
//   };
#pragma once
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/nn/module.h"

namespace nabla::nn {

namespace detail {
// Iterates over a module's children as Module& (ModuleList) without exposing the names.
class ChildIterator {
 public:
  using Base = std::vector<std::pair<std::string, std::shared_ptr<Module>>>::const_iterator;
  using iterator_category = std::forward_iterator_tag;
  using value_type = Module;
  using difference_type = std::ptrdiff_t;
  using pointer = Module*;
  using reference = Module&;
  ChildIterator() = default;
  explicit ChildIterator(Base it) : it_(it) {}
  Module& operator*() const { return *it_->second; }
  Module* operator->() const { return it_->second.get(); }
  ChildIterator& operator++() {
    ++it_;
    return *this;
  }
  ChildIterator operator++(int) { return ChildIterator(it_++); }
  bool operator==(const ChildIterator& o) const { return it_ == o.it_; }

 private:
  Base it_;
};
}  // namespace detail

// An indexed list of modules. Its forward runs them in order (as Sequential does; PyTorch's
// ModuleList has no forward), which is also what summary() shows.
class ModuleList : public Module {
 public:
  ModuleList() = default;
  template <class... M>
  requires(sizeof...(M) > 0 && (std::is_base_of_v<Module, std::decay_t<M>> &&
                                ...)) explicit ModuleList(M&&... modules) {
    (append(std::forward<M>(modules)), ...);
  }
  explicit ModuleList(std::vector<std::shared_ptr<Module>> modules);

  ModuleList& append(std::shared_ptr<Module> m);
  template <class M>
  requires std::is_base_of_v<Module, std::decay_t<M>> ModuleList& append(M&& m) {
    return append(std::make_shared<std::decay_t<M>>(std::forward<M>(m)));
  }
  // Inserts before position `index` (negative counts from the end, as Python's list.insert;
  // IndexError outside [-size, size]); later modules are renumbered.
  void insert(int64_t index, std::shared_ptr<Module> m);
  template <class M>
  requires std::is_base_of_v<Module, std::decay_t<M>>
  void insert(int64_t index, M&& m) {
    insert(index, std::make_shared<std::decay_t<M>>(std::forward<M>(m)));
  }
  void extend(const ModuleList& other);

  std::size_t size() const { return children().size(); }
  bool empty() const { return children().empty(); }
  // Negative indices count from the end; IndexError naming the index and the size.
  Module& at(int64_t index) const { return *ptr(index); }
  Module& operator[](int64_t index) const { return at(index); }
  std::shared_ptr<Module> ptr(int64_t index) const;
  // The module at `index` as its concrete type; ValueError if it is another type.
  template <class M>
  M& get(int64_t index) const {
    auto* m = dynamic_cast<M*>(ptr(index).get());
    if (!m)
      throw ValueError("[ModuleList] module " + std::to_string(index) + " is a " +
                       at(index).describe() + ", not the type asked for");
    return *m;
  }
  detail::ChildIterator begin() const { return detail::ChildIterator(children().begin()); }
  detail::ChildIterator end() const { return detail::ChildIterator(children().end()); }

  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ModuleList(" + std::to_string(size()) + ")"; }

 private:
  int64_t checked(int64_t index, int64_t size) const;
};

// Modules by name, in insertion order (as PyTorch's ModuleDict). Names must be non-empty and
// hold no '.' (it separates the parts of parameter names).
class ModuleDict : public Module {
 public:
  ModuleDict() = default;
  explicit ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules);

  // Adds `m` under `name`, or replaces the module already there (keeping its position).
  ModuleDict& insert(const std::string& name, std::shared_ptr<Module> m);
  template <class M>
  requires std::is_base_of_v<Module, std::decay_t<M>> ModuleDict& insert(const std::string& name,
                                                                         M&& m) {
    return insert(name, std::make_shared<std::decay_t<M>>(std::forward<M>(m)));
  }
  // Removes and returns the module under `name`; IndexError when there is none.
  std::shared_ptr<Module> pop(const std::string& name);

  std::size_t size() const { return children().size(); }
  bool empty() const { return children().empty(); }
  bool contains(const std::string& name) const;
  std::vector<std::string> keys() const;
  // IndexError naming the key and the keys there are.
  Module& at(const std::string& name) const { return *ptr(name); }
  Module& operator[](const std::string& name) const { return at(name); }
  std::shared_ptr<Module> ptr(const std::string& name) const;
  template <class M>
  M& get(const std::string& name) const {
    auto* m = dynamic_cast<M*>(ptr(name).get());
    if (!m)
      throw ValueError("[ModuleDict] '" + name + "' is a " + at(name).describe() +
                       ", not the type asked for");
    return *m;
  }
  // (name, module) pairs in insertion order.
  auto begin() const { return children().begin(); }
  auto end() const { return children().end(); }

  // A ModuleDict has no forward of its own (ValueError): call its modules by name.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ModuleDict(" + std::to_string(size()) + ")"; }
};

}  // namespace nabla::nn
