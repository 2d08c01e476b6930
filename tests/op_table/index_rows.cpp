// Rows for joining, indexing, padding and sorting ops. References are plain loops over Ref.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kAll = {float32, float64, float16, bfloat16, int32,
                                 int64,   int8,    uint8,   bool_};
const std::vector<DType> kNumeric = {float32, float64, float16, bfloat16,
                                     int32,   int64,   int8,    uint8};

Arg A(Shape s, bool nc = false) { return Arg{.shape = s, .non_contiguous = nc}; }
// int64 indices in [-n, n).
Arg I(Shape s, int64_t n, bool nc = false, DType t = int64) {
  return Arg{.shape = s,
             .non_contiguous = nc,
             .dtype = t,
             .lo = double(-n),
             .hi = double(n),
             .integer_values = true};
}
// float64 sort keys that only decide an order (never differentiated).
Arg K(Shape s) { return Arg{.shape = s, .dtype = float64, .differentiable = false}; }

Shape unravel(int64_t flat, const Shape& s) {
  Shape i(s.size());
  for (std::size_t d = s.size(); d-- > 0;) {
    i[d] = flat % s[d];
    flat /= s[d];
  }
  return i;
}
int64_t ravel(const Shape& i, const Shape& s) {
  int64_t f = 0;
  for (std::size_t d = 0; d < s.size(); ++d) f = f * s[d] + i[d];
  return f;
}
Ref zeros_ref(const Shape& s) { return Ref{s, std::vector<double>(std::size_t(numel_of(s)), 0.0)}; }
std::size_t axis_of(int64_t axis, std::size_t nd) {
  return std::size_t(axis < 0 ? axis + int64_t(nd) : axis);
}
int64_t wrap(double v, int64_t n) { return v < 0 ? int64_t(v) + n : int64_t(v); }

Ref concat_ref(const std::vector<Ref>& in, int64_t axis) {
  std::vector<Ref> parts;
  for (const Ref& r : in)
    if (!(r.shape.size() == 1 && r.v.empty())) parts.push_back(r);
  std::size_t ax = axis_of(axis, parts[0].shape.size());
  Shape out = parts[0].shape;
  for (std::size_t k = 1; k < parts.size(); ++k) out[ax] += parts[k].shape[ax];
  Ref r = zeros_ref(out);
  int64_t at = 0;
  for (const Ref& p : parts) {
    for (std::size_t f = 0; f < p.v.size(); ++f) {
      Shape i = unravel(int64_t(f), p.shape);
      i[ax] += at;
      r.v[std::size_t(ravel(i, out))] = p.v[f];
    }
    at += p.shape[ax];
  }
  return r;
}

Ref gather_ref(const Ref& x, int64_t axis, const Ref& idx) {
  Ref r = zeros_ref(idx.shape);
  for (std::size_t f = 0; f < r.v.size(); ++f) {
    Shape i = unravel(int64_t(f), idx.shape);
    if (!i.empty()) {
      std::size_t ax = axis_of(axis, i.size());
      i[ax] = wrap(idx.v[f], x.shape[ax]);
    }
    r.v[f] = x.at(i);
  }
  return r;
}

Ref scatter_ref(Ref x, int64_t axis, const Ref& idx, const Ref& src, bool add) {
  for (std::size_t f = 0; f < idx.v.size(); ++f) {
    Shape i = unravel(int64_t(f), idx.shape);
    double s = src.at(i);
    if (!i.empty()) {
      std::size_t ax = axis_of(axis, i.size());
      i[ax] = wrap(idx.v[f], x.shape[ax]);
    }
    double& dst = x.v[std::size_t(ravel(i, x.shape))];
    dst = add ? dst + s : s;
  }
  return x;
}

// Stable order of `line` (descending: larger first, ties by position).
std::vector<int64_t> order_ref(const std::vector<double>& line, bool desc) {
  std::vector<int64_t> o(line.size());
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(), [&](int64_t a, int64_t b) {
    return desc ? line[std::size_t(a)] > line[std::size_t(b)]
                : line[std::size_t(a)] < line[std::size_t(b)];
  });
  return o;
}

