// pad: constant, reflect and replicate modes. The gradient of a constant pad is a slice of
// the cotangent; reflect and replicate fold the cotangent back onto the edges
// (pad_backward), whose own gradient is the pad again.
#include "nabla/ops/join.h"
#include "ops/common.h"

namespace nabla {
namespace {

// Attrs: "pads" = (before, after) per dim in dim order, "mode", "value".
Shape padded_shape(const Shape& s, const Shape& pads) {
  Shape out = s;
  for (std::size_t d = 0; d < s.size(); ++d) out[d] += pads[2 * d] + pads[2 * d + 1];
  return out;
}

Tensor unpad(const Tensor& g, const Attrs& a);

const OpDef& kPad = define_op({
    .name = "pad",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {padded_shape(in[0].shape(), a.get<Shape>("pads")), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> { return {unpad(c.cotangent, c.attrs)}; },
});

const OpDef& kPadBackward = define_op({
    .name = "pad_backward",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      return {a.get<Shape>("input_shape"), in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      Attrs a = c.attrs;
      a.set("value", 0.0);
      return {apply(kPad, {c.cotangent}, a)};
    },
});

Tensor unpad(const Tensor& g, const Attrs& a) {
  const Shape& pads = a.get<Shape>("pads");
  if (a.get<std::string>("mode") == "constant") {
    Tensor out = g;
    for (std::size_t d = 0; d < g.shape().size(); ++d)
      if (pads[2 * d] != 0 || pads[2 * d + 1] != 0)
        out = out.slice(int64_t(d), pads[2 * d], g.shape()[d] - pads[2 * d + 1]);
    return out;
  }
  Shape in = g.shape();
  for (std::size_t d = 0; d < in.size(); ++d) in[d] -= pads[2 * d] + pads[2 * d + 1];
  Attrs b = a;
  b.set("input_shape", in);
  return apply(kPadBackward, {g}, b);
}

const char* mode_name(PadMode m) {
  switch (m) {
    case PadMode::constant:
      return "constant";
    case PadMode::reflect:
      return "reflect";
    case PadMode::replicate:
      return "replicate";
  }
  return "?";
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
  if (!x.defined()) throw ValueError("[pad] the input is undefined");
  if (pads.size() % 2 != 0 || int64_t(pads.size()) > 2 * x.ndim())
    throw ShapeError("[pad] pads " + ints_str(pads) +
                     " must be (before, after) pairs for at most " + std::to_string(x.ndim()) +
                     " dims of shape " + shape_str(x.shape()));
  Shape dim_pads(2 * std::size_t(x.ndim()), 0);
  for (std::size_t i = 0; i < pads.size() / 2; ++i) {
    std::size_t d = std::size_t(x.ndim()) - 1 - i;
    int64_t lo = pads[2 * i], hi = pads[2 * i + 1], n = x.shape()[d];
    if (lo < 0 || hi < 0) throw ValueError("[pad] negative pad in " + ints_str(pads));
    if (mode == PadMode::reflect && (lo >= n || hi >= n) && (lo > 0 || hi > 0))
      throw ValueError("[pad] reflect pads " + std::to_string(lo) + ", " + std::to_string(hi) +
                       " must be smaller than dim " + std::to_string(d) + " of shape " +
                       shape_str(x.shape()));
    if (mode == PadMode::replicate && n == 0 && (lo > 0 || hi > 0))
      throw ValueError("[pad] cannot replicate the edge of empty dim " + std::to_string(d) +
                       " of shape " + shape_str(x.shape()));
    dim_pads[2 * d] = lo;
    dim_pads[2 * d + 1] = hi;
  }
  bool any = false;
  for (int64_t p : dim_pads) any |= p != 0;
  if (!any) return x.clone();
  return apply(kPad, {x},
               {{"pads", dim_pads}, {"mode", std::string(mode_name(mode))}, {"value", value}});
}

}  // namespace nabla
