// Pooling: max and average over 2 or 3 spatial dims, adaptive average and max over 2; the
// 1-d forms are views onto the 2-d ops with a unit height. Each pool has a gradient op whose
// own VJP closes the loop (the gradient of a linear map is its adjoint), so pooling layers
// take gradients of any order.
#include "nabla/ops/pool.h"

#include "ops/common.h"

namespace nabla {
namespace {

// Window attributes: kernel, stride and padding (each side), one value per spatial dim; the
// adaptive pools have output_size instead. Average pools add count_include_pad, their
// gradients input_shape.

enum Family { kWindow2d, kWindow3d, kAdaptive2d, kFamilies };
enum Role { kMax, kMaxBackward, kMaxSelect, kAvg, kAvgBackward, kRoles };

// Filled in order by the definitions below (static initialisation runs top to bottom).
const OpDef* ops_of[kFamilies][kRoles];

Family family_of(const Attrs& a) {
  if (a.has("output_size")) return kAdaptive2d;
  return a.get<Shape>("kernel").size() == 3 ? kWindow3d : kWindow2d;
}
const OpDef& op(const Attrs& a, Role r) { return *ops_of[family_of(a)][r]; }

const OpDef& define(Family f, Role r, OpDef def) {
  const OpDef& d = define_op(std::move(def));
  ops_of[f][r] = &d;
  return d;
}

Attrs with(Attrs a, const char* name, AttrValue value) {
  a.set(name, std::move(value));
  return a;
}

Attrs without(const Attrs& a, const char* name) {
  Attrs out;
  for (const Attr& e : a.items())
    if (std::strcmp(e.name, name) != 0) out.set(e.name, e.value);
  return out;
}

Shape pooled_shape(const Shape& x, const Attrs& a) {
  Shape y{x[0], x[1]};
  if (a.has("output_size")) {
    for (int64_t e : a.get<Shape>("output_size")) y.push_back(e);
    return y;
  }
  const Shape &k = a.get<Shape>("kernel"), &s = a.get<Shape>("stride"),
              &p = a.get<Shape>("padding");
  for (std::size_t i = 0; i < k.size(); ++i) y.push_back((x[2 + i] + 2 * p[i] - k[i]) / s[i] + 1);
  return y;
}

OpDef max_def(const char* name) {
  return {
      .name = name,
      .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
        return {pooled_shape(in[0].shape(), a), in[0].dtype()};
      },
      .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
        return {apply(op(c.attrs, kMaxBackward), {c.cotangent, c.inputs[0]}, c.attrs)};
      },
  };
}

// (g, x) -> x's shape: each g added at the first maximum of its window in x.
OpDef max_backward_def(const char* name) {
  return {
      .name = name,
      .arity = 2,
      .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
        return {in[1].shape(), in[0].dtype()};
      },
      .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
        return {apply(op(c.attrs, kMaxSelect), {c.cotangent, c.inputs[1]}, c.attrs), Tensor()};
      },
  };
}

// (t, x) -> pooled shape: t read at the first maximum of each window of x; the adjoint of the
// max gradient in its first input.
OpDef max_select_def(const char* name) {
  return {
      .name = name,
      .arity = 2,
      .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
        return {pooled_shape(in[1].shape(), a), in[0].dtype()};
      },
      .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
        return {apply(op(c.attrs, kMaxBackward), {c.cotangent, c.inputs[1]}, c.attrs), Tensor()};
      },
  };
}

OpDef avg_def(const char* name) {
  return {
      .name = name,
      .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
        return {pooled_shape(in[0].shape(), a), in[0].dtype()};
      },
      .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
        return {apply(op(c.attrs, kAvgBackward), {c.cotangent},
                      with(c.attrs, "input_shape", c.inputs[0].shape()))};
      },
  };
}

OpDef avg_backward_def(const char* name) {
  return {
      .name = name,
      .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
        Shape s = a.get<Shape>("input_shape");
        if (s[0] == -1) s[0] = in[0].shape()[0];  // a dynamic batch: the cotangent's, when run
        return {s, in[0].dtype()};
      },
      .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
        return {apply(op(c.attrs, kAvg), {c.cotangent}, without(c.attrs, "input_shape"))};
      },
  };
}

