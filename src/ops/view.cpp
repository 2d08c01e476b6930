// View ops: outputs alias their input's storage with new shape, strides and offset.
// Gradients: reshape/permute/expand invert themselves; slice, select and diagonal scatter
// the cotangent into zeros through the same view ("view_scatter").
#include <algorithm>
#include <cstring>
#include <optional>

#include "backend/cpu/assign.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/shape_like.h"
#include "ops/common.h"

namespace nabla {
namespace {

// Strides that view (old_shape, old_strides) as new_shape, if any exist (PyTorch's rule).
std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides,
                                    const Shape& new_shape) {
  if (numel_of(old_shape) <= 1 || old_shape.empty()) return contiguous_strides(new_shape);
  Strides ns(new_shape.size());
  int64_t view_d = int64_t(new_shape.size()) - 1;
  int64_t chunk_base = old_strides.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t td = int64_t(old_shape.size()) - 1; td >= 0; --td) {
    tensor_numel *= old_shape[std::size_t(td)];
    if (td == 0 || (old_shape[std::size_t(td - 1)] != 1 &&
                    old_strides[std::size_t(td - 1)] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[std::size_t(view_d)] == 1)) {
        ns[std::size_t(view_d)] = view_numel * chunk_base;
        view_numel *= new_shape[std::size_t(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (td > 0) {
        chunk_base = old_strides[std::size_t(td - 1)];
        tensor_numel = view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return ns;
}

Tensor view_scatter(const Tensor& g, const Tensor& input, const std::string& view, const Attrs& a);
Shape infer_reshape(const Shape& from, const Shape& to, const char* op);

std::vector<Tensor> scatter_vjp(const VjpContext& c, const char* view) {
  return {view_scatter(c.cotangent, c.inputs[0], view, c.attrs)};
}

const OpDef& kReshape = define_op({
    .name = "reshape",
    .flags = kView,
    // A -1 in the target (left where it follows a dynamic input dim) takes its size from the
    // input's when the op runs.
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      const Shape& to = a.get<Shape>("shape");
      if (!is_dynamic(to) || is_dynamic(in[0].shape())) return {to, in[0].dtype()};
      return {infer_reshape(in[0].shape(), to, "reshape"), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {c.cotangent.reshape(c.inputs[0].shape())};
    },
    .view = [](const Node& in, const Attrs& a, Node& out) {
      out.offset = in.offset;
      out.strides = *view_strides(in.shape, in.strides, out.shape);
    },
});

const OpDef& kPermute = define_op({
    .name = "permute",
    .flags = kView,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s;
      for (int64_t d : a.get<Shape>("dims")) s.push_back(in[0].shape()[std::size_t(d)]);
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Shape& dims = c.attrs.get<Shape>("dims");
      Shape inv(dims.size());
      for (std::size_t i = 0; i < dims.size(); ++i) inv[std::size_t(dims[i])] = int64_t(i);
      return {c.cotangent.permute(inv)};
    },
    .view = [](const Node& in, const Attrs& a, Node& out) {
      out.offset = in.offset;
      out.strides.clear();
      for (int64_t d : a.get<Shape>("dims")) out.strides.push_back(in.strides[std::size_t(d)]);
    },
});

const OpDef& kExpand = define_op({
    .name = "expand",
    .flags = kView,
    // A -1 in the target keeps the input's (dynamic) dim: its size when the op runs.
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s = a.get<Shape>("shape");
      const Shape& x = in[0].shape();
      const std::size_t lead = s.size() - x.size();
      for (std::size_t i = lead; i < s.size(); ++i)
        if (s[i] == -1) s[i] = x[i - lead];
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {sum_to_shape(c.cotangent, c.inputs[0].shape())};
    },
    .view = [](const Node& in, const Attrs& a, Node& out) {
      out.offset = in.offset;
      std::size_t lead = out.shape.size() - in.shape.size();
      out.strides = Strides(out.shape.size(), 0);
      for (std::size_t i = 0; i < in.shape.size(); ++i)
        out.strides[lead + i] = in.shape[i] == out.shape[lead + i] ? in.strides[i] : 0;
    },
});

// slice: dim, start, step, and the output length in the shape.
const OpDef& kSlice = define_op({
    .name = "slice",
    .flags = kView,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s = in[0].shape();
      s[std::size_t(a.get<int64_t>("dim"))] = a.get<int64_t>("length");
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) { return scatter_vjp(c, "slice"); },
    .view = [](const Node& in, const Attrs& a, Node& out) {
      auto d = std::size_t(a.get<int64_t>("dim"));
      out.strides = in.strides;
      out.strides[d] *= a.get<int64_t>("step");
      out.offset = in.offset + a.get<int64_t>("start") * in.strides[d];
    },
});

const OpDef& kSelect = define_op({
    .name = "select",
    .flags = kView,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s = in[0].shape();
      s.erase(s.begin() + a.get<int64_t>("dim"));
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) { return scatter_vjp(c, "select"); },
    .view = [](const Node& in, const Attrs& a, Node& out) {
      auto d = std::size_t(a.get<int64_t>("dim"));
      out.strides = in.strides;
      out.strides.erase(out.strides.begin() + d);
      out.offset = in.offset + a.get<int64_t>("index") * in.strides[d];
    },
});

const OpDef& kDiagonal = define_op({
    .name = "diagonal",
    .flags = kView,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      const Shape& x = in[0].shape();
      int64_t off = a.get<int64_t>("offset"), d1 = a.get<int64_t>("dim1"), d2 = a.get<int64_t>("dim2");
      int64_t len = off >= 0 ? std::min(x[std::size_t(d1)], x[std::size_t(d2)] - off)
                             : std::min(x[std::size_t(d1)] + off, x[std::size_t(d2)]);
      Shape s;
      for (int64_t i = 0; i < int64_t(x.size()); ++i)
        if (i != d1 && i != d2) s.push_back(x[std::size_t(i)]);
      s.push_back(std::max<int64_t>(len, 0));
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) { return scatter_vjp(c, "diagonal"); },
    .view = [](const Node& in, const Attrs& a, Node& out) {
      int64_t off = a.get<int64_t>("offset"), d1 = a.get<int64_t>("dim1"), d2 = a.get<int64_t>("dim2");
      out.strides.clear();
      for (int64_t i = 0; i < int64_t(in.shape.size()); ++i)
        if (i != d1 && i != d2) out.strides.push_back(in.strides[std::size_t(i)]);
      out.strides.push_back(in.strides[std::size_t(d1)] + in.strides[std::size_t(d2)]);
      out.offset = in.offset + (off >= 0 ? off * in.strides[std::size_t(d2)]
                                         : -off * in.strides[std::size_t(d1)]);
    },
});

