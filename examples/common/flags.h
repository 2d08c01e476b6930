// Command-line flags of the examples: "--name value" options and "--name" switches, each bound
// to a field of the example's settings. An unknown option, a missing value or a value that is
// not a number where one is expected is a ValueError naming the flag.
#pragma once
#include <nabla/error.h>

#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace examples {

class Flags {
 public:
  // "--name value" into `field` (integers, floating point or std::string).
  template <class T>
  Flags& add(std::string name, T& field) {
    entries_.push_back(
        {std::move(name), false,
         [&field](const std::string& flag, const std::string& v) { field = convert<T>(flag, v); }});
    return *this;
  }
  // "--name" alone sets `field` to `value`.
  Flags& flag(std::string name, bool& field, bool value = true) {
    entries_.push_back(
        {std::move(name), true,
         [&field, value](const std::string&, const std::string&) { field = value; }});
    return *this;
  }

  void parse(int argc, char** argv) const {
    for (int i = 1; i < argc; ++i) {
      const std::string k = argv[i];
      const Entry* e = find(k);
      if (!e) throw nabla::ValueError("unknown option " + k + " (options: " + names() + ")");
      if (e->is_switch) {
        e->set(k, "");
        continue;
      }
      if (i + 1 >= argc) throw nabla::ValueError("missing value after " + k);
      e->set(k, argv[++i]);
    }
  }

 private:
  struct Entry {
    std::string name;
    bool is_switch;
    std::function<void(const std::string&, const std::string&)> set;
  };

  const Entry* find(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }
  std::string names() const {
    std::string s;
    for (const Entry& e : entries_) s += (s.empty() ? "" : " ") + e.name;
    return s;
  }

  template <class T>
  static T convert(const std::string& flag, const std::string& v) {
    if constexpr (std::is_same_v<T, std::string>) {
      return v;
    } else {
      std::size_t used = 0;
      try {
        if constexpr (std::is_floating_point_v<T>) {
          T x = T(std::stod(v, &used));
          if (used == v.size()) return x;
        } else if constexpr (std::is_unsigned_v<T>) {
          if (v.find('-') == std::string::npos) {
            unsigned long long x = std::stoull(v, &used);
            if (used == v.size() && x <= std::numeric_limits<T>::max()) return T(x);
          }
        } else {
          long long x = std::stoll(v, &used);
          if (used == v.size() && x >= std::numeric_limits<T>::min() &&
              x <= std::numeric_limits<T>::max())
            return T(x);
        }
      } catch (const std::exception&) {
      }
      throw nabla::ValueError("bad value for " + flag + ": '" + v + "'");
    }
  }

  std::vector<Entry> entries_;
};

}  // namespace examples