// Applies f to each line of x along axis; f returns the output line (of length `len`).
Ref along_axis(const Ref& x, int64_t axis, int64_t len,
               const std::function<std::vector<double>(const std::vector<double>&)>& f) {
  if (x.shape.empty()) return Ref{{}, f(x.v)};
  std::size_t ax = axis_of(axis, x.shape.size());
  Shape out = x.shape;
  out[ax] = len;
  Ref r = zeros_ref(out);
  Shape outer = x.shape;
  outer[ax] = 1;
  for (int64_t o = 0; o < numel_of(outer); ++o) {
    Shape i = unravel(o, outer);
    std::vector<double> line;
    for (int64_t k = 0; k < x.shape[ax]; ++k) {
      i[ax] = k;
      line.push_back(x.at(i));
    }
    std::vector<double> res = f(line);
    for (int64_t k = 0; k < len; ++k) {
      i[ax] = k;
      r.v[std::size_t(ravel(i, out))] = res[std::size_t(k)];
    }
  }
  return r;
}

Ref argsort_ref(const Ref& x, int64_t axis, bool desc) {
  int64_t n = x.shape.empty() ? 1 : x.shape[axis_of(axis, x.shape.size())];
  return along_axis(x, axis, n, [&](const std::vector<double>& line) {
    std::vector<double> r;
    for (int64_t i : order_ref(line, desc)) r.push_back(double(i));
    return r;
  });
}

// Padded shape from torch-style pads (last dim first); src(dim, coord) maps an output
// coordinate to the input's, or -1 for the constant.
Ref pad_ref(const Ref& x, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  std::size_t nd = x.shape.size();
  Shape lo(nd, 0), out = x.shape;
  for (std::size_t k = 0; k < pads.size() / 2; ++k) {
    std::size_t d = nd - 1 - k;
    lo[d] = pads[2 * k];
    out[d] += pads[2 * k] + pads[2 * k + 1];
  }
  Ref r = zeros_ref(out);
  for (std::size_t f = 0; f < r.v.size(); ++f) {
    Shape i = unravel(int64_t(f), out);
    bool outside = false;
    for (std::size_t d = 0; d < nd; ++d) {
      int64_t c = i[d] - lo[d], n = x.shape[d];
      if (mode == "reflect") {
        while (c < 0 || c >= n) c = c < 0 ? -c : 2 * (n - 1) - c;
      } else if (mode == "replicate") {
        c = c < 0 ? 0 : (c >= n ? n - 1 : c);
      } else {
        outside |= c < 0 || c >= n;
      }
      i[d] = c;
    }
    r.v[f] = outside ? value : x.at(i);
  }
  return r;
}

Ref roll_ref(const Ref& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& axes) {
  Ref r = zeros_ref(x.shape);
  for (std::size_t f = 0; f < x.v.size(); ++f) {
    Shape i = unravel(int64_t(f), x.shape);
    for (std::size_t k = 0; k < axes.size(); ++k) {
      std::size_t d = axis_of(axes[k], x.shape.size());
      int64_t n = x.shape[d];
      i[d] = (((i[d] + shifts[k]) % n) + n) % n;
    }
    r.v[std::size_t(ravel(i, x.shape))] = x.v[f];
  }
  return r;
}

Ref triangle_ref(const Ref& x, int64_t k, bool lower) {
  Ref r = x;
  std::size_t nd = x.shape.size();
  for (std::size_t f = 0; f < r.v.size(); ++f) {
    Shape i = unravel(int64_t(f), x.shape);
    int64_t diff = i[nd - 1] - i[nd - 2];
    if (lower ? diff > k : diff < k) r.v[f] = 0;
  }
  return r;
}

// A permutation per column (axis 0) or row (axis 1) from sort keys, cut to its first `keep`.
Tensor unique_index(const Tensor& keys, int64_t axis, int64_t keep) {
  return argsort(keys, axis).slice(axis, 0, keep);
}
Ref unique_index_ref(const Ref& keys, int64_t axis, int64_t keep) {
  Ref full = argsort_ref(keys, axis, false);
  std::size_t ax = axis_of(axis, keys.shape.size());
  Shape out = keys.shape;
  out[ax] = keep;
  Ref r = zeros_ref(out);
  for (std::size_t f = 0; f < r.v.size(); ++f) r.v[f] = full.at(unravel(int64_t(f), out));
  return r;
}
int64_t keep_of(int64_t n) { return (3 * n + 3) / 4; }

