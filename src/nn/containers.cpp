#include "nabla/nn/containers.h"

#include <algorithm>

namespace nabla::nn {
namespace {

void check_module(const char* who, const std::shared_ptr<Module>& m) {
  if (!m) throw ValueError(std::string("[") + who + "] cannot hold a null module");
}

}  // namespace

ModuleList::ModuleList(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& m : modules) append(std::move(m));
}

ModuleList& ModuleList::append(std::shared_ptr<Module> m) {
  check_module("ModuleList", m);
  register_module_ptr(std::to_string(size()), std::move(m));
  return *this;
}

int64_t ModuleList::checked(int64_t index, int64_t n) const {
  int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i >= n)
    throw IndexError("[ModuleList] index " + std::to_string(index) + " is out of range for " +
                     std::to_string(size()) + " modules");
  return i;
}

void ModuleList::insert(int64_t index, std::shared_ptr<Module> m) {
  check_module("ModuleList", m);
  auto n = int64_t(size());
  int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i > n)
    throw IndexError("[ModuleList] cannot insert at " + std::to_string(index) + " in a list of " +
                     std::to_string(n) + " modules");
  auto& kids = mutable_children();
  kids.insert(kids.begin() + i, {std::string(), std::move(m)});
  for (std::size_t k = 0; k < kids.size(); ++k) kids[k].first = std::to_string(k);
}

void ModuleList::extend(const ModuleList& other) {
  std::vector<std::shared_ptr<Module>> add;  // copied first: other may be *this
  for (auto& [n, m] : other.children()) add.push_back(m);
  for (auto& m : add) append(m);
}

std::shared_ptr<Module> ModuleList::ptr(int64_t index) const {
  return children()[std::size_t(checked(index, int64_t(size())))].second;
}

Tensor ModuleList::forward(const Tensor& x) {
  Tensor h = x;
  for (Module& m : *this) h = m(h);
  return h;
}

ModuleDict::ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules) {
  for (auto& [name, m] : modules) insert(name, std::move(m));
}

ModuleDict& ModuleDict::insert(const std::string& name, std::shared_ptr<Module> m) {
  check_module("ModuleDict", m);
  if (name.empty() || name.find('.') != std::string::npos)
    throw ValueError("[ModuleDict] module names must be non-empty and hold no '.', got '" + name +
                     "'");
  auto& kids = mutable_children();
  auto it = std::find_if(kids.begin(), kids.end(), [&](auto& kv) { return kv.first == name; });
  if (it != kids.end()) {
    it->second = std::move(m);
  } else {
    register_module_ptr(name, std::move(m));
  }
  return *this;
}

std::shared_ptr<Module> ModuleDict::pop(const std::string& name) {
  std::shared_ptr<Module> m = ptr(name);
  auto& kids = mutable_children();
  kids.erase(std::find_if(kids.begin(), kids.end(), [&](auto& kv) { return kv.first == name; }));
  return m;
}

bool ModuleDict::contains(const std::string& name) const {
  return std::any_of(children().begin(), children().end(),
                     [&](auto& kv) { return kv.first == name; });
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (auto& [n, m] : children()) out.push_back(n);
  return out;
}

std::shared_ptr<Module> ModuleDict::ptr(const std::string& name) const {
  for (auto& [n, m] : children())
    if (n == name) return m;
  std::string known;
  for (auto& [n, m] : children()) known += (known.empty() ? "" : ", ") + n;
  throw IndexError("[ModuleDict] no module named '" + name +
                   "' (keys: " + (known.empty() ? "none" : known) + ")");
}

Tensor ModuleDict::forward(const Tensor&) {
  throw ValueError("[ModuleDict] has no forward of its own: call its modules by name");
}

}  // namespace nabla::nn
