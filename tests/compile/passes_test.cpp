// Each pass on a small graph: the graph before and after (compile_detail::describe), and the
// compiled result still equal to eager mode.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include "compile/graph.h"
#include "ir/node.h"

namespace nb = nabla;
namespace cd = nabla::compile_detail;

namespace {

int count_ops(const cd::Graph& g, const std::string& op = "") {
  int n = 0;
  for (const cd::GraphNode& node : g.nodes)
    if (node.kind == cd::NodeKind::op && (op.empty() || node.op->name == op)) ++n;
  return n;
}

void expect_same_values(const cd::Graph& before, const cd::Graph& after,
                        const std::vector<nb::Tensor>& inputs) {
  auto a = cd::execute(*cd::make_plan(before), inputs);
  auto b = cd::execute(*cd::make_plan(after), inputs);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].shape(), b[i].shape());
    EXPECT_EQ(a[i].dtype(), b[i].dtype());
    EXPECT_EQ(a[i].to_vector<double>(), b[i].to_vector<double>());
  }
}

cd::GraphNode op_node(const char* op, std::vector<int> inputs, nb::Shape shape) {
  cd::GraphNode n;
  n.kind = cd::NodeKind::op;
  n.op = nb::find_op(op);
  n.inputs = std::move(inputs);
  n.shape = std::move(shape);
  return n;
}

cd::GraphNode constant_node(float v) {
  cd::GraphNode n;
  n.kind = cd::NodeKind::constant;
  n.value = nb::constant(v);
  n.shape = {};
  return n;
}

}  // namespace

TEST(DeadCode, DropsNodesNoOutputUses) {
  auto x = nb::placeholder("x", {4});
  auto used = nb::exp(x);
  auto unused = nb::log(x) * 3;
  cd::Graph g = cd::build_graph({used, unused});
  g.outputs = {g.outputs[0]};  // only exp(x) is wanted now
  cd::Graph before = g;
  std::string text_before = cd::describe(g);
  EXPECT_EQ(cd::eliminate_dead_code(g), 3);  // log, the literal 3, mul
  std::string text_after = cd::describe(g);
  EXPECT_NE(text_before.find("log"), std::string::npos) << text_before;
  EXPECT_EQ(text_after, "%0 = input 'x' (4,) float32\n%1 = exp(%0) (4,) float32\noutputs: %1\n");
  expect_same_values(before, g, {nb::rand({4})});
}

TEST(DeadCode, KeepsUnusedInputs) {
  auto x = nb::placeholder("x", {2});
  auto y = nb::placeholder("y", {2});
  cd::Graph g = cd::build_graph({x * 2}, {x, y});
  EXPECT_EQ(cd::eliminate_dead_code(g), 0);
  EXPECT_EQ(g.inputs.size(), 2u);
}

TEST(CommonSubexpressions, MergesSameOpAttrsAndInputs) {
  auto x = nb::placeholder("x", {3, 4});
  auto a = nb::sum(nb::exp(x) * 2, {1}, false);
  auto b = nb::sum(nb::exp(x) * 2, {1}, false);
  auto c = nb::sum(nb::exp(x) * 2, {0}, false);  // other attrs: stays
  cd::Graph g = cd::build_graph({a + b, c});
  cd::Graph before = g;
  EXPECT_EQ(count_ops(g, "exp"), 3);
  EXPECT_EQ(count_ops(g, "sum"), 3);
  EXPECT_GT(cd::eliminate_common_subexpressions(g), 0);
  cd::eliminate_dead_code(g);
  EXPECT_EQ(count_ops(g, "exp"), 1) << cd::describe(g);
  EXPECT_EQ(count_ops(g, "mul"), 1) << cd::describe(g);
  EXPECT_EQ(count_ops(g, "sum"), 2) << cd::describe(g);
  expect_same_values(before, g, {nb::randn({3, 4})});
}

TEST(CommonSubexpressions, NeverMergesRandomDraws) {
  auto x = nb::placeholder("x", {8});
  nb::Tensor y;
  {
    nb::RecordRandomGuard record;
    y = x + nb::rand({8}) + nb::rand({8});
  }
  cd::Graph g = cd::build_graph({y});
  EXPECT_EQ(cd::eliminate_common_subexpressions(g), 0);
  EXPECT_EQ(count_ops(g, "uniform"), 2);
}

