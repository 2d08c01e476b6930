// NumPy-like printing: nested brackets, aligned columns, "..." past 1000 elements.
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "ir/node.h"
#include "nabla/tensor.h"

namespace nabla {
namespace {

constexpr int64_t kSummariseAbove = 1000;
constexpr int64_t kEdgeItems = 3;

std::string format_value(double v, DType t, bool int_valued_floats) {
  char buf[64];
  if (t == bool_) return v != 0 ? "true" : "false";
  if (!is_floating(t)) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    return buf;
  }
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (int_valued_floats) {
    std::snprintf(buf, sizeof buf, "%.0f.", v);
    return buf;
  }
  double a = std::fabs(v);
  if (a != 0 && (a < 1e-4 || a >= 1e8)) std::snprintf(buf, sizeof buf, "%.4e", v);
  else std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

struct Printer {
  const Tensor& t;
  std::vector<double> values;  // contiguous copy
  Strides strides;
  bool summarise;
  std::size_t width = 0;
  bool int_valued = true;

  void collect_width(int64_t dim, int64_t offset) {
    // Widest formatted element among those that will be shown.
    if (dim == t.ndim()) {
      width = std::max(width, format_value(values[std::size_t(offset)], t.dtype(), int_valued).size());
      return;
    }
    for_shown(dim, [&](int64_t i) {
      if (i >= 0) collect_width(dim + 1, offset + i * strides[std::size_t(dim)]);  // -1 marks "..."
    });
  }

  template <class F>
  void for_shown(int64_t dim, F f) {
    int64_t n = t.shape()[std::size_t(dim)];
    if (summarise && n > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) f(i);
      f(-1);
      for (int64_t i = n - kEdgeItems; i < n; ++i) f(i);
    } else {
      for (int64_t i = 0; i < n; ++i) f(i);
    }
  }

  void print(std::ostream& os, int64_t dim, int64_t offset, int indent) {
    if (dim == t.ndim()) {
      std::string s = format_value(values[std::size_t(offset)], t.dtype(), int_valued);
      os << std::string(width - s.size(), ' ') << s;
      return;
    }
    os << '[';
    bool first = true;
    for_shown(dim, [&](int64_t i) {
      if (!first) {
        os << ',';
        if (dim == t.ndim() - 1) os << ' ';
        else os << std::string(std::size_t(t.ndim() - dim - 1), '\n') << std::string(std::size_t(indent + 1), ' ');
      }
      first = false;
      if (i < 0) {
        os << "...";
        return;
      }
      print(os, dim + 1, offset + i * strides[std::size_t(dim)], indent + 1);
    });
    os << ']';
  }
};

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  if (!is_concrete()) {
    os << "tensor(symbolic '" << node()->name << "', shape=" << shape_str(shape())
       << ", dtype=" << dtype_name(dtype()) << ")";
    return os.str();
  }
  Printer p{*this, to_vector<double>(), contiguous_strides(shape()), numel() > kSummariseAbove};
  for (double v : p.values)
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) >= 1e8) p.int_valued = false;
  os << "tensor(";
  if (numel() == 0) {
    os << "[]";
  } else {
    p.collect_width(0, 0);
    p.print(os, 0, 0, 7);
  }
  if (dtype() != float32 && dtype() != int64 && dtype() != bool_) os << ", dtype=" << dtype_name(dtype());
  if (numel() == 0 && ndim() != 1) os << ", shape=" << shape_str(shape());
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace nabla