// Zeros of the input's shape with the cotangent written through the named view.
const OpDef& kViewScatter = define_op({
    .name = "view_scatter",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      // A dynamic input dim other than the one sliced or selected is the cotangent's, when run.
      Shape s = a.get<Shape>("input_shape");
      const std::string& view = a.get<std::string>("view");
      const Shape& g = in[0].shape();
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != -1 || view == "diagonal") continue;
        const auto d = std::size_t(a.get<int64_t>("dim"));
        if (i != d) s[i] = g[view == "select" && i > d ? i - 1 : i];
      }
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const OpDef* view = find_op(c.attrs.get<std::string>("view"));
      return {apply(*view, {c.cotangent}, c.attrs)};
    },
    .dispatch_input = 0,
});

Tensor view_scatter(const Tensor& g, const Tensor& input, const std::string& view, const Attrs& a) {
  Attrs attrs = a;
  attrs.set("view", view);
  attrs.set("input_shape", input.shape());
  return apply(kViewScatter, {g}, std::move(attrs));
}

void view_scatter_kernel(const KernelArgs& a) {
  const OpDef* view = find_op(a.attrs.get<std::string>("view"));
  std::memset(a.out.data(), 0, std::size_t(a.out.numel()) * itemsize(a.out.dtype));
  Node target;
  target.storage = a.out.storage;
  target.dtype = a.out.dtype;
  target.shape = a.inputs[0]->shape;
  view->view(a.out, a.attrs, target);
  cpu::assign(target, *a.inputs[0]);
}

const bool registered = [] {
  for (int t = 0; t < kNumDTypes; ++t)
    register_kernel("view_scatter", DeviceType::cpu, DType(t), view_scatter_kernel);
  return true;
}();

