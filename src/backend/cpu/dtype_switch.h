// Turns a runtime dtype into a template argument.
#pragma once
#include <cstdint>

#include "nabla/dtype.h"
#include "nabla/error.h"

namespace nabla::cpu {

template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case bool_: return f.template operator()<bool>();
    case uint8: return f.template operator()<uint8_t>();
    case int8: return f.template operator()<int8_t>();
    case int32: return f.template operator()<int32_t>();
    case int64: return f.template operator()<int64_t>();
    case float16: return f.template operator()<half>();
    case bfloat16: return f.template operator()<bfloat16_t>();
    case float32: return f.template operator()<float>();
    case float64: return f.template operator()<double>();
  }
  throw DTypeError("unknown dtype");
}

template <class F>
void for_each_dtype(F&& f) {
  f.template operator()<bool>();
  f.template operator()<uint8_t>();
  f.template operator()<int8_t>();
  f.template operator()<int32_t>();
  f.template operator()<int64_t>();
  f.template operator()<half>();
  f.template operator()<bfloat16_t>();
  f.template operator()<float>();
  f.template operator()<double>();
}
template <class F>
void for_each_float_dtype(F&& f) {
  f.template operator()<half>();
  f.template operator()<bfloat16_t>();
  f.template operator()<float>();
  f.template operator()<double>();
}
// Numeric dtypes: everything but bool.
template <class F>
void for_each_numeric_dtype(F&& f) {
  f.template operator()<uint8_t>();
  f.template operator()<int8_t>();
  f.template operator()<int32_t>();
  f.template operator()<int64_t>();
  for_each_float_dtype(f);
}

}  // namespace nabla::cpu