TEST(FoldConstants, ComputesConstantSubgraphsAtCompileTime) {
  // x * (2 * 3): ops on constants alone arise from rewrites and graph files, not eager code.
  cd::Graph g;
  cd::GraphNode x;
  x.kind = cd::NodeKind::input;
  x.name = "x";
  x.shape = {3};
  g.nodes = {x, constant_node(2), constant_node(3), op_node("mul", {1, 2}, {}),
             op_node("mul", {0, 3}, {3})};
  g.inputs = {0};
  g.outputs = {4};
  cd::Graph before = g;
  EXPECT_EQ(cd::describe(g),
            "%0 = input 'x' (3,) float32\n%1 = constant 2 () float32\n%2 = constant 3 () float32\n"
            "%3 = mul(%1, %2) () float32\n%4 = mul(%0, %3) (3,) float32\noutputs: %4\n");
  EXPECT_EQ(cd::fold_constants(g), 1);
  cd::eliminate_dead_code(g);
  EXPECT_EQ(
      cd::describe(g),
      "%0 = input 'x' (3,) float32\n%1 = constant 6 () float32\n%2 = mul(%0, %1) (3,) float32\n"
      "outputs: %2\n");
  expect_same_values(before, g, {nb::tensor(std::vector<float>{1, 2, 3}, {3})});
}

TEST(FoldConstants, LeavesRandomOpsAndCapturedTensors) {
  nb::Tensor w = nb::ones({3});
  cd::Graph g;
  {
    nb::RecordRandomGuard record;
    g = cd::build_graph({nb::rand({3}), nb::exp(nb::placeholder("x", {3})) * w});
  }
  EXPECT_EQ(cd::fold_constants(g), 0);
  // A captured tensor feeding an op: not folded either (it may change between calls).
  cd::Graph h;
  cd::GraphNode cap;
  cap.kind = cd::NodeKind::captured;
  cap.value = w;
  cap.shape = {3};
  h.nodes = {cap, op_node("exp", {0}, {3})};
  h.outputs = {1};
  EXPECT_EQ(cd::fold_constants(h), 0);
}

TEST(Simplify, RemovesIdentityArithmetic) {
  auto x = nb::placeholder("x", {2, 3});
  auto y = ((((x * 1) + 0) - 0) / 1);
  auto z = 1 * (0 + x);
  cd::Graph g = cd::build_graph({nb::exp(y), nb::exp(z)});
  cd::Graph before = g;
  EXPECT_EQ(count_ops(g), 8);
  EXPECT_EQ(cd::simplify(g), 6);
  cd::eliminate_dead_code(g);
  cd::eliminate_common_subexpressions(g);
  cd::eliminate_dead_code(g);
  EXPECT_EQ(cd::describe(g),
            "%0 = input 'x' (2, 3) float32\n%1 = exp(%0) (2, 3) float32\noutputs: %1 %1\n");
  expect_same_values(before, g, {nb::randn({2, 3})});
}

TEST(Simplify, KeepsOpsThatChangeShapeOrDtype) {
  auto x = nb::placeholder("x", {3});
  auto i = nb::placeholder("i", {3}, nb::int32);
  auto widened = x * nb::ones({2, 3});  // broadcasting: the result is (2, 3)
  auto promoted = i * 1.0;              // astype(i, float32) * 1: only the mul goes
  cd::Graph g = cd::build_graph({widened, promoted});
  cd::Graph before = g;
  EXPECT_EQ(cd::simplify(g), 1) << cd::describe(g);
  cd::eliminate_dead_code(g);
  EXPECT_EQ(count_ops(g, "mul"), 1) << cd::describe(g);
  EXPECT_EQ(count_ops(g, "astype"), 1) << cd::describe(g);
  EXPECT_EQ(g.nodes[std::size_t(g.outputs[0])].shape, (nb::Shape{2, 3}));
  EXPECT_EQ(g.nodes[std::size_t(g.outputs[1])].dtype, nb::float32);
  expect_same_values(before, g, {nb::tensor(std::vector<int32_t>{1, -2, 3}, {3}), nb::randn({3})});
}

