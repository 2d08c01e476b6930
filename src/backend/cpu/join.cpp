// CPU kernels of concat, flip, roll, tril and triu. The copies go through the strided
// assign, which merges contiguous dims and splits rows across threads.
#include "backend/cpu/assign.h"
#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/index_loops.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

void concat_kernel(const KernelArgs& a) {
  auto axis = std::size_t(a.attrs.get<int64_t>("axis"));
  int64_t at = 0;
  for (const Node* in : a.inputs) {
    if (in->numel() > 0) {
      Node dst = view_of(a.out, in->shape, a.out.strides, a.out.offset + at * a.out.strides[axis]);
      copy_block(dst, *in);
    }
    at += in->shape[axis];
  }
}

// A view of x running backwards along the flipped axes.
void flip_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  if (x.numel() == 0) return;
  Strides s = x.strides;
  int64_t offset = x.offset;
  for (int64_t d : a.attrs.get<Shape>("axes")) {
    offset += (x.shape[std::size_t(d)] - 1) * s[std::size_t(d)];
    s[std::size_t(d)] = -s[std::size_t(d)];
  }
  Node src = view_of(x, x.shape, s, offset);
  assign(a.out, src);
}

// Each rolled axis splits into two blocks that swap places: 2^k block copies for k axes.
void roll_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  if (x.numel() == 0) return;
  const Shape& axes = a.attrs.get<Shape>("axes");
  const Shape& shifts = a.attrs.get<Shape>("shifts");
  const std::size_t k = axes.size();
  for (uint64_t combo = 0; combo < (uint64_t(1) << k); ++combo) {
    Shape shape = x.shape;
    int64_t src_off = x.offset, dst_off = a.out.offset;
    for (std::size_t i = 0; i < k; ++i) {
      auto d = std::size_t(axes[i]);
      int64_t n = x.shape[d], s = shifts[i];
      bool wrapped = (combo >> i) & 1;  // the tail of x that wraps round to the front
      shape[d] = wrapped ? s : n - s;
      src_off += (wrapped ? n - s : 0) * x.strides[d];
      dst_off += (wrapped ? 0 : s) * a.out.strides[d];
    }
    Node src = view_of(x, shape, x.strides, src_off);
    Node dst = view_of(a.out, shape, a.out.strides, dst_off);
    copy_block(dst, src);
  }
}

template <class T, bool Lower>
void triangle_kernel(const KernelArgs& a) {
  const Node& x = *a.inputs[0];
  if (x.numel() == 0) return;
  const int64_t k = a.attrs.get<int64_t>("k");
  const std::size_t nd = x.shape.size();
  const int64_t rows = x.shape[nd - 2], cols = x.shape[nd - 1], xs = x.strides[nd - 1];
  Strides os = contiguous_strides(x.shape);
  T* o = a.out.ptr<T>();
  const T* xp = x.ptr<T>();
  // The row index i comes from the output offset: offset / cols mod rows.
  parallel_rows<2>(x.shape, {os.data(), x.strides.data()}, [&](const auto& off) {
    int64_t i = (off[0] / cols) % rows;
    T* orow = o + off[0];
    const T* xrow = xp + off[1];
    // Lower keeps j <= i + k; upper keeps j >= i + k.
    int64_t split = std::clamp<int64_t>(Lower ? i + k + 1 : i + k, 0, cols);
    int64_t keep_b = Lower ? 0 : split, keep_e = Lower ? split : cols;
    std::fill(orow, orow + keep_b, T(0));
    if (xs == 1)
      std::copy(xrow + keep_b, xrow + keep_e, orow + keep_b);
    else
      for (int64_t j = keep_b; j < keep_e; ++j) orow[j] = xrow[j * xs];
    std::fill(orow + keep_e, orow + cols, T(0));
  });
}

const bool registered = [] {
  for_each_dtype([]<class T>() {
    register_kernel("concat", DeviceType::cpu, dtype_of_v<T>, concat_kernel);
    register_kernel("flip", DeviceType::cpu, dtype_of_v<T>, flip_kernel);
    register_kernel("roll", DeviceType::cpu, dtype_of_v<T>, roll_kernel);
    register_kernel("tril", DeviceType::cpu, dtype_of_v<T>, triangle_kernel<T, true>);
    register_kernel("triu", DeviceType::cpu, dtype_of_v<T>, triangle_kernel<T, false>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
