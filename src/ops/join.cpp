// Joining, splitting and rearranging: concat (stack builds on it), split and chunk (views),
// flip, roll, repeat and tile (views and copies), tril and triu.
#include "nabla/ops/join.h"

#include <numeric>

#include "ops/common.h"
#include "ops/elementwise.h"

namespace nabla {
namespace {

[[noreturn]] void fail_shape(const char* op, const std::string& what) {
  throw ShapeError("[" + std::string(op) + "] " + what);
}

std::string shapes_str(const std::vector<Tensor>& ts) {
  std::string s;
  for (std::size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + shape_str(ts[i].shape());
  return s;
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

const OpDef& kConcat = define_op({
    .name = "concat",
    .arity = -1,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      auto axis = std::size_t(a.get<int64_t>("axis"));
      Shape s = in[0].shape();
      for (std::size_t i = 1; i < in.size(); ++i) s[axis] += in[i].shape()[axis];
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      int64_t axis = c.attrs.get<int64_t>("axis"), at = 0;
      std::vector<Tensor> g;
      for (const Tensor& x : c.inputs) {
        int64_t len = x.shape()[std::size_t(axis)];
        g.push_back(c.cotangent.slice(axis, at, at + len));
        at += len;
      }
      return g;
    },
    .dispatch_input = -1,
});

const OpDef& kFlip = define_op({
    .name = "flip",
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Shape& axes = c.attrs.get<Shape>("axes");
      return {flip(c.cotangent, std::vector<int64_t>(axes.begin(), axes.end()))};
    },
});

// shifts[i] (in [0, size)) along axes[i]; axes are distinct.
const OpDef& kRoll = define_op({
    .name = "roll",
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      const Shape& axes = c.attrs.get<Shape>("axes");
      std::vector<int64_t> back;
      for (int64_t s : c.attrs.get<Shape>("shifts")) back.push_back(-s);
      return {roll(c.cotangent, back, std::vector<int64_t>(axes.begin(), axes.end()))};
    },
});

const OpDef& kTril = define_op({
    .name = "tril",
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {tril(c.cotangent, c.attrs.get<int64_t>("k"))};
    },
});

const OpDef& kTriu = define_op({
    .name = "triu",
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {triu(c.cotangent, c.attrs.get<int64_t>("k"))};
    },
});

Tensor triangle(const OpDef& op, const Tensor& x, int64_t k) {
  if (!x.defined()) throw ValueError("[" + op.name + "] the input is undefined");
  if (x.ndim() < 2)
    fail_shape(op.name.c_str(), "needs at least 2 dims, got shape " + shape_str(x.shape()));
  return apply(op, {x}, {{"k", k}});
}

}  // namespace

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis) {
  if (tensors.empty()) throw ValueError("[concat] needs at least one tensor");
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (!tensors[i].defined())
      throw ValueError("[concat] tensor " + std::to_string(i) + " is undefined");
  // Like torch.cat, 1-d empty tensors join tensors of any rank (and are left out).
  bool mixed_rank = false;
  for (const Tensor& t : tensors) mixed_rank |= t.ndim() != 1;
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors)
    if (!(mixed_rank && t.ndim() == 1 && t.numel() == 0)) parts.push_back(t);
  if (parts.empty()) parts.push_back(tensors[0]);
  const Tensor& first = parts[0];
  if (first.ndim() == 0) fail_shape("concat", "cannot join 0-d tensors; use stack");
  int64_t ax = normalize_axis(axis, first.ndim(), "concat");
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const Shape& s = parts[i].shape();
    bool ok = s.size() == first.shape().size();
    for (std::size_t d = 0; ok && d < s.size(); ++d)
      ok = int64_t(d) == ax || s[d] == first.shape()[d];
    if (!ok)
      fail_shape("concat", "tensors of shapes " + shapes_str(tensors) +
                               " must match in every dim but " + std::to_string(ax));
  }
  DType t = result_dtype(parts);
  return apply(kConcat, std::span<const Tensor>(cast_all(parts, t)), {{"axis", ax}});
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t axis) {
  if (tensors.empty()) throw ValueError("[stack] needs at least one tensor");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].defined())
      throw ValueError("[stack] tensor " + std::to_string(i) + " is undefined");
    if (tensors[i].shape() != tensors[0].shape())
      fail_shape("stack", "tensors must share a shape, got " + shapes_str(tensors));
  }
  int64_t ax = normalize_axis(axis, tensors[0].ndim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(ax));
  DType t = result_dtype(parts);
  return apply(kConcat, std::span<const Tensor>(cast_all(parts, t)), {{"axis", ax}});
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
  if (x.ndim() == 0) fail_shape("split", "cannot split a 0-d tensor");
  int64_t ax = normalize_axis(axis, x.ndim(), "split");
  int64_t len = x.shape()[std::size_t(ax)], total = 0;
  for (int64_t s : sizes) {
    if (s < 0) fail_shape("split", "negative size in " + ints_str(sizes));
    total += s;
  }
  if (total != len)
    fail_shape("split", "sizes " + ints_str(sizes) + " sum to " + std::to_string(total) +
                            ", but dim " + std::to_string(ax) + " of shape " +
                            shape_str(x.shape()) + " has " + std::to_string(len));
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(x.slice(ax, at, at + s));
    at += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, int64_t section, int64_t axis) {
  if (x.ndim() == 0) fail_shape("split", "cannot split a 0-d tensor");
  int64_t ax = normalize_axis(axis, x.ndim(), "split");
  if (section <= 0)
    throw ValueError("[split] section size must be positive, got " + std::to_string(section));
  int64_t len = x.shape()[std::size_t(ax)];
  std::vector<int64_t> sizes;
  for (int64_t at = 0; at < len; at += section) sizes.push_back(std::min(section, len - at));
  if (sizes.empty()) sizes.push_back(0);
  return split(x, sizes, ax);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t n, int64_t axis) {
  if (n <= 0)
    throw ValueError("[chunk] number of chunks must be positive, got " + std::to_string(n));
  if (x.ndim() == 0) fail_shape("chunk", "cannot chunk a 0-d tensor");
  int64_t ax = normalize_axis(axis, x.ndim(), "chunk");
  int64_t len = x.shape()[std::size_t(ax)];
  return split(x, std::max<int64_t>((len + n - 1) / n, 1), ax);
}