TEST(Simplify, DoubleTransposeAndReshapeChains) {
  auto x = nb::placeholder("x", {2, 3, 4});
  auto back = x.transpose(0, 2).transpose(0, 2);
  auto rotated = x.permute({1, 2, 0}).permute({1, 2, 0});  // = permute({2, 0, 1})
  auto chain = x.reshape({6, 4}).reshape({4, 6}).reshape({24});
  auto round_trip = x.reshape({24}).reshape({2, 3, 4});
  cd::Graph g = cd::build_graph({back + 1, rotated, chain, round_trip + 2});
  cd::Graph before = g;
  EXPECT_EQ(count_ops(g, "permute"), 4);
  EXPECT_EQ(count_ops(g, "reshape"), 5);
  nb::CompileOptions only_simplify{.eliminate_common_subexpressions = false,
                                   .fold_constants = false};
  cd::optimize(g, only_simplify);
  EXPECT_EQ(count_ops(g, "permute"), 1) << cd::describe(g);  // the rotation, composed
  EXPECT_EQ(count_ops(g, "reshape"), 1) << cd::describe(g);  // x -> (24)
  for (const cd::GraphNode& n : g.nodes)
    if (n.kind == cd::NodeKind::op && n.op->name == "permute")
      EXPECT_EQ(n.attrs.get<nb::Shape>("dims"), (nb::Shape{2, 0, 1}));
  expect_same_values(before, g, {nb::randn({2, 3, 4})});
}

TEST(Passes, CompileRunsThemAll) {
  auto x = nb::placeholder("x", {5});
  auto y = nb::exp(x * 1) + nb::exp(x);  // simplify, then CSE: one exp
  nb::Function f = nb::compile(y);
  EXPECT_EQ(f.num_ops(), 2u);  // exp, add
  nb::Function plain = nb::compile(y, {.eliminate_dead_code = false,
                                       .eliminate_common_subexpressions = false,
                                       .fold_constants = false,
                                       .simplify = false});
  EXPECT_EQ(plain.num_ops(), 4u);
  nb::Tensor xv = nb::randn({5});
  EXPECT_EQ(f({{"x", xv}}).to_vector<float>(), plain({{"x", xv}}).to_vector<float>());
}

// The weight gradient of x W^T comes out of autograd as (x^T g)^T: rewritten, the product is
// computed in W's layout and the transposes cancel.
TEST(Passes, TransposedProductsSwapTheirOperands) {
  auto X = nb::placeholder("x", {8, 6}), G = nb::placeholder("g", {8, 5});
  nb::Tensor y = nb::matmul(X.t(), G).t();  // (5, 6)
  cd::Graph before = cd::build_graph({y}, {X, G});
  cd::Graph g = before;
  EXPECT_EQ(cd::describe(g),
            "%0 = input 'x' (8, 6) float32\n%1 = permute(%0) (6, 8) float32\n"
            "%2 = input 'g' (8, 5) float32\n%3 = matmul(%1, %2) (6, 5) float32\n"
            "%4 = permute(%3) (5, 6) float32\noutputs: %4\n");
  EXPECT_EQ(cd::transpose_matmuls(g), 1);
  cd::simplify(g);
  cd::eliminate_dead_code(g);
  EXPECT_EQ(count_ops(g, "permute"), 1);  // g^T; x^T^T cancelled
  EXPECT_EQ(count_ops(g, "matmul"), 1);
  const cd::GraphNode& out = g.nodes[std::size_t(g.outputs[0])];
  EXPECT_EQ(out.op->name, "matmul");
  EXPECT_EQ(out.shape, (nb::Shape{5, 6}));
  nb::Tensor x = nb::randn({8, 6}), gv = nb::randn({8, 5});
  auto a = cd::execute(*cd::make_plan(before), {x, gv})[0];
  auto b = cd::execute(*cd::make_plan(g), {x, gv})[0];
  EXPECT_TRUE(b.is_contiguous());
  auto av = a.to_vector<float>(), bv = b.to_vector<float>();
  for (std::size_t i = 0; i < av.size(); ++i) EXPECT_NEAR(av[i], bv[i], 1e-5);
  // A product with another use is left alone (it would be computed twice).
  nb::Tensor p = nb::matmul(X.t(), G);
  cd::Graph shared = cd::build_graph({p.t(), p * 2}, {X, G});
  EXPECT_EQ(cd::transpose_matmuls(shared), 0);
}