const OpDef& kMaxPool2d = define(kWindow2d, kMax, max_def("max_pool2d"));
const OpDef& kMaxPool2dBackward =
    define(kWindow2d, kMaxBackward, max_backward_def("max_pool2d_backward"));
const OpDef& kMaxPool2dSelect = define(kWindow2d, kMaxSelect, max_select_def("max_pool2d_select"));
const OpDef& kAvgPool2d = define(kWindow2d, kAvg, avg_def("avg_pool2d"));
const OpDef& kAvgPool2dBackward =
    define(kWindow2d, kAvgBackward, avg_backward_def("avg_pool2d_backward"));

const OpDef& kMaxPool3d = define(kWindow3d, kMax, max_def("max_pool3d"));
const OpDef& kMaxPool3dBackward =
    define(kWindow3d, kMaxBackward, max_backward_def("max_pool3d_backward"));
const OpDef& kMaxPool3dSelect = define(kWindow3d, kMaxSelect, max_select_def("max_pool3d_select"));
const OpDef& kAvgPool3d = define(kWindow3d, kAvg, avg_def("avg_pool3d"));
const OpDef& kAvgPool3dBackward =
    define(kWindow3d, kAvgBackward, avg_backward_def("avg_pool3d_backward"));

const OpDef& kAdaptiveMax2d = define(kAdaptive2d, kMax, max_def("adaptive_max_pool2d"));
const OpDef& kAdaptiveMax2dBackward =
    define(kAdaptive2d, kMaxBackward, max_backward_def("adaptive_max_pool2d_backward"));
const OpDef& kAdaptiveMax2dSelect =
    define(kAdaptive2d, kMaxSelect, max_select_def("adaptive_max_pool2d_select"));
const OpDef& kAdaptiveAvg2d = define(kAdaptive2d, kAvg, avg_def("adaptive_avg_pool2d"));
const OpDef& kAdaptiveAvg2dBackward =
    define(kAdaptive2d, kAvgBackward, avg_backward_def("adaptive_avg_pool2d_backward"));

// ---- validation of user input

[[noreturn]] void fail_shape(const char* op, const std::string& what) {
  throw ShapeError(std::string("[") + op + "] " + what);
}
[[noreturn]] void fail_value(const char* op, const std::string& what) {
  throw ValueError(std::string("[") + op + "] " + what);
}

const char* layout(std::size_t spatial) {
  return spatial == 1 ? "(N, C, L)" : spatial == 2 ? "(N, C, H, W)" : "(N, C, D, H, W)";
}

void check_input(const char* op, const Shape& x, std::size_t spatial) {
  if (x.size() != spatial + 2)
    fail_shape(op, std::string("expects an input ") + layout(spatial) + ", got " + shape_str(x));
}

void check_input(const char* op, const Tensor& x, std::size_t spatial) {
  check_input(op, x.shape(), spatial);
  if (!is_floating(x.dtype()))
    throw DTypeError(std::string("[") + op + "] needs a floating input, got " +
                     dtype_str(x.dtype()));
}

// One value stands for every spatial dim.
Shape per_dim(const char* op, const char* name, Shape v, std::size_t spatial, int64_t min) {
  if (v.size() == 1) v = Shape(spatial, v[0]);
  if (v.size() != spatial)
    fail_value(op, std::string(name) + " needs 1 or " + std::to_string(spatial) + " values, got " +
                       shape_str(v));
  for (int64_t e : v)
    if (e < min)
      fail_value(op, std::string(name) + " must be " + (min > 0 ? "positive" : "non-negative") +
                         ", got " + shape_str(v));
  return v;
}

// A 1-d window is one number; more dims are a tuple.
std::string dims_str(const Shape& v) { return v.size() == 1 ? std::to_string(v[0]) : shape_str(v); }