Tensor apply_view(const OpDef& op, const Tensor& x, Attrs attrs) {
  return apply(op, {x}, std::move(attrs));
}

[[noreturn]] void view_error(const char* op, const std::string& what) {
  throw ShapeError("[" + std::string(op) + "] " + what);
}

Shape infer_reshape(const Shape& from, const Shape& to, const char* op) {
  Shape s = to;
  int64_t known = 1, infer_at = -1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer_at >= 0) view_error(op, "only one dimension can be -1 in " + shape_str(to));
      infer_at = int64_t(i);
    } else if (s[i] < 0) {
      view_error(op, "negative dimension in " + shape_str(to));
    } else {
      known *= s[i];
    }
  }
  if (is_dynamic(from)) {
    // The target's -1 takes the dynamic factor and stays -1 until a call gives the sizes (which
    // must then divide evenly: checked when the reshape runs).
    if (infer_at < 0)
      view_error(op, "cannot reshape " + shape_str(from) + " into " + shape_str(to) +
                         ": an input with a dynamic (-1) dim needs a -1 in the target");
    return s;
  }
  int64_t n = numel_of(from);
  if (infer_at >= 0) {
    if (known == 0 || n % known != 0)
      view_error(op, "cannot reshape " + shape_str(from) + " into " + shape_str(to));
    s[std::size_t(infer_at)] = n / known;
  }
  if (numel_of(s) != n)
    view_error(op, "cannot reshape " + shape_str(from) + " (" + std::to_string(n) +
                       " elements) into " + shape_str(to));
  return s;
}

}  // namespace

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = infer_reshape(this->shape(), shape, "reshape");
  if (s == this->shape()) return *this;
  if (is_concrete() && !view_strides(this->shape(), strides(), s)) return contiguous().reshape(s);
  return apply_view(kReshape, *this, {{"shape", s}});
}

Tensor Tensor::view(const Shape& shape) const {
  Shape s = infer_reshape(this->shape(), shape, "view");
  if (is_concrete() && !view_strides(this->shape(), strides(), s))
    view_error("view", "a tensor of shape " + shape_str(this->shape()) +
                           " with these strides cannot be viewed as " + shape_str(s) +
                           "; use reshape, which copies");
  return apply_view(kReshape, *this, {{"shape", s}});
}

Tensor Tensor::permute(const Shape& dims) const {
  if (int64_t(dims.size()) != ndim())
    view_error("permute", "got " + std::to_string(dims.size()) + " dims for a tensor of shape " +
                              shape_str(shape()));
  Shape d;
  std::vector<bool> seen(std::size_t(ndim()), false);
  for (int64_t x : dims) {
    int64_t a = normalize_axis(x, ndim(), "permute");
    if (seen[std::size_t(a)]) view_error("permute", "dim " + std::to_string(a) + " repeats");
    seen[std::size_t(a)] = true;
    d.push_back(a);
  }
  return apply_view(kPermute, *this, {{"dims", d}});
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  if (ndim() < 2 && dim0 == dim1) return *this;
  int64_t a = normalize_axis(dim0, ndim(), "transpose"), b = normalize_axis(dim1, ndim(), "transpose");
  if (ndim() == 0) return *this;
  Shape dims;
  for (int64_t i = 0; i < ndim(); ++i) dims.push_back(i);
  std::swap(dims[std::size_t(a)], dims[std::size_t(b)]);
  return apply_view(kPermute, *this, {{"dims", dims}});
}

Tensor Tensor::t() const {
  if (ndim() > 2) view_error("t", "expects at most 2 dims, got shape " + shape_str(shape()));
  return ndim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  int64_t d = normalize_axis(dim, ndim(), "slice");
  if (ndim() == 0) view_error("slice", "cannot slice a 0-d tensor");
  if (step < 1) view_error("slice", "step must be positive, got " + std::to_string(step) + " (use flip to reverse)");
  int64_t n = shape()[std::size_t(d)];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  int64_t len = (end - start + step - 1) / step;
  return apply_view(kSlice, *this,
                    {{"dim", d}, {"start", start}, {"step", step}, {"length", len}});
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  if (ndim() == 0) throw IndexError("[select] cannot index a 0-d tensor");
  int64_t d = normalize_axis(dim, ndim(), "select");
  int64_t n = shape()[std::size_t(d)];
  if (index < -n || index >= n)
    throw IndexError("[select] index " + std::to_string(index) + " is out of range for dim " +
                     std::to_string(d) + " of size " + std::to_string(n));
  if (index < 0) index += n;
  return apply_view(kSelect, *this, {{"dim", d}, {"index", index}});
}