const auto kPadSamples = std::vector<std::vector<Arg>>{
    {A({3, 4})}, {A({4, 5}, true)}, {A({2, 3, 4})}, {A({0, 3})}, {A({200, 200})}};
const auto kRearrangeSamples = std::vector<std::vector<Arg>>{
    {A({3, 4})}, {A({4, 5}, true)}, {A({2, 3, 4})}, {A({0, 3})}, {A({300, 200})}};

NABLA_OP_ROWS(
    Row{.op = "concat",
        .samples = {{A({2, 3}), A({2, 4}), A({2, 1})},
                    {A({4, 5}, true), A({4, 2})},
                    {A({3, 0}), A({3, 2})},
                    {A({200, 100}), A({200, 150})}},
        .run = [](const std::vector<Tensor>& in) { return concat(in, -1); },
        .ref = [](const std::vector<Ref>& in) { return concat_ref(in, -1); },
        .dtypes = kAll},
    Row{.op = "concat",
        .variant = "axis0",
        .samples = {{A({3}), A({0}), A({2})},
                    {A({2, 3}, true), A({4, 3})},
                    {A({200, 100}), A({300, 100}, true)}},
        .run = [](const std::vector<Tensor>& in) { return concat(in, 0); },
        .ref = [](const std::vector<Ref>& in) { return concat_ref(in, 0); },
        .dtypes = kAll},
    Row{.op = "concat",
        .variant = "stack",
        .samples = {{A({2, 3}), A({2, 3}), A({2, 3})},
                    {A({4, 5}, true), A({4, 5})},
                    {A({}), A({})},
                    {A({0, 2}), A({0, 2})}},
        .run = [](const std::vector<Tensor>& in) { return stack(in, -1); },
        .ref =
            [](const std::vector<Ref>& in) {
              std::vector<Ref> parts;
              for (Ref r : in) {
                r.shape.push_back(1);
                parts.push_back(r);
              }
              return concat_ref(parts, -1);
            },
        .dtypes = kAll},
    Row{.op = "concat",
        .variant = "split",
        .samples = {{A({3, 5})}, {A({4, 5}, true)}, {A({2, 5, 3})}},
        .run =
            [](const std::vector<Tensor>& in) {
              auto p = split(in[0], {1, 3, 1}, 1);
              return concat({p[2], p[0] * 2, p[1] * 3}, 1);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref& x = in[0];
              Ref r = x;
              for (std::size_t f = 0; f < x.v.size(); ++f) {
                Shape i = unravel(int64_t(f), x.shape);
                int64_t c = i[1];
                double scale = c == 0 ? 2 : (c == 4 ? 1 : 3);
                i[1] = c == 4 ? 0 : c + 1;
                r.v[std::size_t(ravel(i, x.shape))] = x.v[f] * scale;
              }
              return r;
            },
        .also_covers = {"mul"}},
    Row{.op = "concat",
        .variant = "chunk",
        .samples = {{A({7, 2})}, {A({5, 4}, true)}, {A({3, 2, 2})}},
        .run =
            [](const std::vector<Tensor>& in) {
              auto p = chunk(in[0], 3, 0);  // sizes ceil(n / 3), ..., the rest
              std::reverse(p.begin(), p.end());
              return concat(p, 0);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref& x = in[0];
              int64_t n = x.shape[0], c = (n + 2) / 3, inner = numel_of(x.shape) / n;
              Ref r = x;
              std::size_t at = 0;
              for (int64_t start = (n - 1) / c * c; start >= 0; start -= c)
                for (int64_t row = start; row < std::min(n, start + c); ++row)
                  for (int64_t j = 0; j < inner; ++j) r.v[at++] = x.v[std::size_t(row * inner + j)];
              return r;
            }},
    Row{.op = "gather",
        .samples = {{A({4, 5}), I({4, 7}, 5)},
                    {A({4, 5}, true), I({2, 3}, 5, true)},
                    {A({}), I({}, 1)},
                    {A({3, 0}), I({3, 0}, 1)},
                    {A({2, 3, 4}), I({2, 2, 6}, 4, false, int32)},
                    {A({300, 200}), I({300, 150}, 200)}},
        .run = [](const std::vector<Tensor>& in) { return gather(in[0], -1, in[1]); },
        .ref = [](const std::vector<Ref>& in) { return gather_ref(in[0], -1, in[1]); },
        .dtypes = kAll,
        .also_covers = {"scatter_add"}},
    Row{.op = "gather",
        .variant = "axis0",
        .samples = {{A({4, 3}), I({6, 3}, 4)}, {A({5, 4}, true), I({2, 4}, 5)}},
        .run = [](const std::vector<Tensor>& in) { return gather(in[0], 0, in[1]); },
        .ref = [](const std::vector<Ref>& in) { return gather_ref(in[0], 0, in[1]); },
        .dtypes = kAll},
    Row{.op = "gather",
        .variant = "take_along_axis",
        .samples = {{A({3, 1, 4}), I({1, 5, 6}, 4)},
                    {A({2, 3}), I({2, 3}, 3)},
                    {A({2, 4}, true), I({1, 2}, 4)}},
        .run = [](const std::vector<Tensor>& in) { return take_along_axis(in[0], in[1], -1); },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref &x = in[0], &idx = in[1];
              Shape out = idx.shape;
              for (std::size_t d = 0; d + 1 < out.size(); ++d)
                out[d] = std::max(x.shape[d], idx.shape[d]);
              Ref r = zeros_ref(out);
              for (std::size_t f = 0; f < r.v.size(); ++f) {
                Shape o = unravel(int64_t(f), out), xi = o, ii = o;
                for (std::size_t d = 0; d + 1 < out.size(); ++d) {
                  if (x.shape[d] == 1) xi[d] = 0;
                  if (idx.shape[d] == 1) ii[d] = 0;
                }
                xi.back() = wrap(idx.at(ii), x.shape.back());
                r.v[f] = x.at(xi);
              }
              return r;
            },
        .dtypes = kAll},
    Row{.op = "index_select",
        .samples = {{A({4, 5}), I({7}, 4)},
                    {A({4, 5}, true), I({3}, 4)},
                    {A({4, 5}), I({}, 4)},
                    {A({4, 0}), I({2}, 4, false, int32)},
                    {A({0, 3}), I({0}, 1)},
                    {A({300, 200}), I({400}, 300)},
                    {A({300, 200}, true), I({200}, 300)}},
        .run = [](const std::vector<Tensor>& in) { return index_select(in[0], 0, in[1]); },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref &x = in[0], &idx = in[1];
              Shape out = x.shape;
              out[0] = int64_t(idx.v.size());
              Ref r = zeros_ref(out);
              for (std::size_t f = 0; f < r.v.size(); ++f) {
                Shape i = unravel(int64_t(f), out);
                i[0] = wrap(idx.v[std::size_t(i[0])], x.shape[0]);
                r.v[f] = x.at(i);
              }
              return r;
            },
        .dtypes = kAll},
    Row{.op = "index_select",
        .variant = "last_axis",
        .samples = {{A({3, 4, 5}), I({6}, 5)}, {A({3, 5}, true), I({2}, 5)}},
        .run = [](const std::vector<Tensor>& in) { return index_select(in[0], -1, in[1]); },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref &x = in[0], &idx = in[1];
              Shape out = x.shape;
              out.back() = int64_t(idx.v.size());
              Ref r = zeros_ref(out);
              for (std::size_t f = 0; f < r.v.size(); ++f) {
                Shape i = unravel(int64_t(f), out);
                i.back() = wrap(idx.v[std::size_t(i.back())], x.shape.back());
                r.v[f] = x.at(i);
              }
              return r;
            },
        .dtypes = {float32, float64, int64}},
    // Unique indices (from sort keys) so that the gradient of overwritten entries is defined.
    Row{.op = "scatter",
        .samples = {{A({5, 4}), K({5, 4}), A({6, 3})},
                    {A({4, 5}, true), K({4, 5}), A({4, 5}, true)},
                    {A({2, 0}), K({2, 0}), A({2, 0})},
                    {A({300, 200}), K({300, 200}), A({300, 200})}},
        .run =
            [](const std::vector<Tensor>& in) {
              return scatter(in[0], -1, unique_index(in[1], -1, keep_of(in[0].shape().back())),
                             in[2]);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return scatter_ref(in[0], -1,
                                 unique_index_ref(in[1], -1, keep_of(in[0].shape.back())), in[2],
                                 false);
            },
        .dtypes = kAll,
        .also_covers = {"argsort"}},
    Row{.op = "scatter",
        .variant = "axis0",
        .samples = {{A({5, 4}), K({5, 4}), A({4, 4})},
                    {A({300, 200}), K({300, 200}), A({300, 200})}},
        .run =
            [](const std::vector<Tensor>& in) {
              return scatter(in[0], 0, unique_index(in[1], 0, keep_of(in[0].shape()[0])), in[2]);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return scatter_ref(in[0], 0, unique_index_ref(in[1], 0, keep_of(in[0].shape[0])),
                                 in[2], false);
            },
        .dtypes = {float32, float64, int64}},
    Row{.op = "scatter_add",
        .samples = {{A({4, 5}), I({4, 7}, 5), A({5, 8})},
                    {A({4, 5}, true), I({3, 5}, 5, true), A({3, 5}, true)},
                    {A({}), I({}, 1), A({})},
                    {A({300, 200}), I({300, 150}, 200), A({300, 150})}},
        .run = [](const std::vector<Tensor>& in) { return scatter_add(in[0], -1, in[1], in[2]); },
        .ref =
            [](const std::vector<Ref>& in) { return scatter_ref(in[0], -1, in[1], in[2], true); },
        .dtypes = {float32, float64, float16, bfloat16, int32, int64},
        .tol_scale = 4},
    Row{.op = "scatter_add",
        .variant = "axis0",
        .samples = {{A({4, 3}), I({6, 3}, 4), A({6, 3})},
                    {A({300, 200}), I({400, 200}, 300), A({400, 200})}},
        .run = [](const std::vector<Tensor>& in) { return scatter_add(in[0], 0, in[1], in[2]); },
        .ref = [](const std::vector<Ref>& in) { return scatter_ref(in[0], 0, in[1], in[2], true); },
        .dtypes = {float32, float64, int64},
        .tol_scale = 4},
    Row{.op = "masked_fill",
        .samples = {{A({3, 4}), Arg{.shape = {3, 4}, .dtype = bool_}},
                    {A({3, 1}), Arg{.shape = {1, 4}, .dtype = bool_}},
                    {A({2, 3, 4}), Arg{.shape = {4}, .dtype = bool_}},
                    {A({}), Arg{.shape = {2, 3}, .dtype = bool_}},
                    {A({0, 3}), Arg{.shape = {3}, .dtype = bool_}},
                    {A({4, 5}, true), Arg{.shape = {4, 5}, .non_contiguous = true, .dtype = bool_}},
                    {A({300, 200}), Arg{.shape = {300, 200}, .dtype = bool_}}},
        .run = [](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], 1.5); },
        .ref =
            [](const std::vector<Ref>& in) {
              return binary_ref(in[0], in[1], [](double x, double m) { return m != 0 ? 1.5 : x; });
            },
        .dtypes = kAll},
    Row{.op = "pad",
        .variant = "constant",
        .samples = kPadSamples,
        .run =
            [](const std::vector<Tensor>& in) {
              return pad(in[0], {1, 2, 0, 3}, PadMode::constant, 0.5);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return pad_ref(in[0], {1, 2, 0, 3}, "constant", 0.5);
            },
        .dtypes = kAll},
    Row{.op = "pad",
        .variant = "reflect",
        .samples = {{A({3, 4})}, {A({4, 5}, true)}, {A({2, 3, 4})}, {A({200, 200})}},
        .run =
            [](const std::vector<Tensor>& in) {
              return pad(in[0], {2, 3, 1, 2}, PadMode::reflect);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return pad_ref(in[0], {2, 3, 1, 2}, "reflect", 0);
            },
        .dtypes = kAll,
        .also_covers = {"pad_backward"}},
    Row{.op = "pad",
        .variant = "replicate",
        .samples = {{A({3, 4})}, {A({1, 5})}, {A({4, 5}, true)}, {A({2, 3, 4})}, {A({200, 200})}},
        .run =
            [](const std::vector<Tensor>& in) {
              return pad(in[0], {3, 1, 0, 2}, PadMode::replicate);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return pad_ref(in[0], {3, 1, 0, 2}, "replicate", 0);
            },
        .dtypes = kAll},
    Row{.op = "flip",
        .samples =
            {{A({3, 4})}, {A({4, 5}, true)}, {A({2, 3, 4})}, {A({0, 3})}, {A({})}, {A({300, 200})}},
        .run =
            [](const std::vector<Tensor>& in) {
              return in[0].ndim() == 0 ? flip(in[0], {0}) : flip(in[0], {0, -1});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref& x = in[0];
              Ref r = x;
              std::size_t nd = x.shape.size();
              for (std::size_t f = 0; nd > 0 && f < x.v.size(); ++f) {
                Shape i = unravel(int64_t(f), x.shape);
                i[0] = x.shape[0] - 1 - i[0];
                i[nd - 1] = x.shape[nd - 1] - 1 - i[nd - 1];
                r.v[std::size_t(ravel(i, x.shape))] = x.v[f];
              }
              return r;
            },
        .dtypes = kAll},
    Row{.op = "roll",
        .samples = kRearrangeSamples,
        .run =
            [](const std::vector<Tensor>& in) {
              return roll(in[0], {1, -7}, {0, -1});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              if (in[0].v.empty()) return in[0];
              return roll_ref(in[0], {1, -7}, {0, -1});
            },
        .dtypes = kAll},
    Row{.op = "roll",
        .variant = "flat",
        .samples = {{A({3, 4})}, {A({4, 5}, true)}, {A({})}},
        .run = [](const std::vector<Tensor>& in) { return roll(in[0], {5}); },
        .ref =
            [](const std::vector<Ref>& in) {
              Ref flat{{int64_t(in[0].v.size())}, in[0].v};
              return Ref{in[0].shape, roll_ref(flat, {5}, {0}).v};
            },
        .dtypes = {float32, float64, int64}},
    Row{.op = "expand",
        .variant = "repeat",
        .samples = {{A({2, 3})}, {A({3, 2}, true)}, {A({})}, {A({0, 2})}},
        .run =
            [](const std::vector<Tensor>& in) {
              std::vector<int64_t> reps(std::size_t(in[0].ndim()), 2);
              if (!reps.empty()) reps.back() = 1;
              reps.insert(reps.begin(), 3);
              return repeat(in[0], reps);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref& x = in[0];
              Shape out{3};
              for (int64_t s : x.shape) out.push_back(2 * s);
              if (x.shape.empty())
                out.back() = 3;
              else
                out.back() = x.shape.back();
              Ref r = zeros_ref(out);
              for (std::size_t f = 0; f < r.v.size(); ++f) {
                Shape i = unravel(int64_t(f), out), xi;
                for (std::size_t d = 1; d < i.size(); ++d) xi.push_back(i[d] % x.shape[d - 1]);
                r.v[f] = x.at(xi);
              }
              return r;
            },
        .dtypes = kAll,
        .also_covers = {"copy", "reshape"}},
    Row{.op = "expand",
        .variant = "tile",
        .samples = {{A({2, 3})}, {A({4})}, {A({2, 1, 3}, true)}},
        .run =
            [](const std::vector<Tensor>& in) {
              return tile(in[0], {2, 3});
            },
        .ref =
            [](const std::vector<Ref>& in) {
              const Ref& x = in[0];
              Shape xs = x.shape;
              while (xs.size() < 2) xs.insert(xs.begin(), 1);
              Shape out = xs;
              out[out.size() - 2] *= 2;
              out[out.size() - 1] *= 3;
              Ref r = zeros_ref(out);
              for (std::size_t f = 0; f < r.v.size(); ++f) {
                Shape i = unravel(int64_t(f), out);
                for (std::size_t d = 0; d < i.size(); ++d) i[d] %= xs[d];
                r.v[f] = x.v[std::size_t(ravel(i, xs))];
              }
              return r;
            },
        .dtypes = {float32, float64, int64, bool_}},
    Row{.op = "tril",
        .samples = kRearrangeSamples,
        .run = [](const std::vector<Tensor>& in) { return tril(in[0], -1); },
        .ref = [](const std::vector<Ref>& in) { return triangle_ref(in[0], -1, true); },
        .dtypes = kAll},
    Row{.op = "triu",
        .samples = kRearrangeSamples,
        .run = [](const std::vector<Tensor>& in) { return triu(in[0], 1); },
        .ref = [](const std::vector<Ref>& in) { return triangle_ref(in[0], 1, false); },
        .dtypes = kAll},
    Row{.op = "argsort",
        .samples =
            {{A({3, 4})}, {A({4, 5}, true)}, {A({2, 3, 4})}, {A({0, 3})}, {A({})}, {A({300, 200})}},
        .run = [](const std::vector<Tensor>& in) { return argsort(in[0]); },
        .ref = [](const std::vector<Ref>& in) { return argsort_ref(in[0], -1, false); },
        .dtypes = kAll,
        .grad = false},
    Row{.op = "argsort",
        .variant = "descending_axis0",
        .samples = {{A({5, 4})}, {A({4, 5}, true)}, {A({300, 200})}},
        .run = [](const std::vector<Tensor>& in) { return argsort(in[0], 0, true); },
        .ref = [](const std::vector<Ref>& in) { return argsort_ref(in[0], 0, true); },
        .dtypes = kAll,
        .grad = false},
    Row{.op = "gather",
        .variant = "sort",
        .samples = {{A({3, 4})}, {A({4, 5}, true)}, {A({2, 3, 4})}, {A({})}, {A({300, 200})}},
        .run = [](const std::vector<Tensor>& in) { return sort(in[0], 0, true); },
        .ref =
            [](const std::vector<Ref>& in) {
              int64_t n = in[0].shape.empty() ? 1 : in[0].shape[0];
              return along_axis(in[0], 0, n, [](std::vector<double> line) {
                std::sort(line.begin(), line.end(), std::greater<>());
                return line;
              });
            },
        .dtypes = kNumeric},
    Row{.op = "topk",
        .samples = {{A({3, 5})}, {A({4, 5}, true)}, {A({2, 3, 6})}, {A({0, 4})}, {A({300, 200})}},
        .run = [](const std::vector<Tensor>& in) { return topk(in[0], 3, -1).indices; },
        .ref =
            [](const std::vector<Ref>& in) {
              return along_axis(in[0], -1, 3, [](const std::vector<double>& line) {
                std::vector<double> r;
                for (int64_t i : order_ref(line, true)) r.push_back(double(i));
                r.resize(3);
                return r;
              });
            },
        .dtypes = kAll,
        .grad = false},
    Row{.op = "topk",
        .variant = "smallest_values",
        .samples = {{A({5, 3})}, {A({5, 4}, true)}, {A({})}, {A({300, 200})}},
        .run =
            [](const std::vector<Tensor>& in) {
              int64_t k = in[0].ndim() == 0 ? 1 : 2;
              return topk(in[0], k, 0, /*largest=*/false).values;
            },
        .ref =
            [](const std::vector<Ref>& in) {
              int64_t k = in[0].shape.empty() ? 1 : 2;
              return along_axis(in[0], 0, k, [k](std::vector<double> line) {
                std::sort(line.begin(), line.end());
                line.resize(std::size_t(k));
                return line;
              });
            },
        .dtypes = kNumeric,
        .also_covers = {"gather"}});

}  // namespace
}  // namespace nabla::optable
