// Helpers of the convolution and pooling kernels: contiguous (and, for float16/bfloat16,
// float32) views of the inputs, and a thread-safe cache of oneDNN primitives, which are
// slow to create.
#pragma once
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "backend/cpu/loops.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nabla::cpu {

// in's data as a contiguous array of C: in itself when possible, else a copy kept in `keep`.
template <class C, class T>
const C* contiguous_as(const Node& in, Tensor& keep) {
  if constexpr (std::is_same_v<C, T>)
    if (in.is_contiguous()) return in.ptr<C>();
  keep = make_empty(in.shape, dtype_of_v<C>);
  elementwise<C, T>(*keep.node(), {&in}, [](compute_t<T> v) { return C(v); });
  return keep.node()->ptr<C>();
}

// Calls body(inputs, out) on contiguous arrays of C: double for float64, float otherwise
// (float16 and bfloat16 are converted in and out).
template <class T, class Body>
void with_contiguous(const KernelArgs& a, Body&& body) {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
  std::array<Tensor, 4> keep;
  std::array<const C*, 4> in{};
  for (std::size_t i = 0; i < a.inputs.size(); ++i)
    in[i] = contiguous_as<C, T>(*a.inputs[i], keep[i]);
  if constexpr (std::is_same_v<T, C>) {
    body(in, a.out.ptr<C>());
  } else {
    Tensor tmp = make_empty(a.out.shape, dtype_of_v<C>);
    body(in, tmp.node()->ptr<C>());
    elementwise<T, C>(a.out, {tmp.node()}, [](C v) { return T(v); });
  }
}

// Primitives keyed by the integers that describe them (kind, shapes, attributes).
template <class Entry>
class PrimitiveCache {
 public:
  template <class Make>
  std::shared_ptr<const Entry> get(const std::vector<int64_t>& key, Make&& make) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    auto entry = std::make_shared<const Entry>(make());  // outside the lock: slow
    std::lock_guard<std::mutex> lock(mu_);
    return map_.emplace(key, std::move(entry)).first->second;
  }

 private:
  std::mutex mu_;
  std::map<std::vector<int64_t>, std::shared_ptr<const Entry>> map_;
};

inline void append(std::vector<int64_t>& key, const Shape& s) {
  key.push_back(int64_t(s.size()));
  key.insert(key.end(), s.begin(), s.end());
}

}  // namespace nabla::cpu
