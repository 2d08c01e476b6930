// The ahead-of-time memory plan: values that die inside a call share one arena whose size is
// fixed at compile time; buffers are reused once dead, never while a value or a view of it is
// still read, and outputs stay out of it. Results do not change.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include "compile/graph.h"
#include "compile/sample_graphs.h"

namespace nb = nabla;
namespace cd = nabla::compile_detail;

namespace {

void expect_equal(const std::vector<nb::Tensor>& a, const std::vector<nb::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].shape(), b[i].shape());
    EXPECT_EQ(a[i].to_vector<double>(), b[i].to_vector<double>()) << "output " << i;
  }
}

// The plan with its arena disabled: every value allocates (what the executor did before).
std::vector<nb::Tensor> run_without_arena(cd::Plan plan, const std::vector<nb::Tensor>& in) {
  plan.arena_bytes = 0;
  return cd::execute(plan, in);
}

nb::Tensor mlp_loss(const nb::Tensor& x, const nb::Tensor& y, const std::vector<nb::Tensor>& p) {
  nb::Tensor h = nb::relu(nb::matmul(x, p[0]) + p[1]);
  h = nb::relu(nb::matmul(h, p[2]) + p[3]);
  return nb::nn::cross_entropy(nb::matmul(h, p[4]) + p[5], y);
}

}  // namespace

TEST(MemoryPlan, ChainReusesDeadBuffers) {
  auto X = nb::placeholder("x", {1000});
  // Unfused (1000 elements is below the fusion size): a, b, c, d each 4000 bytes.
  auto a = nb::exp(X), b = nb::sin(a), c = nb::cos(b), d = nb::tanh(c);
  nb::Function f = nb::compile(d * 2);
  auto r = f.memory_report();
  EXPECT_EQ(r.naive_bytes, 4u * 4000);
  // Each of sin, cos, tanh writes over its dying input (in place): one block serves the chain.
  EXPECT_EQ(r.arena_bytes, 4032u);  // 4000 rounded up to 64
  EXPECT_EQ(r.in_place, 3u);
  nb::Tensor x = nb::randn({1000});
  EXPECT_EQ(f({x}).to_vector<float>(),
            (nb::tanh(nb::cos(nb::sin(nb::exp(x)))) * 2).to_vector<float>());
}

TEST(MemoryPlan, ViewsKeepTheirBaseAliveAndOutputsStayOut) {
  auto X = nb::placeholder("x", {30, 40});
  auto e = nb::exp(X);                               // planned
  auto t = e.transpose(0, 1);                        // a view of e: e lives as long as t is read
  auto s = nb::sin(X) * 3;                           // allocated while t is still to be read
  auto out = nb::matmul(t, s);                       // (40, 40)
  auto kept = nb::cos(X);                            // an output: its own allocation
  auto view_out = nb::log1p(X * X).reshape({1200});  // a view of it is an output: not planned
  cd::Graph g = cd::build_graph({out, kept, view_out}, {X});
  auto plan = cd::make_plan(g);
  const auto& off = plan->arena_offset;
  for (int o : g.outputs) EXPECT_EQ(off[std::size_t(o)], -1);
  int e_id = -1, s_id = -1;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].kind != cd::NodeKind::op) continue;
    if (g.nodes[i].op->name == "exp") e_id = int(i);
    if (g.nodes[i].op->name == "mul" && s_id < 0) s_id = int(i);  // sin(x) * 3, not x * x
    if (g.nodes[i].op->name == "log1p") EXPECT_EQ(off[i], -1);
  }
  ASSERT_GE(e_id, 0);
  ASSERT_GE(s_id, 0);
  ASSERT_GE(off[std::size_t(e_id)], 0);
  ASSERT_GE(off[std::size_t(s_id)], 0);
  // e (through its view) is live when s is written: different bytes.
  const int64_t e0 = off[std::size_t(e_id)], s0 = off[std::size_t(s_id)];
  EXPECT_TRUE(e0 + 4800 <= s0 || s0 + 4800 <= e0);
  nb::Tensor x = nb::randn({30, 40});
  expect_equal(cd::execute(*plan, {x}), run_without_arena(*plan, {x}));
}

// Issue 6: the plan of an MLP training step needs far fewer bytes than its values; results equal.
TEST(MemoryPlan, MlpTrainingStepPlansBelowNaive) {
  auto X = nb::placeholder("x", {64, 784});
  auto Y = nb::placeholder("y", {64}, nb::int64);
  std::vector<nb::Shape> shapes{{784, 256}, {256}, {256, 128}, {128}, {128, 10}, {10}};
  std::vector<nb::Tensor> P, in_values{nb::randn({64, 784}), nb::randint(0, 10, {64}, nb::int64)};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    P.push_back(nb::placeholder("p" + std::to_string(i), shapes[i]));
    in_values.push_back(nb::randn(shapes[i]) * 0.05);
  }
  nb::Tensor loss = mlp_loss(X, Y, P);
  std::vector<nb::Tensor> outs = nb::gradients(loss, P);
  outs.insert(outs.begin(), loss);
  std::vector<nb::Tensor> inputs{X, Y};
  inputs.insert(inputs.end(), P.begin(), P.end());
  nb::Function step = nb::compile(outs, {.inputs = inputs});
  auto r = step.memory_report();
  EXPECT_GT(r.naive_bytes, 0u);
  EXPECT_GT(r.arena_bytes, 0u);
  EXPECT_LT(r.arena_bytes, r.naive_bytes * 3 / 4) << r.arena_bytes << " vs " << r.naive_bytes;
  expect_equal(step.run(in_values), run_without_arena(*step.plan(), in_values));
  // With autograd recording (an input requires grad) the arena is not used: results still equal.
  std::vector<nb::Tensor> grad_in = in_values;
  grad_in[2] = grad_in[2].detach().requires_grad_();
  expect_equal(step.run(grad_in), run_without_arena(*step.plan(), in_values));
}

TEST(MemoryPlan, DynamicShapesHaveNoPlan) {
  auto X = nb::placeholder("x", {-1, 8});
  nb::Function f = nb::compile(nb::exp(nb::sin(X)) * 2);
  EXPECT_EQ(f.memory_report().arena_bytes, 0u);
  EXPECT_EQ(f.memory_report().naive_bytes, 0u);
  nb::Tensor x = nb::randn({5, 8});
  EXPECT_EQ(f({x}).to_vector<float>(), (nb::exp(nb::sin(x)) * 2).to_vector<float>());
}

// Convolutions, pooling and their gradients write into the arena at offsets: same values.
TEST(MemoryPlan, CnnStepInTheArenaMatchesAllocatingEachValue) {
  nb::Function step = nb::testing::compile_small_cnn_step();
  EXPECT_GT(step.memory_report().arena_bytes, 0u);
  EXPECT_LT(step.memory_report().arena_bytes, step.memory_report().naive_bytes);
  std::vector<nb::Tensor> in = nb::testing::sample_cnn_inputs();
  expect_equal(step.run(in), run_without_arena(*step.plan(), in));
}