Tensor Tensor::squeeze() const {
  Shape s;
  for (int64_t d : shape())
    if (d != 1) s.push_back(d);
  return reshape(s);
}

Tensor Tensor::squeeze(int64_t dim) const {
  int64_t d = normalize_axis(dim, ndim(), "squeeze");
  if (ndim() == 0 || shape()[std::size_t(d)] != 1) return *this;
  Shape s = shape();
  s.erase(s.begin() + d);
  return reshape(s);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  int64_t d = normalize_axis(dim, ndim() + 1, "unsqueeze");
  Shape s = shape();
  s.insert(s.begin() + d, 1);
  return apply_view(kReshape, *this, {{"shape", s}});
}

Tensor Tensor::expand(const Shape& shape) const {
  if (shape.size() < this->shape().size())
    view_error("expand", "cannot expand " + shape_str(this->shape()) + " to fewer dims " + shape_str(shape));
  Shape s = shape;
  std::size_t lead = s.size() - this->shape().size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    int64_t have = i < lead ? 1 : this->shape()[i - lead];
    if (s[i] == -1) {
      if (i < lead) view_error("expand", "-1 is not allowed for a new leading dim in " + shape_str(shape));
      s[i] = have;
    }
    if (have != s[i] && have != 1)
      view_error("expand", "cannot expand " + shape_str(this->shape()) + " to " + shape_str(shape) +
                               ": dim " + std::to_string(i) + " is " + std::to_string(have));
    if (s[i] == -1) continue;  // a dynamic dim kept as it is
    if (s[i] < 0) view_error("expand", "negative dimension in " + shape_str(shape));
  }
  if (s == this->shape()) return *this;
  return apply_view(kExpand, *this, {{"shape", s}});
}

Tensor Tensor::broadcast_to(const Shape& shape) const {
  // A -1 may only stand for a dynamic dim of this tensor in the same place; broadcasting to a
  // size known only when a graph runs is broadcast_like's job.
  const std::size_t lead = shape.size() - std::min(shape.size(), this->shape().size());
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] < 0 && (shape[i] != -1 || i < lead || this->shape()[i - lead] != -1))
      view_error("broadcast_to", "negative dimension in " + shape_str(shape) + " for " +
                                     shape_str(this->shape()) +
                                     " (to broadcast to a dynamic dim, use broadcast_like)");
  return expand(shape);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (ndim() == 0) return reshape({1});
  int64_t a = normalize_axis(start_dim, ndim(), "flatten"), b = normalize_axis(end_dim, ndim(), "flatten");
  if (a > b) view_error("flatten", "start_dim " + std::to_string(a) + " is after end_dim " + std::to_string(b));
  Shape s;
  for (int64_t i = 0; i < a; ++i) s.push_back(shape()[std::size_t(i)]);
  int64_t m = 1;
  for (int64_t i = a; i <= b; ++i) m *= shape()[std::size_t(i)];
  for (int64_t i = a; i <= b; ++i)
    if (shape()[std::size_t(i)] < 0) m = -1;  // dynamic: sized when the graph runs
  s.push_back(m);
  for (int64_t i = b + 1; i < ndim(); ++i) s.push_back(shape()[std::size_t(i)]);
  return reshape(s);
}

Tensor Tensor::diagonal(int64_t offset, int64_t dim1, int64_t dim2) const {
  if (ndim() < 2) view_error("diagonal", "needs at least 2 dims, got shape " + shape_str(shape()));
  int64_t a = normalize_axis(dim1, ndim(), "diagonal"), b = normalize_axis(dim2, ndim(), "diagonal");
  if (a == b) view_error("diagonal", "dim1 and dim2 are both " + std::to_string(a));
  return apply_view(kDiagonal, *this, {{"offset", offset}, {"dim1", a}, {"dim2", b}});
}

}  // namespace nabla
