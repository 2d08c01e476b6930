// Rows for the core ops: conversions, copies, arithmetic, sum and the views.
#include <cmath>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kAll = {float32, float64, float16, bfloat16, int32, int64, int8, uint8};
const std::vector<DType> kFloats = {float32, float64, float16, bfloat16};

// Reference for a strided view: out[i] = x[base + sum(idx * strides)] over row-major x.
Ref gather_ref(const Ref& x, const Shape& out_shape, const Strides& strides, int64_t base) {
  Ref r{out_shape, std::vector<double>(std::size_t(numel_of(out_shape)))};
  for (std::size_t flat = 0; flat < r.v.size(); ++flat) {
    int64_t rem = int64_t(flat), off = base;
    for (std::size_t d = out_shape.size(); d-- > 0;) {
      off += (rem % out_shape[d]) * strides[d];
      rem /= out_shape[d];
    }
    r.v[flat] = x.v[std::size_t(off)];
  }
  return r;
}

Ref sum_ref(const Ref& x, const Shape& axes, bool keepdims) {
  std::vector<bool> red(x.shape.size(), axes.empty());
  for (int64_t a : axes) red[std::size_t(a < 0 ? a + int64_t(x.shape.size()) : a)] = true;
  Shape out;
  for (std::size_t d = 0; d < x.shape.size(); ++d)
    if (!red[d]) out.push_back(x.shape[d]);
    else if (keepdims) out.push_back(1);
  Ref r{out, std::vector<double>(std::size_t(numel_of(out)), 0.0)};
  Strides xs = contiguous_strides(x.shape);
  for (std::size_t flat = 0; flat < x.v.size(); ++flat) {
    int64_t o = 0, rem = int64_t(flat);
    Shape idx(x.shape.size());
    for (std::size_t d = x.shape.size(); d-- > 0;) {
      idx[d] = rem % x.shape[d];
      rem /= x.shape[d];
    }
    for (std::size_t d = 0; d < x.shape.size(); ++d)
      if (!red[d]) o = o * x.shape[d] + idx[d];
    r.v[std::size_t(o)] += x.v[flat];
  }
  return r;
}

