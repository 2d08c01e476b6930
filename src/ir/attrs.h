// Typed op attributes (axes, keepdims, a scalar, a dtype...). Kept as a small list of
// named values so passes, graph files and ONNX export can read any op's attributes.
#pragma once
#include <cstring>
#include <string>
#include <utility>
#include <variant>

#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/shape.h"

namespace nabla {

using AttrValue = std::variant<int64_t, double, bool, DType, Shape, std::string>;

struct Attr {
  const char* name = "";
  AttrValue value;
};

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<Attr> init) : items_(init.begin(), init.end()) {}

  template <class T>
  const T& get(const char* name) const {
    for (const Attr& a : items_)
      if (std::strcmp(a.name, name) == 0) return std::get<T>(a.value);
    throw Error(std::string("internal: missing attribute '") + name + "'");
  }
  template <class T>
  T get_or(const char* name, T fallback) const {
    for (const Attr& a : items_)
      if (std::strcmp(a.name, name) == 0) return std::get<T>(a.value);
    return fallback;
  }
  bool has(const char* name) const {
    for (const Attr& a : items_)
      if (std::strcmp(a.name, name) == 0) return true;
    return false;
  }
  void set(const char* name, AttrValue v) {
    for (Attr& a : items_)
      if (std::strcmp(a.name, name) == 0) {
        a.value = std::move(v);
        return;
      }
    items_.push_back(Attr{name, std::move(v)});
  }
  const SmallVector<Attr, 3>& items() const { return items_; }
  friend bool operator==(const Attrs& a, const Attrs& b) {
    if (a.items_.size() != b.items_.size()) return false;
    for (std::size_t i = 0; i < a.items_.size(); ++i)
      if (std::strcmp(a.items_[i].name, b.items_[i].name) != 0 ||
          !(a.items_[i].value == b.items_[i].value))
        return false;
    return true;
  }

 private:
  SmallVector<Attr, 3> items_;
};

}  // namespace nabla
