// Sorting: argsort and topk produce int64 indices (no gradient); sort and topk's values
// gather x at those indices, so their gradients come from gather's.
#include "nabla/ops/index.h"
#include "ops/common.h"

namespace nabla {
namespace {

const OpDef& kArgsort = define_op({
    .name = "argsort",
    .infer = [](std::span<const Tensor> in, const Attrs&) -> OutputMeta {
      return {in[0].shape(), int64};
    },
});

const OpDef& kTopk = define_op({
    .name = "topk",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s = in[0].shape();
      if (!s.empty()) s[std::size_t(a.get<int64_t>("axis"))] = a.get<int64_t>("k");
      return {s, int64};
    },
});

}  // namespace

Tensor argsort(const Tensor& x, int64_t axis, bool descending) {
  if (!x.defined()) throw ValueError("[argsort] the input is undefined");
  int64_t ax = normalize_axis(axis, x.ndim(), "argsort");
  return apply(kArgsort, {x}, {{"axis", ax}, {"descending", descending}});
}

Tensor sort(const Tensor& x, int64_t axis, bool descending) {
  if (!x.defined()) throw ValueError("[sort] the input is undefined");
  int64_t ax = normalize_axis(axis, x.ndim(), "sort");
  return gather(x, ax, argsort(x, ax, descending));
}

TopK topk(const Tensor& x, int64_t k, int64_t axis, bool largest, bool sorted) {
  if (!x.defined()) throw ValueError("[topk] the input is undefined");
  int64_t ax = normalize_axis(axis, x.ndim(), "topk");
  int64_t n = x.ndim() == 0 ? 1 : x.shape()[std::size_t(ax)];
  if (k < 0 || k > n)
    throw IndexError("[topk] k = " + std::to_string(k) + " is out of range for dim " +
                     std::to_string(ax) + " of size " + std::to_string(n) + " in shape " +
                     shape_str(x.shape()));
  Tensor indices = apply(kTopk, {x}, {{"axis", ax}, {"k", k}, {"largest", largest}});
  return {gather(x, ax, indices), indices};
}

}  // namespace nabla