Attrs window_attrs(const char* op, const Shape& x, Shape kernel, Shape stride, Shape padding) {
  std::size_t n = x.size() - 2;
  kernel = per_dim(op, "kernel", std::move(kernel), n, 1);
  stride = stride.empty() ? kernel : per_dim(op, "stride", std::move(stride), n, 1);
  padding = per_dim(op, "padding", std::move(padding), n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (2 * padding[i] > kernel[i])
      fail_value(op, "padding " + dims_str(padding) + " should be at most half the kernel " +
                         dims_str(kernel));
    if (x[2 + i] + 2 * padding[i] < kernel[i])
      fail_shape(op, "kernel " + dims_str(kernel) + " is larger than the padded input " +
                         shape_str(x) + " (padding " + dims_str(padding) + ")");
  }
  return {{"kernel", kernel}, {"stride", stride}, {"padding", padding}};
}

Shape adaptive_size(const char* op, const Shape& x, Shape output_size) {
  Shape o = per_dim(op, "output_size", std::move(output_size), x.size() - 2, 1);
  for (std::size_t i = 2; i < x.size(); ++i)
    if (x[i] == 0) fail_shape(op, "cannot pool the empty input " + shape_str(x));
  return o;
}

void check_grad_shape(const char* op, const Tensor& g, const Shape& want) {
  if (g.shape() != want)
    fail_shape(op, "gradient " + shape_str(g.shape()) + " should be " + shape_str(want));
}

// The 1-d forms run the 2-d ops on (N, C, 1, L).
Tensor as_2d(const Tensor& x) { return x.unsqueeze(2); }
Tensor from_2d(const Tensor& y) { return y.squeeze(2); }
Attrs lift_to_2d(const Attrs& a) {
  Attrs out;
  for (const Attr& e : a.items()) {
    if (const Shape* s = std::get_if<Shape>(&e.value)) {
      int64_t unit = std::strcmp(e.name, "padding") == 0 ? 0 : 1;
      out.set(e.name, Shape{unit, (*s)[0]});
    } else {
      out.set(e.name, e.value);
    }
  }
  return out;
}

Tensor max_pool(const char* name, const OpDef& def, const Tensor& x, std::size_t spatial,
                Shape kernel, Shape stride, Shape padding) {
  check_input(name, x, spatial);
  Attrs a = window_attrs(name, x.shape(), std::move(kernel), std::move(stride), std::move(padding));
  if (spatial == 1) return from_2d(apply(kMaxPool2d, {as_2d(x)}, lift_to_2d(a)));
  return apply(def, {x}, std::move(a));
}

Tensor avg_pool(const char* name, const OpDef& def, const Tensor& x, std::size_t spatial,
                Shape kernel, Shape stride, Shape padding, bool count_include_pad) {
  check_input(name, x, spatial);
  Attrs a = window_attrs(name, x.shape(), std::move(kernel), std::move(stride), std::move(padding));
  a.set("count_include_pad", count_include_pad);
  if (spatial == 1) return from_2d(apply(kAvgPool2d, {as_2d(x)}, lift_to_2d(a)));
  return apply(def, {x}, std::move(a));
}

// Adaptive windows that tile the input evenly are a plain pool with kernel = stride.
bool evenly_tiled(const Shape& x, const Shape& o) {
  for (std::size_t i = 0; i < o.size(); ++i)
    if (x[2 + i] % o[i] != 0) return false;
  return true;
}
Shape tile_kernel(const Shape& x, const Shape& o) {
  Shape k;
  for (std::size_t i = 0; i < o.size(); ++i) k.push_back(x[2 + i] / o[i]);
  return k;
}

