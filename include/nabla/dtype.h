// Element types, their names and the type-promotion rules (docs/dtypes.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nabla/half.h"

namespace nabla {

enum class DType : uint8_t { bool_, uint8, int8, int32, int64, float16, bfloat16, float32, float64 };
inline constexpr int kNumDTypes = 9;

inline constexpr DType bool_ = DType::bool_;
inline constexpr DType uint8 = DType::uint8;
inline constexpr DType int8 = DType::int8;
inline constexpr DType int32 = DType::int32;
inline constexpr DType int64 = DType::int64;
inline constexpr DType float16 = DType::float16;
inline constexpr DType bfloat16 = DType::bfloat16;
inline constexpr DType float32 = DType::float32;
inline constexpr DType float64 = DType::float64;

constexpr std::size_t itemsize(DType t) {
  switch (t) {
    case DType::bool_: case DType::uint8: case DType::int8: return 1;
    case DType::float16: case DType::bfloat16: return 2;
    case DType::int32: case DType::float32: return 4;
    case DType::int64: case DType::float64: return 8;
  }
  return 0;
}
constexpr bool is_floating(DType t) {
  return t == DType::float16 || t == DType::bfloat16 || t == DType::float32 || t == DType::float64;
}
// Integer dtypes; bool is not one.
constexpr bool is_integral(DType t) {
  return t == DType::uint8 || t == DType::int8 || t == DType::int32 || t == DType::int64;
}
constexpr bool is_signed(DType t) { return t != DType::bool_ && t != DType::uint8; }
std::string_view dtype_name(DType t);

// The dtype two tensors combine to (NumPy/PyTorch rules; see docs/dtypes.md).
DType promote_types(DType a, DType b);
// Promotion with a Python-scalar-like ("weak") operand: the scalar only decides the
// category (bool < integer < floating), never the width, so `x * 2` keeps x's dtype.
DType promote_with_weak(DType strong, DType weak);

// The C++ type that stores each dtype, and back.
template <class T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = bool_; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = uint8; };
template <> struct dtype_of<int8_t> { static constexpr DType value = int8; };
template <> struct dtype_of<int32_t> { static constexpr DType value = int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = int64; };
template <> struct dtype_of<half> { static constexpr DType value = float16; };
template <> struct dtype_of<bfloat16_t> { static constexpr DType value = bfloat16; };
template <> struct dtype_of<float> { static constexpr DType value = float32; };
template <> struct dtype_of<double> { static constexpr DType value = float64; };
template <class T> inline constexpr DType dtype_of_v = dtype_of<T>::value;

}  // namespace nabla
