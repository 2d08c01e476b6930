// Rows for the reductions, scans, softmax and one_hot. References are plain loops over the
// float64 data: each reduced group's values are collected in row-major order.
#include <algorithm>
#include <cmath>
#include <limits>

#include "op_table/op_table.h"
#include "ops/reduce_common.h"

namespace nabla::optable {
namespace {

using Values = std::vector<double>;
using GroupFn = std::function<double(const Values&)>;
const double kInf = std::numeric_limits<double>::infinity();

Shape norm_axes(const Shape& axes, std::size_t ndim) {
  Shape out;
  if (axes.empty())
    for (std::size_t d = 0; d < ndim; ++d) out.push_back(int64_t(d));
  for (int64_t a : axes) out.push_back(a < 0 ? a + int64_t(ndim) : a);
  return out;
}

// Groups of x's values by output position of reducing `axes` (empty: all).
std::vector<Values> groups_of(const Ref& x, const Shape& axes, bool keepdims, Shape& out_shape) {
  Shape ax = norm_axes(axes, x.shape.size());
  std::vector<bool> red(x.shape.size(), false);
  for (int64_t a : ax) red[std::size_t(a)] = true;
  out_shape.clear();
  for (std::size_t d = 0; d < x.shape.size(); ++d)
    if (!red[d])
      out_shape.push_back(x.shape[d]);
    else if (keepdims)
      out_shape.push_back(1);
  std::vector<Values> g(std::size_t(numel_of(out_shape)));
  for (std::size_t flat = 0; flat < x.v.size(); ++flat) {
    Shape idx(x.shape.size());
    int64_t rem = int64_t(flat);
    for (std::size_t d = x.shape.size(); d-- > 0;) {
      idx[d] = rem % x.shape[d];
      rem /= x.shape[d];
    }
    int64_t o = 0;
    for (std::size_t d = 0; d < x.shape.size(); ++d)
      if (!red[d]) o = o * x.shape[d] + idx[d];
    g[std::size_t(o)].push_back(x.v[flat]);
  }
  return g;
}

Ref reduce_ref(const Ref& x, const Shape& axes, bool keepdims, const GroupFn& f) {
  Shape s;
  std::vector<Values> g = groups_of(x, axes, keepdims, s);
  Ref r{s, {}};
  for (const Values& v : g) r.v.push_back(f(v));
  return r;
}

struct Variant {
  std::string name;
  std::function<Shape(int64_t ndim)> axes;
  bool keepdims;
  std::vector<Arg> samples;  // one input each
};

std::vector<Variant> variants(bool allow_empty) {
  std::vector<Arg> all = {Arg{.shape = {3, 4}}, Arg{.shape = {}},
                          Arg{.shape = {4, 5}, .non_contiguous = true}, Arg{.shape = {300, 700}}};
  if (allow_empty) all.push_back(Arg{.shape = {0, 3}});
  return {
      {"all", [](int64_t) { return Shape{}; }, false, all},
      {"last",
       [](int64_t) { return Shape{-1}; },
       false,
       {Arg{.shape = {3, 4}}, Arg{.shape = {4, 5}, .non_contiguous = true},
        Arg{.shape = {300, 700}}, Arg{.shape = {2, 3, 4}}, Arg{.shape = {0, 5}}}},
      {"first_keepdims",
       [](int64_t nd) {
         return nd == 3 ? Shape{0, 2} : Shape{0};
       },
       true,
       {Arg{.shape = {3, 4}}, Arg{.shape = {4, 5}, .non_contiguous = true},
        Arg{.shape = {700, 300}}, Arg{.shape = {2, 3, 4}}}},
      {"middle",
       [](int64_t) { return Shape{1}; },
       false,
       {Arg{.shape = {2, 3, 4}}, Arg{.shape = {4, 5, 6}, .non_contiguous = true},
        Arg{.shape = {4, 100, 100}}}},
  };
}

using RunFn = std::function<Tensor(const Tensor&, const Shape&, bool)>;

struct ReductionSpec {
  std::string op;
  RunFn run;
  GroupFn ref;
  std::vector<DType> dtypes = {float32, float64};
  bool grad = true;
  bool allow_empty = true;
  double lo = -2, hi = 2;
  bool integer_values = false;
  double tol_scale = 20;
  std::string suffix;
};

std::vector<Row> reduction_rows(const ReductionSpec& s) {
  std::vector<Row> rows;
  for (const Variant& v : variants(s.allow_empty)) {
    Row r{.op = s.op, .variant = v.name + s.suffix};
    for (Arg a : v.samples) {
      a.lo = s.lo, a.hi = s.hi, a.integer_values = s.integer_values;
      r.samples.push_back({a});
    }
    auto axes = v.axes;
    bool keep = v.keepdims;
    RunFn run = s.run;
    GroupFn ref = s.ref;
    r.run = [=](const std::vector<Tensor>& in) { return run(in[0], axes(in[0].ndim()), keep); };
    r.ref = [=](const std::vector<Ref>& in) {
      return reduce_ref(in[0], axes(int64_t(in[0].shape.size())), keep, ref);
    };
    r.dtypes = s.dtypes;
    r.grad = s.grad;
    r.tol_scale = s.tol_scale;
    rows.push_back(std::move(r));
  }
  return rows;
}

double g_sum(const Values& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}
double g_mean(const Values& v) { return g_sum(v) / double(v.size()); }
double g_prod(const Values& v) {
  double p = 1;
  for (double x : v) p *= x;
  return p;
}
double g_max(const Values& v) { return *std::max_element(v.begin(), v.end()); }
double g_min(const Values& v) { return *std::min_element(v.begin(), v.end()); }
double g_var(const Values& v, int64_t correction) {
  double m = g_mean(v), ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return ss / double(std::max<int64_t>(0, int64_t(v.size()) - correction));
}
double g_lse(const Values& v) {
  if (v.empty()) return -kInf;
  double m = g_max(v), s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}
double g_norm(const Values& v, double p) {
  double s = 0;
  for (double x : v) s = p == 1 ? s + std::fabs(x) : p == 2 ? s + x * x : std::max(s, std::fabs(x));
  return p == 2 ? std::sqrt(s) : s;
}

const std::vector<DType> kFloats = {float32, float64, float16, bfloat16};
const std::vector<DType> kNumeric = {float32, float64, float16, int32, int64, uint8};

std::vector<Row> all_reduction_rows() {
  std::vector<ReductionSpec> specs = {
      {.op = "mean",
       .run = [](const Tensor& x, const Shape& a, bool k) { return mean(x, a, k); },
       .ref = g_mean},
      {.op = "prod",
       .run = [](const Tensor& x, const Shape& a, bool k) { return prod(x, a, k); },
       .ref = g_prod,
       .dtypes = {float32, float64, int64},
       .lo = 0.5,
       .hi = 1.5},
      {.op = "prod",
       .run = [](const Tensor& x, const Shape& a, bool k) { return prod(x, a, k); },
       .ref = g_prod,
       .dtypes = {float64, int32},
       .lo = -2,
       .hi = 2,
       .integer_values = true,
       .suffix = "_zeros"},
      {.op = "max",
       .run = [](const Tensor& x, const Shape& a, bool k) { return max(x, a, k); },
       .ref = g_max,
       .dtypes = kNumeric,
       .allow_empty = false},
      {.op = "min",
       .run = [](const Tensor& x, const Shape& a, bool k) { return min(x, a, k); },
       .ref = g_min,
       .dtypes = kNumeric,
       .allow_empty = false},
      {.op = "var",
       .run = [](const Tensor& x, const Shape& a, bool k) { return var(x, a, 1, k); },
       .ref = [](const Values& v) { return g_var(v, 1); },
       .dtypes = kFloats},
      {.op = "var",
       .run = [](const Tensor& x, const Shape& a, bool k) { return var(x, a, 0, k); },
       .ref = [](const Values& v) { return g_var(v, 0); },
       .suffix = "_population"},
      {.op = "std",
       .run = [](const Tensor& x, const Shape& a, bool k) { return nabla::std(x, a, 1, k); },
       .ref = [](const Values& v) { return std::sqrt(g_var(v, 1)); },
       .dtypes = kFloats},
      {.op = "logsumexp",
       .run = [](const Tensor& x, const Shape& a, bool k) { return logsumexp(x, a, k); },
       .ref = g_lse,
       .dtypes = kFloats,
       .lo = -30,
       .hi = 30,
       .tol_scale = 50},
      {.op = "norm",
       .run = [](const Tensor& x, const Shape& a, bool k) { return norm(x, 1, a, k); },
       .ref = [](const Values& v) { return g_norm(v, 1); },
       .dtypes = kFloats,
       .suffix = "_p1"},
      {.op = "norm",
       .run = [](const Tensor& x, const Shape& a, bool k) { return norm(x, 2, a, k); },
       .ref = [](const Values& v) { return g_norm(v, 2); },
       .dtypes = kFloats,
       .suffix = "_p2"},
      {.op = "norm",
       .run = [](const Tensor& x, const Shape& a, bool k) { return norm(x, kInf, a, k); },
       .ref = [](const Values& v) { return g_norm(v, kInf); },
       .dtypes = kFloats,
       .allow_empty = false,
       .suffix = "_pinf"},
      {.op = "any",
       .run = [](const Tensor& x, const Shape& a, bool k) { return any(x, a, k); },
       .ref =
           [](const Values& v) {
             return double(std::any_of(v.begin(), v.end(), [](double x) { return x != 0; }));
           },
       .dtypes = {bool_, float32, int32, uint8, float16},
       .grad = false,
       .lo = -1,
       .hi = 2,
       .integer_values = true},
      {.op = "all",
       .run = [](const Tensor& x, const Shape& a, bool k) { return all(x, a, k); },
       .ref =
           [](const Values& v) {
             return double(std::all_of(v.begin(), v.end(), [](double x) { return x != 0; }));
           },
       .dtypes = {bool_, float32, int64, int8},
       .grad = false,
       .lo = -1,
       .hi = 2,
       .integer_values = true},
  };
  std::vector<Row> rows;
  for (const ReductionSpec& s : specs) {
    std::vector<Row> r = reduction_rows(s);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  return rows;
}

// --- argmax / argmin: the first index of the extremum, along one axis or flattened.
Row arg_row(bool is_max, std::optional<int64_t> axis, bool keepdims, std::string variant) {
  std::string op = is_max ? "argmax" : "argmin";
  Row r{.op = op, .variant = variant};
  r.samples = {{Arg{.shape = {3, 4}, .integer_values = true}},
               {Arg{.shape = {4, 5}, .non_contiguous = true}},
               {Arg{.shape = {300, 700}}},
               {Arg{.shape = {2, 3, 4}, .integer_values = true}}};
  if (!axis) r.samples.push_back({Arg{.shape = {}}});
  r.run = [=](const std::vector<Tensor>& in) {
    return is_max ? argmax(in[0], axis, keepdims) : argmin(in[0], axis, keepdims);
  };
  r.ref = [=](const std::vector<Ref>& in) {
    Shape axes = axis ? Shape{*axis} : Shape{};
    return reduce_ref(in[0], axes, keepdims, [&](const Values& v) {
      auto it =
          is_max ? std::max_element(v.begin(), v.end()) : std::min_element(v.begin(), v.end());
      return double(it - v.begin());
    });
  };
  r.dtypes = {float32, float64, float16, int32, int64, uint8, int8};
  r.grad = false;
  return r;
}

// --- scans along one axis.
Ref scan_ref(const Ref& x, int64_t axis, bool is_prod) {
  Ref r = x;
  if (x.shape.empty()) return r;
  int64_t nd = int64_t(x.shape.size());
  axis = axis < 0 ? axis + nd : axis;
  int64_t n = x.shape[std::size_t(axis)], inner = 1;
  for (int64_t d = axis + 1; d < nd; ++d) inner *= x.shape[std::size_t(d)];
  int64_t outer = n == 0 ? 0 : int64_t(x.v.size()) / (n * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = is_prod ? 1 : 0;
      for (int64_t k = 0; k < n; ++k) {
        std::size_t at = std::size_t((o * n + k) * inner + i);
        acc = is_prod ? acc * x.v[at] : acc + x.v[at];
        r.v[at] = acc;
      }
    }
  return r;
}

Row scan_row(bool is_prod, int64_t axis, std::string variant, double lo, double hi,
             bool integer_values, std::vector<DType> dtypes) {
  Row r{.op = is_prod ? "cumprod" : "cumsum", .variant = variant};
  for (Shape s : {Shape{3, 4}, Shape{4, 5}, Shape{2, 3, 4}, Shape{300, 200}, Shape{0, 4}})
    r.samples.push_back({Arg{.shape = s,
                             .non_contiguous = s == Shape{4, 5},
                             .lo = lo,
                             .hi = hi,
                             .integer_values = integer_values}});
  if (axis == -1) r.samples.push_back({Arg{.shape = {}, .lo = lo, .hi = hi}});
  r.run = [=](const std::vector<Tensor>& in) {
    return is_prod ? cumprod(in[0], axis) : cumsum(in[0], axis);
  };
  r.ref = [=](const std::vector<Ref>& in) { return scan_ref(in[0], axis, is_prod); };
  r.dtypes = dtypes;
  r.tol_scale = 20;
  return r;
}

// --- softmax and log_softmax along one axis.
Row softmax_row(bool log, int64_t axis, std::string variant) {
  Row r{.op = log ? "log_softmax" : "softmax", .variant = variant};
  r.samples = {{Arg{.shape = {3, 4}}},
               {Arg{.shape = {4, 5}, .non_contiguous = true}},
               {Arg{.shape = {2, 3, 4}, .lo = -20, .hi = 20}},
               {Arg{.shape = {300, 200}, .lo = -50, .hi = 50}},
               {Arg{.shape = {4, 30, 300}}},
               {Arg{.shape = {0, 3}}}};
  if (axis == -1) r.samples.push_back({Arg{.shape = {}}});
  r.run = [=](const std::vector<Tensor>& in) {
    return log ? log_softmax(in[0], axis) : softmax(in[0], axis);
  };
  r.ref = [=](const std::vector<Ref>& in) {
    const Ref& x = in[0];
    if (x.shape.empty()) return Ref{{}, {log ? 0.0 : 1.0}};
    Ref r = x;
    int64_t nd = int64_t(x.shape.size()), ax = axis < 0 ? axis + nd : axis;
    int64_t n = x.shape[std::size_t(ax)], inner = 1;
    for (int64_t d = ax + 1; d < nd; ++d) inner *= x.shape[std::size_t(d)];
    int64_t outer = n == 0 ? 0 : int64_t(x.v.size()) / (n * inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        Values v;
        for (int64_t k = 0; k < n; ++k) v.push_back(x.v[std::size_t((o * n + k) * inner + i)]);
        double lse = g_lse(v);
        for (int64_t k = 0; k < n; ++k) {
          double& out = r.v[std::size_t((o * n + k) * inner + i)];
          out = log ? out - lse : std::exp(out - lse);
        }
      }
    return r;
  };
  r.dtypes = kFloats;
  r.tol_scale = log ? 20 : 5;
  return r;
}

std::vector<Row> compare_mask_rows() {
  Row r{.op = "compare_mask"};
  r.samples = binary_samples(-2, 2);
  for (auto& s : r.samples)
    for (Arg& a : s) a.integer_values = true;
  r.run = [](const std::vector<Tensor>& in) {
    return compare_mask(in[0], in[1], "eq") + compare_mask(in[0], in[1], "gt") * 2 +
           compare_mask(in[0], in[1], "lt") * 4;
  };
  r.ref = [](const std::vector<Ref>& in) {
    return binary_ref(in[0], in[1], [](double a, double b) {
      return a == b ? 1.0 : a > b ? 2.0 : 4.0;
    });
  };
  r.dtypes = {float32, float64, int32, int64, float16};
  r.grad = false;
  return {r};
}

Row one_hot_row() {
  Row r{.op = "one_hot"};
  r.samples = {{Arg{.shape = {6}, .dtype = int64, .lo = 0, .hi = 5}},
               {Arg{.shape = {3, 4}, .non_contiguous = true, .dtype = int64, .lo = 0, .hi = 5}},
               {Arg{.shape = {}, .dtype = int64, .lo = 0, .hi = 5}},
               {Arg{.shape = {0, 2}, .dtype = int64, .lo = 0, .hi = 5}},
               {Arg{.shape = {9000}, .dtype = int64, .lo = 0, .hi = 5}}};
  r.run = [](const std::vector<Tensor>& in) { return one_hot(in[0], 5); };
  r.ref = [](const std::vector<Ref>& in) {
    Shape s = in[0].shape;
    s.push_back(5);
    Ref r{s, Values(in[0].v.size() * 5, 0.0)};
    for (std::size_t i = 0; i < in[0].v.size(); ++i) r.v[i * 5 + std::size_t(in[0].v[i])] = 1;
    return r;
  };
  r.dtypes = {int64};
  r.grad = false;
  return r;
}

std::vector<Row> make_rows() {
  std::vector<Row> rows = all_reduction_rows();
  for (bool m : {true, false}) {
    rows.push_back(arg_row(m, std::nullopt, false, "flat"));
    rows.push_back(arg_row(m, std::nullopt, true, "flat_keepdims"));
    rows.push_back(arg_row(m, -1, false, "last"));
    rows.push_back(arg_row(m, 0, true, "first_keepdims"));
    rows.push_back(arg_row(m, 1, false, "middle"));
  }
  std::vector<DType> scan_types = {float32, float64, float16, int32, int64, bool_};
  rows.push_back(scan_row(false, -1, "last", -2, 2, false, scan_types));
  rows.push_back(scan_row(false, 0, "first", -2, 2, false, scan_types));
  rows.push_back(scan_row(true, -1, "last", 0.9, 1.1, false, {float32, float64}));
  rows.push_back(scan_row(true, 0, "first", 0.9, 1.1, false, {float32, float64}));
  rows.push_back(scan_row(true, 1, "zeros", -2, 2, true, {float64, int64}));
  for (bool log : {false, true}) {
    rows.push_back(softmax_row(log, -1, "last"));
    rows.push_back(softmax_row(log, 0, "first"));
    rows.push_back(softmax_row(log, 1, "second"));
  }
  std::vector<Row> cm = compare_mask_rows();
  rows.insert(rows.end(), cm.begin(), cm.end());
  rows.push_back(one_hot_row());
  return rows;
}

Registrar reduce_rows(make_rows());

}  // namespace
}  // namespace nabla::optable