Tensor flip(const Tensor& x, const std::vector<int64_t>& axes) {
  if (!x.defined()) throw ValueError("[flip] the input is undefined");
  std::vector<bool> seen(std::size_t(std::max<int64_t>(x.ndim(), 1)), false);
  Shape ax;
  for (int64_t a : axes) {
    int64_t d = normalize_axis(a, x.ndim(), "flip");
    if (seen[std::size_t(d)])
      throw IndexError("[flip] axis " + std::to_string(d) + " repeats in " + ints_str(axes));
    seen[std::size_t(d)] = true;
    if (x.ndim() > 0 && x.shape()[std::size_t(d)] > 1) ax.push_back(d);
  }
  if (ax.empty()) return x.clone();
  return apply(kFlip, {x}, {{"axes", ax}});
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& axes) {
  if (!x.defined()) throw ValueError("[roll] the input is undefined");
  if (axes.empty()) {
    if (shifts.size() != 1)
      fail_shape("roll", "without axes, takes one shift, got " + ints_str(shifts));
    return roll(x.flatten(), shifts, {0}).reshape(x.shape());
  }
  if (shifts.size() != axes.size())
    fail_shape("roll",
               "shifts " + ints_str(shifts) + " and axes " + ints_str(axes) + " differ in length");
  // Shifts along a repeated axis add up.
  Shape total(std::size_t(std::max<int64_t>(x.ndim(), 1)), 0);
  for (std::size_t i = 0; i < axes.size(); ++i)
    total[std::size_t(normalize_axis(axes[i], x.ndim(), "roll"))] += shifts[i];
  Shape ax, sh;
  for (int64_t d = 0; d < x.ndim(); ++d) {
    int64_t n = x.shape()[std::size_t(d)];
    int64_t s = n == 0 ? 0 : ((total[std::size_t(d)] % n) + n) % n;
    if (s != 0) ax.push_back(d), sh.push_back(s);
  }
  if (ax.empty()) return x.clone();
  return apply(kRoll, {x}, {{"axes", ax}, {"shifts", sh}});
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  if (!x.defined()) throw ValueError("[repeat] the input is undefined");
  if (int64_t(repeats.size()) < x.ndim())
    fail_shape("repeat", "needs at least one repeat per dim, got " + ints_str(repeats) +
                             " for shape " + shape_str(x.shape()));
  for (int64_t r : repeats)
    if (r < 0) fail_shape("repeat", "negative repeat in " + ints_str(repeats));
  // View x as (1, s0, 1, s1, ...), expand to (r0, s0, r1, s1, ...), then merge pairs.
  std::size_t lead = repeats.size() - std::size_t(x.ndim());
  Shape pairs, expanded, out;
  for (std::size_t i = 0; i < repeats.size(); ++i) {
    int64_t s = i < lead ? 1 : x.shape()[i - lead];
    pairs.push_back(1), pairs.push_back(s);
    expanded.push_back(repeats[i]), expanded.push_back(s);
    out.push_back(repeats[i] * s);
  }
  return x.reshape(pairs).expand(expanded).contiguous().reshape(out);
}

Tensor tile(const Tensor& x, const std::vector<int64_t>& reps) {
  std::vector<int64_t> r = reps;
  if (int64_t(r.size()) < x.ndim()) r.insert(r.begin(), std::size_t(x.ndim()) - r.size(), 1);
  for (int64_t v : reps)
    if (v < 0) fail_shape("tile", "negative repeat in " + ints_str(reps));
  return repeat(x, r);
}

Tensor tril(const Tensor& x, int64_t k) { return triangle(kTril, x, k); }
Tensor triu(const Tensor& x, int64_t k) { return triangle(kTriu, x, k); }

}  // namespace nabla
