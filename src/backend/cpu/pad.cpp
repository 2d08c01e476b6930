// CPU kernels of pad and pad_backward. Constant padding fills, then copies x into the
// interior; reflect and replicate map each output coordinate to its source, per dim.
#include <algorithm>
#include <vector>

#include "backend/cpu/assign.h"
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/index_loops.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

// Per dim of the padded shape: the source coordinate of each padded coordinate.
std::vector<std::vector<int64_t>> source_maps(const Shape& in, const Shape& pads, bool reflect) {
  std::vector<std::vector<int64_t>> maps(in.size());
  for (std::size_t d = 0; d < in.size(); ++d) {
    int64_t n = in[d], lo = pads[2 * d], len = n + lo + pads[2 * d + 1];
    maps[d].resize(std::size_t(len));
    for (int64_t o = 0; o < len; ++o) {
      int64_t i = o - lo;
      if (reflect)
        i = i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i);
      else
        i = std::clamp<int64_t>(i, 0, n - 1);
      maps[d][std::size_t(o)] = i;
    }
  }
  return maps;
}

template <class T>
void pad_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  const Shape& pads = a.attrs.get<Shape>("pads");
  const std::string& mode = a.attrs.get<std::string>("mode");
  T* o = a.out.ptr<T>();
  const int64_t total = a.out.numel();
  if (total == 0) return;
  if (mode == "constant") {
    T v;
    if constexpr (std::is_same_v<T, bool>)
      v = a.attrs.get<double>("value") != 0;
    else
      v = T(compute_t<T>(a.attrs.get<double>("value")));
    parallel_for(total, kGrain, [&](int64_t b, int64_t e) { std::fill(o + b, o + e, v); });
    if (x.numel() == 0) return;
    int64_t offset = a.out.offset;
    for (std::size_t d = 0; d < x.shape.size(); ++d) offset += pads[2 * d] * a.out.strides[d];
    Node interior = view_of(a.out, x.shape, a.out.strides, offset);
    copy_block(interior, x);
    return;
  }
  auto maps = source_maps(x.shape, pads, mode == "reflect");
  const Shape& os = a.out.shape;
  const std::size_t last = os.size() - 1;
  const int64_t inner = os[last], xs = x.strides[last];
  const int64_t* last_map = maps[last].data();
  const T* xp = x.ptr<T>();
  parallel_for(total / inner, std::max<int64_t>(1, kGrain / inner), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      int64_t rem = r, xoff = 0;
      for (std::size_t d = last; d-- > 0;) {
        xoff += maps[d][std::size_t(rem % os[d])] * x.strides[d];
        rem /= os[d];
      }
      T* orow = o + r * inner;
      for (int64_t j = 0; j < inner; ++j) orow[j] = xp[xoff + last_map[j] * xs];
    }
  });
}

// Adds each cotangent element into the input element it was copied from.
template <class T>
void pad_backward_kernel(const KernelArgs& a) {
  const Node& g = *a.inputs[0];
  const Shape& pads = a.attrs.get<Shape>("pads");
  using C = compute_t<T>;
  const int64_t n_out = a.out.numel();
  std::vector<C> acc(std::size_t(n_out), C(0));
  T* o = a.out.ptr<T>();
  if (g.numel() > 0) {
    auto maps = source_maps(a.out.shape, pads, a.attrs.get<std::string>("mode") == "reflect");
    Strides ins = contiguous_strides(a.out.shape);
    const Shape& gs = g.shape;
    const std::size_t last = gs.size() - 1;
    const int64_t inner = gs[last], gst = g.strides[last];
    const int64_t* last_map = maps[last].data();
    const T* gp = g.ptr<T>();
    for_rows<1>(gs, {g.strides.data()}, 0, g.numel() / inner,
                [&, r = int64_t(0)](const auto& off) mutable {
                  int64_t rem = r++, ioff = 0;
                  for (std::size_t d = last; d-- > 0;) {
                    ioff += maps[d][std::size_t(rem % gs[d])] * ins[d];
                    rem /= gs[d];
                  }
                  for (int64_t j = 0; j < inner; ++j)
                    acc[std::size_t(ioff + last_map[j])] += C(gp[off[0] + j * gst]);
                });
  }
  for (int64_t i = 0; i < n_out; ++i) o[i] = T(acc[std::size_t(i)]);
}

const bool registered = [] {
  for_each_dtype(
      []<class T>() { register_kernel("pad", DeviceType::cpu, dtype_of_v<T>, pad_kernel<T>); });
  for_each_float_dtype([]<class T>() {
    register_kernel("pad_backward", DeviceType::cpu, dtype_of_v<T>, pad_backward_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
