// The instruction set of fused programs (compile/graph.h's FusedProgram): the op each code
// computes over one chunk, in the op's dtype with its kernel's own formula (the exp/tanh/log
// polynomials of backend/cpu/unary_functors.h), so results are bit-identical to op-by-op
// execution; an optional scalar step after it. Shared by the program builder
// (fused_program.cpp) and the loops that run programs (fused_run.cpp).
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "backend/cpu/unary_functors.h"
#include "compile/graph.h"

namespace nabla::compile_detail::fused {

constexpr int64_t kChunk = 512;  // elements per register: a dozen float32 registers fit in L1

enum Code : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMax,
  kMin,  // binary
  kNeg,
  kAbs,
  kSquare,
  kRecip,
  kSqrt,
  kRsqrt,
  kExp,
  kLog,
  kLog1p,
  kTanh,
  kSigmoid,
  kRelu,
};

enum Post : uint8_t { kPostNone, kPostMul, kPostAdd, kPostSub };

inline bool code_of(const std::string& op, uint8_t& code) {
  static const std::pair<const char*, Code> table[] = {
      {"add", kAdd},         {"sub", kSub},          {"mul", kMul},     {"div", kDiv},
      {"maximum", kMax},     {"minimum", kMin},      {"neg", kNeg},     {"abs", kAbs},
      {"square", kSquare},   {"reciprocal", kRecip}, {"sqrt", kSqrt},   {"rsqrt", kRsqrt},
      {"exp", kExp},         {"log", kLog},          {"log1p", kLog1p}, {"tanh", kTanh},
      {"sigmoid", kSigmoid}, {"relu", kRelu}};
  for (auto [name, c] : table)
    if (op == name) {
      code = c;
      return true;
    }
  return false;
}

// What an instruction does to its result before the store: nothing, `* k` or `+ k`.
template <class T>
struct NoPost {
  [[gnu::always_inline]] T operator()(T x) const { return x; }
};
template <class T>
struct MulPost {
  T k;
  [[gnu::always_inline]] T operator()(T x) const { return T(x * k); }
};
template <class T>
struct AddPost {
  T k;
  [[gnu::always_inline]] T operator()(T x) const { return T(x + k); }
};
template <class T>
struct SubPost {
  T k;
  [[gnu::always_inline]] T operator()(T x) const { return T(x - k); }
};

// dst[i] = post(f(a[i], b[i])) over one chunk. restrict: registers never alias (see the
// allocator).
template <class T, class F, class P>
[[gnu::always_inline]] inline void binary(T* __restrict d, const T* __restrict a,
                                          const T* __restrict b, int64_t n, F f, P p) {
  for (int64_t i = 0; i < n; ++i) d[i] = p(f(a[i], b[i]));
}
template <class T, class F, class P>
[[gnu::always_inline]] inline void binary_k(T* __restrict d, const T* __restrict a, T b, int64_t n,
                                            F f, P p) {
  for (int64_t i = 0; i < n; ++i) d[i] = p(f(a[i], b));
}
template <class T, class F, class P>
[[gnu::always_inline]] inline void unary(T* __restrict d, const T* __restrict a, int64_t n, F f,
                                         P p) {
  for (int64_t i = 0; i < n; ++i) d[i] = p(f(a[i]));
}

// One instruction, its operand form and its post step picked once per chunk.
template <class T, class F>
inline void run_binary(const FusedProgram::Instr& in, T* d, const T* a, const T* b, const T* k,
                       int64_t n, F f) {
  auto go = [&](auto p) {
    if (in.b_scalar)
      binary_k(d, a, k[in.b], n, f, p);
    else
      binary(d, a, b, n, f, p);
  };
  if (in.post == kPostMul) return go(MulPost<T>{k[in.post_k]});
  if (in.post == kPostAdd) return go(AddPost<T>{k[in.post_k]});
  if (in.post == kPostSub) return go(SubPost<T>{k[in.post_k]});
  go(NoPost<T>{});
}
template <class T, class F>
inline void run_unary(const FusedProgram::Instr& in, T* d, const T* a, const T* k, int64_t n, F f) {
  if (in.post == kPostMul) return unary(d, a, n, f, MulPost<T>{k[in.post_k]});
  if (in.post == kPostAdd) return unary(d, a, n, f, AddPost<T>{k[in.post_k]});
  if (in.post == kPostSub) return unary(d, a, n, f, SubPost<T>{k[in.post_k]});
  unary(d, a, n, f, NoPost<T>{});
}

// The formulas of the binary, unary and activation kernels (src/backend/cpu/*.cpp).
template <class T>
inline void run_instr(const FusedProgram::Instr& in, T* d, const T* a, const T* b, const T* k,
                      int64_t n) {
  switch (in.code) {
    case kAdd:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x + y); });
    case kSub:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x - y); });
    case kMul:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x * y); });
    case kDiv:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return T(x / y); });
    case kMax:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return (x > y || x != x) ? x : y; });
    case kMin:
      return run_binary(in, d, a, b, k, n, [](T x, T y) { return (x < y || x != x) ? x : y; });
    case kNeg:
      return run_unary(in, d, a, k, n, [](T x) { return T(-x); });
    case kAbs:
      return run_unary(in, d, a, k, n, [](T x) { return std::fabs(x); });
    case kSquare:
      return run_unary(in, d, a, k, n, [](T x) { return T(x * x); });
    case kRecip:
      return run_unary(in, d, a, k, n, [](T x) { return T(1) / x; });
    case kSqrt:
      return run_unary(in, d, a, k, n, [](T x) { return std::sqrt(x); });
    case kRsqrt:
      return run_unary(in, d, a, k, n, [](T x) { return T(1) / std::sqrt(x); });
    case kExp:
      return run_unary(in, d, a, k, n, cpu::ExpF{});
    case kLog:
      return run_unary(in, d, a, k, n, cpu::LogF{});
    case kLog1p:
      return run_unary(in, d, a, k, n, cpu::Log1pF{});
    case kTanh:
      return run_unary(in, d, a, k, n, cpu::TanhF{});
    case kSigmoid:
      return run_unary(in, d, a, k, n, cpu::SigmoidF{});
    case kRelu:
      return run_unary(in, d, a, k, n, [](T x) { return x > T(0) ? x : (x != x ? x : T(0)); });
  }
}

// Whether `post(code(...))` may run as one expression without changing bits: the compiler
// contracts a multiply feeding an add into one fused multiply-add (one rounding instead of
// two), so `+ k` is only folded after ops whose last step is not a multiply.
inline bool add_may_follow(uint8_t code) {
  switch (code) {
    case kAdd:
    case kSub:
    case kDiv:
    case kMax:
    case kMin:
    case kNeg:
    case kAbs:
    case kRecip:
    case kSqrt:
    case kRsqrt:
    case kTanh:
    case kRelu:
      return true;
    default:
      return false;
  }
}

}  // namespace nabla::compile_detail::fused
