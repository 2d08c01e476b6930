// Ranges: arange, linspace, eye.
#include <cmath>

#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "ops/common.h"

namespace nabla {
namespace {

const OpDef& kArange = define_op({
    .name = "arange",
    .flags = kCreation,
    .arity = 0,
    .infer = [](std::span<const Tensor>, const Attrs& a) -> OutputMeta {
      return {{a.get<int64_t>("length")}, a.get<DType>("dtype")};
    },
    .dispatch_input = -1,
});

}  // namespace

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw ValueError("[arange] needs finite start/end and a non-zero step, got " + std::to_string(start) +
                     ", " + std::to_string(end) + ", " + std::to_string(step));
  int64_t n = std::max<int64_t>(0, int64_t(std::ceil((end - start) / step)));
  return apply(kArange, {}, {{"length", n}, {"start", start}, {"step", step}, {"dtype", dtype}});
}

Tensor arange(int64_t end, DType dtype) { return arange(0.0, double(end), 1.0, dtype); }

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  if (steps < 0) throw ValueError("[linspace] steps must be non-negative, got " + std::to_string(steps));
  if (steps == 1) return full({1}, start, dtype);
  double step = steps > 1 ? (end - start) / double(steps - 1) : 0.0;
  return apply(kArange, {}, {{"length", steps}, {"start", start}, {"step", step}, {"dtype", dtype}});
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  if (m < 0) m = n;
  if (n < 0) throw ValueError("[eye] n must be non-negative, got " + std::to_string(n));
  Tensor e = zeros({n, m}, dtype);
  e.diagonal().fill_(1.0);
  return e;
}

}  // namespace nabla
