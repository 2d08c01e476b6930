// Elementwise loops over broadcast, strided inputs into a contiguous output. The functor
// is inlined into each loop (no per-element indirect calls). Fast paths: all-contiguous
// inputs of the output's size, and inner dims with unit or zero stride (a zero-stride
// operand, such as the scalar in `x * 2`, is read once per row); dims that are contiguous
// with each other are merged first. Bools are loaded and stored as bytes so loops over them
// vectorise too.
#pragma once
#include <array>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "backend/cpu/parallel.h"
#include "ir/node.h"
#include "nabla/half.h"

namespace nabla::cpu {

// 16-bit floats compute in float32.
template <class T>
using compute_t =
    std::conditional_t<std::is_same_v<T, half> || std::is_same_v<T, bfloat16_t>, float, T>;

// Reads one element in its compute type. Bools are read as bytes: GCC vectorises
// `byte != 0` but not a bool load.
template <class T>
inline compute_t<T> load(const T* p) {
  if constexpr (std::is_same_v<T, bool>)
    return *reinterpret_cast<const uint8_t*>(p) != 0;
  else
    return compute_t<T>(*p);
}

template <std::size_t K>
struct LoopPlan {
  int ndim = 0;
  int64_t shape[16];
  int64_t strides[K][16];  // input strides in elements; 0 where broadcast
};

// Strides of `in` viewed at the output's shape (0 on broadcast dims).
inline void broadcast_strides(const Node& in, const Shape& out_shape, int64_t* dst) {
  std::size_t nd = out_shape.size(), off = nd - in.shape.size();
  for (std::size_t i = 0; i < nd; ++i)
    dst[i] = (i < off || in.shape[i - off] == 1) ? 0 : in.strides[i - off];
}

template <std::size_t K>
LoopPlan<K> make_plan(const Shape& out_shape, const std::array<const Node*, K>& in) {
  LoopPlan<K> p;
  int64_t tmp[K][16];
  int nd = int(out_shape.size());
  if (nd > 16) throw Error("tensors with more than 16 dims are not supported");
  for (std::size_t k = 0; k < K; ++k) broadcast_strides(*in[k], out_shape, tmp[k]);
  // Drop size-1 dims, then merge dim i into the previous one when every operand allows.
  for (int i = 0; i < nd; ++i) {
    if (out_shape[i] == 1) continue;
    if (p.ndim > 0) {
      bool merge = true;
      for (std::size_t k = 0; k < K; ++k)
        merge &= p.strides[k][p.ndim - 1] == tmp[k][i] * out_shape[i];
      if (merge) {
        p.shape[p.ndim - 1] *= out_shape[i];
        for (std::size_t k = 0; k < K; ++k) p.strides[k][p.ndim - 1] = tmp[k][i];
        continue;
      }
    }
    p.shape[p.ndim] = out_shape[i];
    for (std::size_t k = 0; k < K; ++k) p.strides[k][p.ndim] = tmp[k][i];
    ++p.ndim;
  }
  if (p.ndim == 0) {
    p.ndim = 1;
    p.shape[0] = 1;
    for (std::size_t k = 0; k < K; ++k) p.strides[k][0] = 0;
  }
  return p;
}

template <class Out, class... In, class F, std::size_t... I>
void run_elementwise(Node& out, const std::array<const Node*, sizeof...(In)>& in, F& f,
                     std::index_sequence<I...>) {
  constexpr std::size_t K = sizeof...(In);
  Out* o = out.ptr<Out>();
  const int64_t n = out.numel();
  if (n == 0) return;
  std::tuple<const In*...> base{in[I]->template ptr<In>()...};
  // Bool results are stored as bytes: GCC vectorises a uint8_t store but not a bool one.
  auto store = [](Out* dst, auto v) {
    if constexpr (std::is_same_v<Out, bool>)
      *reinterpret_cast<uint8_t*>(dst) = v ? 1 : 0;
    else
      *dst = Out(v);
  };

  LoopPlan<K> plan = make_plan<K>(out.shape, in);
  const int last = plan.ndim - 1;
  const int64_t inner = plan.shape[last];
  const bool unit = ((plan.strides[I][last] == 1) && ...);

  // Inner strides all 0 or 1 (a scalar operand, a broadcast row): bit k of `held` marks
  // operand k as constant along the row, read once into a register so the loop vectorises.
  unsigned held = 0;
  bool unit_or_held = true;
  for (std::size_t k = 0; k < K; ++k) {
    held |= unsigned(plan.strides[k][last] == 0) << k;
    unit_or_held &= plan.strides[k][last] == 0 || plan.strides[k][last] == 1;
  }
  constexpr bool kSpecialise = K <= 3;
  const bool use_held = kSpecialise && !unit && unit_or_held;

  auto row_held = [&]<unsigned Held>(Out* orow, const std::tuple<const In*...>& p, int64_t count) {
    const std::tuple<compute_t<In>...> v{
        ((Held >> I) & 1u ? load(std::get<I>(p)) : compute_t<In>())...};
    auto at = [&]<std::size_t J>(int64_t j) {
      if constexpr ((Held >> J) & 1u)
        return std::get<J>(v);
      else
        return load(std::get<J>(p) + j);
    };
    for (int64_t j = 0; j < count; ++j) store(orow + j, f(at.template operator()<I>(j)...));
  };
  auto dispatch_held = [&]<unsigned... M>(std::integer_sequence<unsigned, M...>, Out * orow,
                                          const std::tuple<const In*...>& p, int64_t count) {
    ((held == M ? (row_held.template operator()<M>(orow, p, count), true) : false) || ...);
  };

  // count outputs from o_row, reading operand k from its pointer with its inner stride.
  auto row = [&](Out* orow, const std::array<int64_t, K>& off, int64_t count) {
    std::tuple<const In*...> p{(std::get<I>(base) + off[I])...};
    if (unit) {
      for (int64_t j = 0; j < count; ++j) store(orow + j, f(load(std::get<I>(p) + j)...));
    } else if (use_held) {
      if constexpr (kSpecialise)
        dispatch_held(std::make_integer_sequence<unsigned, (1u << K)>{}, orow, p, count);
    } else {
      for (int64_t j = 0; j < count; ++j)
        store(orow + j, f(load(std::get<I>(p) + j * plan.strides[I][last])...));
    }
  };

  if (plan.ndim == 1) {  // everything merged into one dim: split it across threads
    parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
      row(o + b, std::array<int64_t, K>{(b * plan.strides[I][0])...}, e - b);
    });
    return;
  }
  parallel_for(n / inner, std::max<int64_t>(1, kGrain / inner), [&](int64_t rb, int64_t re) {
    int64_t idx[16] = {0};
    int64_t rem = rb;
    for (int d = last - 1; d >= 0; --d) {
      idx[d] = rem % plan.shape[d];
      rem /= plan.shape[d];
    }
    for (int64_t r = rb; r < re; ++r) {
      std::array<int64_t, K> off{};
      for (int d = 0; d < last; ++d)
        for (std::size_t k = 0; k < K; ++k) off[k] += idx[d] * plan.strides[k][d];
      row(o + r * inner, off, inner);
      for (int d = last - 1; d >= 0; --d) {
        if (++idx[d] < plan.shape[d]) break;
        idx[d] = 0;
      }
    }
  });
}

// out[i] = f(in0[i], in1[i], ...) with broadcasting. Inputs are read as In..., converted
// to their compute type (float for 16-bit floats) and the result converted to Out.
template <class Out, class... In, class F>
void elementwise(Node& out, std::array<const Node*, sizeof...(In)> in, F f) {
  run_elementwise<Out, In...>(out, in, f, std::index_sequence_for<In...>{});
}

}  // namespace nabla::cpu
