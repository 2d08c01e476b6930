// Rows for the autograd-made nodes: a CustomFunction and a checkpointed block, whose
// hand-written and recomputed backwards the driver checks against finite differences.
#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const CustomFunction& mul_add() {
  static const CustomFunction f{
      .name = "mul_add",
      .forward = [](const std::vector<Tensor>& in) { return in[0] * in[1] + in[1]; },
      .backward = [](const std::vector<Tensor>& in, const Tensor&, const Tensor& g) {
        return std::vector<Tensor>{sum_to(g * in[1], in[0].shape()), sum_to(g * in[0] + g, in[1].shape())};
      }};
  return f;
}

NABLA_OP_ROWS(
    Row{.op = "custom_function",
        .samples = {{Arg{.shape = {3, 4}}, Arg{.shape = {3, 4}}}, {Arg{.shape = {2, 3}, .non_contiguous = true}, Arg{.shape = {2, 3}}}},
        .run = [](const std::vector<Tensor>& in) { return mul_add()({in[0], in[1]}); },
        .ref = [](const std::vector<Ref>& in) { return binary_ref(in[0], in[1], [](double a, double b) { return a * b + b; }); },
        .dtypes = {float32, float64}},
    Row{.op = "custom_function",
        .variant = "checkpoint",
        .samples = {{Arg{.shape = {3, 4}}, Arg{.shape = {4}}}},
        .run = [](const std::vector<Tensor>& in) {
          return checkpoint([](const std::vector<Tensor>& a) { return a[0] * a[1] * a[1]; }, {in[0], in[1]});
        },
        .ref = [](const std::vector<Ref>& in) { return binary_ref(in[0], in[1], [](double a, double b) { return a * b * b; }); },
        .dtypes = {float32, float64}});

}  // namespace
}  // namespace nabla::optable