Tensor adaptive_pool(const char* name, bool max, const Tensor& x, std::size_t spatial,
                     Shape output_size) {
  check_input(name, x, spatial);
  Shape o = adaptive_size(name, x.shape(), std::move(output_size));
  Tensor x2 = spatial == 1 ? as_2d(x) : x;
  if (spatial == 1) o = {1, o[0]};
  Tensor y;
  if (evenly_tiled(x2.shape(), o)) {
    Shape k = tile_kernel(x2.shape(), o);
    Attrs a{{"kernel", k}, {"stride", k}, {"padding", Shape(k.size(), 0)}};
    if (!max) a.set("count_include_pad", true);
    y = apply(max ? kMaxPool2d : kAvgPool2d, {x2}, std::move(a));
  } else {
    y = apply(max ? kAdaptiveMax2d : kAdaptiveAvg2d, {x2}, {{"output_size", o}});
  }
  return spatial == 1 ? from_2d(y) : y;
}

}  // namespace

Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return max_pool("max_pool1d", kMaxPool2d, x, 1, {kernel}, stride ? Shape{stride} : Shape{},
                  {padding});
}

Tensor avg_pool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                  bool count_include_pad) {
  return avg_pool("avg_pool1d", kAvgPool2d, x, 1, {kernel}, stride ? Shape{stride} : Shape{},
                  {padding}, count_include_pad);
}

Tensor max_pool2d(const Tensor& x, Shape kernel, Shape stride, Shape padding) {
  return max_pool("max_pool2d", kMaxPool2d, x, 2, std::move(kernel), std::move(stride),
                  std::move(padding));
}

Tensor avg_pool2d(const Tensor& x, Shape kernel, Shape stride, Shape padding,
                  bool count_include_pad) {
  return avg_pool("avg_pool2d", kAvgPool2d, x, 2, std::move(kernel), std::move(stride),
                  std::move(padding), count_include_pad);
}

Tensor max_pool3d(const Tensor& x, Shape kernel, Shape stride, Shape padding) {
  return max_pool("max_pool3d", kMaxPool3d, x, 3, std::move(kernel), std::move(stride),
                  std::move(padding));
}

Tensor avg_pool3d(const Tensor& x, Shape kernel, Shape stride, Shape padding,
                  bool count_include_pad) {
  return avg_pool("avg_pool3d", kAvgPool3d, x, 3, std::move(kernel), std::move(stride),
                  std::move(padding), count_include_pad);
}

Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size) {
  return adaptive_pool("adaptive_avg_pool1d", false, x, 1, {output_size});
}
Tensor adaptive_avg_pool2d(const Tensor& x, Shape output_size) {
  return adaptive_pool("adaptive_avg_pool2d", false, x, 2, std::move(output_size));
}
Tensor adaptive_max_pool1d(const Tensor& x, int64_t output_size) {
  return adaptive_pool("adaptive_max_pool1d", true, x, 1, {output_size});
}
Tensor adaptive_max_pool2d(const Tensor& x, Shape output_size) {
  return adaptive_pool("adaptive_max_pool2d", true, x, 2, std::move(output_size));
}

Tensor max_pool2d_backward(const Tensor& g, const Tensor& x, Shape kernel, Shape stride,
                           Shape padding) {
  const char* op = "max_pool2d_backward";
  check_input(op, x, 2);
  Attrs a = window_attrs(op, x.shape(), std::move(kernel), std::move(stride), std::move(padding));
  check_grad_shape(op, g, pooled_shape(x.shape(), a));
  if (g.dtype() != x.dtype())
    throw DTypeError("[max_pool2d_backward] gradient is " + dtype_str(g.dtype()) +
                     " but input is " + dtype_str(x.dtype()));
  return apply(kMaxPool2dBackward, {g, x}, std::move(a));
}

Tensor avg_pool2d_backward(const Tensor& g, const Shape& input_shape, Shape kernel, Shape stride,
                           Shape padding, bool count_include_pad) {
  const char* op = "avg_pool2d_backward";
  check_input(op, input_shape, 2);
  check_input(op, g, 2);
  Attrs a = window_attrs(op, input_shape, std::move(kernel), std::move(stride), std::move(padding));
  check_grad_shape(op, g, pooled_shape(input_shape, a));
  a.set("count_include_pad", count_include_pad);
  a.set("input_shape", input_shape);
  return apply(kAvgPool2dBackward, {g}, std::move(a));
}

}  // namespace nabla
