#include "nabla/dtype.h"

namespace nabla {

std::string_view dtype_name(DType t) {
  switch (t) {
    case bool_: return "bool";
    case uint8: return "uint8";
    case int8: return "int8";
    case int32: return "int32";
    case int64: return "int64";
    case float16: return "float16";
    case bfloat16: return "bfloat16";
    case float32: return "float32";
    case float64: return "float64";
  }
  return "?";
}

namespace {
int category(DType t) { return t == bool_ ? 0 : is_integral(t) ? 1 : 2; }
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  int ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 1) {
    // uint8 with int8 needs int16, which nabla lacks: int32 holds both ranges.
    if ((a == uint8 && b == int8) || (a == int8 && b == uint8)) return int32;
    return itemsize(a) >= itemsize(b) ? a : b;
  }
  // floating: float16 with bfloat16 has no common 16-bit type.
  if ((a == float16 && b == bfloat16) || (a == bfloat16 && b == float16)) return float32;
  return itemsize(a) >= itemsize(b) ? a : b;
}

DType promote_with_weak(DType strong, DType weak) {
  int cs = category(strong), cw = category(weak);
  if (cw <= cs) return strong;
  return cw == 2 ? float32 : int64;
}

}  // namespace nabla
