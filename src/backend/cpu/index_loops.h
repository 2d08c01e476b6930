// Loops shared by the indexing, joining and padding kernels: row iteration over strided
// operands, strided views of a node's storage, and the bounds check of index tensors.
#pragma once
#include <array>
#include <atomic>
#include <cstring>
#include <string>

#include "backend/cpu/assign.h"
#include "backend/cpu/parallel.h"
#include "ir/node.h"

namespace nabla::cpu {

// A node's shape and strides, with a 0-d node seen as shape (1).
struct Layout {
  Shape shape;
  Strides strides;
};
inline Layout layout_of(const Node& n) {
  if (n.shape.empty()) return {Shape{1}, Strides{0}};
  return {n.shape, n.strides};
}

// A node viewing `base`'s storage with another shape, strides (elements) and offset.
inline Node view_of(const Node& base, const Shape& shape, const Strides& strides, int64_t offset) {
  Node n;
  n.storage = base.storage;
  n.dtype = base.dtype;
  n.device = base.device;
  n.shape = shape;
  n.strides = strides;
  n.offset = offset;
  return n;
}

// Calls fn(offs) for rows [rb, re) of the last dim of `shape` (rank >= 1), where offs[k] is
// operand k's offset, under strides[k], at the row's first element.
template <std::size_t K, class F>
void for_rows(const Shape& shape, const std::array<const int64_t*, K>& strides, int64_t rb,
              int64_t re, F&& fn) {
  const int last = int(shape.size()) - 1;
  int64_t idx[16] = {0};
  int64_t rem = rb;
  for (int d = last - 1; d >= 0; --d) {
    idx[d] = rem % shape[std::size_t(d)];
    rem /= shape[std::size_t(d)];
  }
  for (int64_t r = rb; r < re; ++r) {
    std::array<int64_t, K> off{};
    for (int d = 0; d < last; ++d)
      for (std::size_t k = 0; k < K; ++k) off[k] += idx[d] * strides[k][d];
    fn(off);
    for (int d = last - 1; d >= 0; --d) {
      if (++idx[d] < shape[std::size_t(d)]) break;
      idx[d] = 0;
    }
  }
}

// for_rows over every row, split across threads above the grain.
template <std::size_t K, class F>
void parallel_rows(const Shape& shape, const std::array<const int64_t*, K>& strides, F&& fn) {
  int64_t n = numel_of(shape);
  if (n == 0) return;
  if (shape.size() > 16) throw Error("tensors with more than 16 dims are not supported");
  int64_t inner = shape.back();
  parallel_for(n / inner, std::max<int64_t>(1, kGrain / inner),
               [&](int64_t rb, int64_t re) { for_rows<K>(shape, strides, rb, re, fn); });
}

[[noreturn]] inline void throw_bad_index(const char* op, int64_t index, int64_t dim, int64_t size) {
  throw IndexError("[" + std::string(op) + "] index " + std::to_string(index) +
                   " is out of range for dim " + std::to_string(dim) + " of size " +
                   std::to_string(size));
}
// An out-of-range index seen by kernel threads, thrown once they are done.
struct BadIndex {
  std::atomic<bool> seen{false};
  std::atomic<int64_t> value{0};
  void note(int64_t v) {
    value.store(v, std::memory_order_relaxed);
    seen.store(true, std::memory_order_relaxed);
  }
  void throw_if_seen(const char* op, int64_t dim, int64_t size) const {
    if (seen.load()) throw_bad_index(op, value.load(), dim, size);
  }
};

// Throws IndexError naming `op` unless every entry of the int64 `index` lies in [-size, size).
inline void check_indices(const Node& index, int64_t size, const char* op, int64_t dim) {
  Layout l = layout_of(index);
  if (numel_of(l.shape) == 0) return;
  const int64_t* p = index.ptr<int64_t>();
  const int64_t inner = l.shape.back(), s = l.strides.back();
  bool bad = false;
  int64_t first_bad = 0;
  for_rows<1>(l.shape, {l.strides.data()}, 0, numel_of(l.shape) / inner, [&](const auto& off) {
    if (bad) return;
    const int64_t* row = p + off[0];
    bool any = false;
    for (int64_t j = 0; j < inner; ++j) any |= row[j * s] < -size || row[j * s] >= size;
    for (int64_t j = 0; any && j < inner; ++j)
      if (row[j * s] < -size || row[j * s] >= size) {
        first_bad = row[j * s];
        bad = true;
        break;
      }
  });
  if (bad) throw_bad_index(op, first_bad, dim, size);
}

// dst = src for views of one shape. Rows that are contiguous in both copy with memcpy;
// short rows and other layouts go through the strided assign.
inline void copy_block(Node& dst, const Node& src) {
  if (dst.numel() == 0) return;
  const std::size_t nd = dst.shape.size();
  if (nd == 0 || dst.strides[nd - 1] != 1 || src.strides[nd - 1] != 1 || dst.shape != src.shape ||
      dst.shape[nd - 1] < 16) {
    assign(dst, src);
    return;
  }
  const std::size_t bytes = itemsize(dst.dtype), row = std::size_t(dst.shape[nd - 1]) * bytes;
  char* d = dst.data();
  const char* s = src.data();
  parallel_rows<2>(dst.shape, {dst.strides.data(), src.strides.data()}, [&](const auto& off) {
    std::memcpy(d + off[0] * int64_t(bytes), s + off[1] * int64_t(bytes), row);
  });
}

}  // namespace nabla::cpu
