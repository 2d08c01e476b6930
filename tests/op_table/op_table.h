// The op table (DESIGN.md, "Adding an op touches three places"): one row per op with sample
// inputs, a float64 reference and the dtypes to test. tests/op_table.cpp drives every row:
// forward vs reference for each dtype, and VJP vs float64 central differences.
// Rows live in tests/op_table/<family>.cpp and register themselves with NABLA_OP_ROWS.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nabla/nabla.h>

namespace nabla::optable {

// A float64 reference value: row-major data of a shape.
struct Ref {
  Shape shape;
  std::vector<double> v;
  double at(const Shape& index) const;  // index of length shape.size()
};

// How one sample input is made.
struct Arg {
  Shape shape;
  bool non_contiguous = false;   // built as a transposed/strided view of a larger buffer
  std::optional<DType> dtype;    // fixed dtype (indices, masks); default: the dtype under test
  double lo = -2, hi = 2;        // uniform values in [lo, hi)
  bool integer_values = false;   // round values (for ops like floor_divide, or index tensors)
  bool differentiable = true;    // gradcheck this input (when floating)
};

struct Row {
  std::string op;                // the registry name this row covers
  std::string variant;           // tells apart several rows of one op in test names
  std::vector<std::vector<Arg>> samples;
  std::function<Tensor(const std::vector<Tensor>&)> run;
  std::function<Ref(const std::vector<Ref>&)> ref;
  std::vector<DType> dtypes = {float32, float64};
  bool grad = true;              // check the VJP and the JVP in float64
  bool second_order = false;     // also check gradients of gradients
  double tol_scale = 1;          // multiplies the per-dtype tolerance
  std::vector<std::string> also_covers;  // further registry ops exercised by this row
  std::string id() const { return variant.empty() ? op : op + "_" + variant; }
};

std::vector<Row>& rows();
struct Registrar {
  explicit Registrar(std::vector<Row> rs);
};

// Samples for unary elementwise ops: 0-d, empty, matrix, non-contiguous, above the grain.
std::vector<std::vector<Arg>> unary_samples(double lo = -2, double hi = 2);
// Samples for binary elementwise ops: same shape, broadcasting both ways, scalar, empty,
// non-contiguous, above the grain.
std::vector<std::vector<Arg>> binary_samples(double lo = -2, double hi = 2);

// Elementwise reference with NumPy broadcasting.
Ref elementwise_ref(const std::vector<Ref>& in, const std::function<double(const std::vector<double>&)>& f);
Ref unary_ref(const Ref& x, const std::function<double(double)>& f);
Ref binary_ref(const Ref& a, const Ref& b, const std::function<double(double, double)>& f);

}  // namespace nabla::optable

#define NABLA_OP_CAT2(a, b) a##b
#define NABLA_OP_CAT(a, b) NABLA_OP_CAT2(a, b)
#define NABLA_OP_ROWS(...) \
  static ::nabla::optable::Registrar NABLA_OP_CAT(op_rows_, __LINE__)(std::vector<::nabla::optable::Row>{__VA_ARGS__})