NABLA_OP_ROWS(
    Row{.op = "astype",
        .samples = unary_samples(-100, 100),
        .run = [](const std::vector<Tensor>& in) { return in[0].astype(float64).astype(int32); },
        .ref = [](const std::vector<Ref>& in) { return unary_ref(in[0], [](double v) { return std::trunc(v); }); },
        .dtypes = kAll,
        .grad = false},
    Row{.op = "copy",
        .samples = unary_samples(),
        .run = [](const std::vector<Tensor>& in) { return in[0].clone(); },
        .ref = [](const std::vector<Ref>& in) { return in[0]; },
        .dtypes = kAll},
    Row{.op = "fill",
        .samples = {{Arg{.shape = {2, 3}}}, {Arg{.shape = {}}}, {Arg{.shape = {0, 4}}}},
        .run = [](const std::vector<Tensor>& in) { return full_like(in[0], 1.5).astype(float64); },
        .ref = [](const std::vector<Ref>& in) { return unary_ref(in[0], [](double) { return 1.5; }); },
        .grad = false,
        .also_covers = {"astype"}},
    Row{.op = "arange",
        .samples = {{Arg{.shape = {7}}}, {Arg{.shape = {0}}}},
        .run = [](const std::vector<Tensor>& in) { return arange(-1.5, -1.5 + 0.5 * double(in[0].numel()), 0.5, in[0].dtype()); },
        .ref = [](const std::vector<Ref>& in) {
          Ref r = in[0];
          for (std::size_t i = 0; i < r.v.size(); ++i) r.v[i] = -1.5 + 0.5 * double(i);
          return r;
        },
        .dtypes = {float32, float64, float16, bfloat16},
        .grad = false},
    Row{.op = "add",
        .samples = binary_samples(),
        .run = [](const std::vector<Tensor>& in) { return in[0] + in[1]; },
        .ref = [](const std::vector<Ref>& in) { return binary_ref(in[0], in[1], [](double a, double b) { return a + b; }); },
        .dtypes = kAll},
    Row{.op = "sub",
        .samples = binary_samples(),
        .run = [](const std::vector<Tensor>& in) { return in[0] - in[1]; },
        .ref = [](const std::vector<Ref>& in) { return binary_ref(in[0], in[1], [](double a, double b) { return a - b; }); },
        .dtypes = {float32, float64, float16, bfloat16, int32, int64}},
    Row{.op = "mul",
        .samples = binary_samples(),
        .run = [](const std::vector<Tensor>& in) { return in[0] * in[1]; },
        .ref = [](const std::vector<Ref>& in) { return binary_ref(in[0], in[1], [](double a, double b) { return a * b; }); },
        .dtypes = kAll,
        .second_order = true},
    Row{.op = "div",
        .samples = binary_samples(0.5, 2),
        .run = [](const std::vector<Tensor>& in) { return in[0] / in[1]; },
        .ref = [](const std::vector<Ref>& in) { return binary_ref(in[0], in[1], [](double a, double b) { return a / b; }); },
        .dtypes = kFloats,
        .second_order = true},
    Row{.op = "sum",
        .variant = "all",
        .samples = {{Arg{.shape = {3, 4}}}, {Arg{.shape = {}}}, {Arg{.shape = {0, 3}}},
                    {Arg{.shape = {4, 5}, .non_contiguous = true}}, {Arg{.shape = {300, 700}}}},
        .run = [](const std::vector<Tensor>& in) { return sum(in[0]); },
        .ref = [](const std::vector<Ref>& in) { return sum_ref(in[0], {}, false); },
        .dtypes = {float32, float64, int32, int64, bool_, float16},
        .tol_scale = 20},
    Row{.op = "sum",
        .variant = "last_axis",
        .samples = {{Arg{.shape = {3, 4}}}, {Arg{.shape = {4, 5}, .non_contiguous = true}},
                    {Arg{.shape = {300, 700}}}, {Arg{.shape = {2, 3, 4}}}},
        .run = [](const std::vector<Tensor>& in) { return sum(in[0], {-1}); },
        .ref = [](const std::vector<Ref>& in) { return sum_ref(in[0], {-1}, false); },
        .dtypes = {float32, float64, int64},
        .second_order = true,
        .tol_scale = 20},
    Row{.op = "sum",
        .variant = "first_axes_keepdims",
        .samples = {{Arg{.shape = {3, 4}}}, {Arg{.shape = {4, 5}, .non_contiguous = true}},
                    {Arg{.shape = {300, 700}}}, {Arg{.shape = {2, 3, 4}}}},
        .run = [](const std::vector<Tensor>& in) { return in[0].ndim() == 3 ? sum(in[0], {0, 2}, true) : sum(in[0], {0}, true); },
        .ref = [](const std::vector<Ref>& in) {
          return in[0].shape.size() == 3 ? sum_ref(in[0], {0, 2}, true) : sum_ref(in[0], {0}, true);
        },
        .dtypes = {float32, float64, int64},
        .tol_scale = 20},
    Row{.op = "reshape",
        .samples = {{Arg{.shape = {3, 4}}}, {Arg{.shape = {4, 3}, .non_contiguous = true}}},
        .run = [](const std::vector<Tensor>& in) { return in[0].reshape({2, -1}); },
        .ref = [](const std::vector<Ref>& in) { return Ref{{2, 6}, in[0].v}; },
        .dtypes = kAll,
        .also_covers = {"view_scatter"}},
    Row{.op = "permute",
        .samples = {{Arg{.shape = {2, 3, 4}}}},
        .run = [](const std::vector<Tensor>& in) { return in[0].permute({2, 0, 1}); },
        .ref = [](const std::vector<Ref>& in) { return gather_ref(in[0], {4, 2, 3}, {1, 12, 4}, 0); },
        .dtypes = kAll},
    Row{.op = "expand",
        .samples = {{Arg{.shape = {3, 1}}}},
        .run = [](const std::vector<Tensor>& in) { return in[0].expand({2, 3, 4}); },
        .ref = [](const std::vector<Ref>& in) { return gather_ref(in[0], {2, 3, 4}, {0, 1, 0}, 0); },
        .dtypes = kAll},
    Row{.op = "slice",
        .samples = {{Arg{.shape = {5, 6}}}, {Arg{.shape = {5, 6}, .non_contiguous = true}}},
        .run = [](const std::vector<Tensor>& in) { return in[0].slice(1, -5, 6, 2); },
        .ref = [](const std::vector<Ref>& in) { return gather_ref(in[0], {5, 3}, {6, 2}, 1); },
        .dtypes = kAll},
    Row{.op = "select",
        .samples = {{Arg{.shape = {5, 6}}}},
        .run = [](const std::vector<Tensor>& in) { return in[0].select(0, -2); },
        .ref = [](const std::vector<Ref>& in) { return gather_ref(in[0], {6}, {1}, 18); },
        .dtypes = kAll},
    Row{.op = "diagonal",
        .samples = {{Arg{.shape = {4, 5}}}},
        .run = [](const std::vector<Tensor>& in) { return in[0].diagonal(1); },
        .ref = [](const std::vector<Ref>& in) { return gather_ref(in[0], {4}, {6}, 1); },
        .dtypes = kAll});

}  // namespace
}  // namespace nabla::optable
