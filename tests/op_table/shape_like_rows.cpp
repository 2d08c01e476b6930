// Rows for broadcast_like and count_elements, the ops that read a shape from a tensor.
#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kAll = {float32, float64, float16, bfloat16, int32,
                                 int64,   int8,    uint8,   bool_};
const std::vector<DType> kNumeric = {float32, float64, float16, bfloat16,
                                     int32,   int64,   int8,    uint8};

// A tensor whose shape alone is read.
Arg shape_only(Shape s) { return Arg{.shape = s, .differentiable = false}; }

Ref count_ref(const Ref& x, const Shape& axes) {
  double n = 1;
  for (int64_t a : axes) n *= double(x.shape[std::size_t(a)]);
  if (axes.empty())
    for (int64_t d : x.shape) n *= double(d);
  return Ref{{}, {n}};
}

NABLA_OP_ROWS(Row{.op = "broadcast_like",
                  .samples = {{Arg{.shape = {3, 1}}, shape_only({2, 3, 4})},
                              {Arg{.shape = {}}, shape_only({3, 4})},
                              {Arg{.shape = {3, 4}, .non_contiguous = true}, shape_only({2, 3, 4})},
                              {Arg{.shape = {4}}, shape_only({0, 4})},
                              {Arg{.shape = {1, 300}}, shape_only({200, 300})}},
                  .run = [](const std::vector<Tensor>& in) { return broadcast_like(in[0], in[1]); },
                  .ref =
                      [](const std::vector<Ref>& in) {
                        return elementwise_ref(in,
                                               [](const std::vector<double>& v) { return v[0]; });
                      },
                  .dtypes = kAll},
              Row{.op = "count_elements",
                  .variant = "all",
                  .samples = {{Arg{.shape = {3, 4}}},
                              {Arg{.shape = {}}},
                              {Arg{.shape = {0, 5}}},
                              {Arg{.shape = {4, 5}, .non_contiguous = true}}},
                  .run =
                      [](const std::vector<Tensor>& in) {
                        return count_elements(in[0], {}, in[0].dtype());
                      },
                  .ref = [](const std::vector<Ref>& in) { return count_ref(in[0], {}); },
                  .dtypes = kNumeric,
                  .grad = false},
              Row{.op = "count_elements",
                  .variant = "axes",
                  .samples = {{Arg{.shape = {3, 4, 2}}}, {Arg{.shape = {2, 0, 5}}}},
                  .run =
                      [](const std::vector<Tensor>& in) {
                        return count_elements(in[0], {0, -1}, in[0].dtype());
                      },
                  .ref =
                      [](const std::vector<Ref>& in) {
                        return count_ref(in[0], {0, 2});
                      },
                  .dtypes = kNumeric,
                  .grad = false});

}  // namespace
}  // namespace nabla::optable
