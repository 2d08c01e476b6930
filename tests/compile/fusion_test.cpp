// Elementwise fusion: which nodes group, and fused results bit-identical to op-by-op ones,
// including the inputs that send a group down the op-by-op path.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>

#include "compile/graph.h"
#include "compile/sample_graphs.h"

namespace nb = nabla;
namespace cd = nabla::compile_detail;

namespace {

constexpr int64_t kN = 100003;  // not a multiple of the block size

nb::Tensor chain(const nb::Tensor& x, const nb::Tensor& y) { return nb::tanh(x * y + 1) * x - y; }

void expect_identical(const cd::Graph& g, const std::vector<nb::Tensor>& inputs) {
  nb::testing::expect_fused_matches_op_by_op(g, inputs);
}

}  // namespace

TEST(Fusion, GroupsAChainOfElementwiseOps) {
  auto X = nb::placeholder("x", {kN}), Y = nb::placeholder("y", {kN});
  cd::Graph g = cd::build_graph({chain(X, Y)}, {X, Y});
  auto plan = cd::make_plan(g);
  ASSERT_EQ(plan->groups.size(), 1u) << cd::describe(g);
  EXPECT_EQ(plan->groups[0].members.size(), 5u);  // mul, add, tanh, mul, sub
  EXPECT_EQ(plan->groups[0].members.back(), g.outputs[0]);
  expect_identical(g, {nb::randn({kN}), nb::randn({kN})});
  for (nb::DType t : {nb::float64, nb::bfloat16}) {
    auto A = nb::placeholder("a", {kN}, t), B = nb::placeholder("b", {kN}, t);
    cd::Graph h = cd::build_graph({chain(A, B)}, {A, B});
    EXPECT_EQ(cd::make_plan(h)->groups.size(), 1u);
    expect_identical(h, {nb::randn({kN}, t), nb::randn({kN}, t)});
  }
}

nb::Tensor gelu_tanh(const nb::Tensor& x) {
  return x * 0.5f * (nb::tanh((x + x * x * x * 0.044715f) * 0.7978845608f) + 1.0f);
}

// The group becomes one register-machine program: inputs and scalars are its sources, one
// instruction per op except a `* c` / `+ c` that the instruction before it applies, scratch
// registers reused once their value is read.
TEST(FusedProgram, GeluIsOneProgramBitIdenticalToOpByOp) {
  auto X = nb::placeholder("x", {kN});
  cd::Graph g = cd::build_graph({gelu_tanh(X)});
  cd::optimize(g, {});
  auto plan = cd::make_plan(g);
  ASSERT_EQ(plan->groups.size(), 1u) << cd::describe(g);
  const auto& prog = plan->groups[0].program;
  ASSERT_NE(prog, nullptr);
  // (x*x*x) * 0.044715, (x + ...) * 0.7978845608 and tanh(...) + 1 are one instruction each.
  EXPECT_EQ(prog->code.size(), plan->groups[0].members.size() - 3);
  int posts = 0, scalar_operands = 0;
  for (const auto& in : prog->code) {
    posts += in.post != 0;
    scalar_operands += in.b_scalar;
  }
  EXPECT_EQ(posts, 3);
  EXPECT_EQ(scalar_operands, 1);        // x * 0.5
  EXPECT_EQ(prog->sources.size(), 5u);  // x and four scalars
  EXPECT_LT(prog->num_regs - int(prog->sources.size()), int(prog->code.size()));
  expect_identical(g, {nb::randn({kN})});
  nb::Tensor x = nb::randn({kN}) * 4;
  EXPECT_EQ(cd::execute(*plan, {x})[0].to_vector<float>(), gelu_tanh(x).to_vector<float>());
  // float64 runs as a program too.
  auto D = nb::placeholder("d", {kN}, nb::float64);
  cd::Graph h = cd::build_graph({gelu_tanh(D)});
  ASSERT_NE(cd::make_plan(h)->groups.at(0).program, nullptr);
  expect_identical(h, {nb::randn({kN}, nb::float64)});
}

// A `+ c` after a multiply stays its own instruction (one expression would let the compiler
// fuse multiply and add into one rounding); scalars on either side of a commutative op and
// `- c` fold; a scalar first in a subtraction or division stays a register.
TEST(FusedProgram, FoldsScalarStepsOnlyWhereBitsStayTheSame) {
  auto X = nb::placeholder("x", {kN}), Y = nb::placeholder("y", {kN});
  auto program_of = [](const cd::Graph& g) {
    auto plan = cd::make_plan(g);
    EXPECT_EQ(plan->groups.size(), 1u) << cd::describe(g);
    return plan->groups.at(0).program;
  };
  cd::Graph fma = cd::build_graph({(X * Y + 0.3f) * Y}, {X, Y});
  auto p = program_of(fma);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->code.size(), 3u);
  EXPECT_EQ(p->code[0].post, 0);
  expect_identical(fma, {nb::randn({kN}), nb::randn({kN})});
  cd::Graph folds =
      cd::build_graph({nb::sigmoid(3.0f * (nb::exp(X) * 1.5f - 0.25f) + Y) - 2.0f}, {X, Y});
  p = program_of(folds);
  ASSERT_NE(p, nullptr);
  // exp*1.5, (-0.25)*3 (the subtraction follows a multiply: no fold), +y, sigmoid, -2 (only one
  // step folds into an instruction)
  EXPECT_EQ(p->code.size(), 5u);
  expect_identical(folds, {nb::randn({kN}), nb::randn({kN})});
  cd::Graph keeps = cd::build_graph({(1.0f - nb::tanh(X)) / Y + (2.0f / nb::abs(Y))}, {X, Y});
  p = program_of(keeps);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->code.size(), 6u);
  expect_identical(keeps, {nb::randn({kN}), nb::randn({kN})});
  // float64 folds too.
  auto D = nb::placeholder("d", {kN}, nb::float64);
  cd::Graph f64 = cd::build_graph({nb::tanh(D * 2.0) * 0.5 + 0.5});
  p = program_of(f64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->code.size(), 3u);  // d*2, tanh*0.5, +0.5
  expect_identical(f64, {nb::randn({kN}, nb::float64)});
}

// Results larger than the last-level cache leave through streaming stores; the values are the
// same, including the chunk that ends short of a vector.
TEST(FusedProgram, LargeResultsStreamOutUnchanged) {
  constexpr int64_t kBig = (int64_t(9) << 20) + 5;  // 36 MiB of float32
  auto X = nb::placeholder("x", {kBig});
  cd::Graph g = cd::build_graph({gelu_tanh(X)});
  expect_identical(g, {nb::randn({kBig})});
  cd::Graph two = cd::build_graph({nb::exp(X) * 2.0f, (nb::exp(X) * 2.0f) + X});
  expect_identical(two, {nb::randn({kBig})});
}

// Broadcast sources that are one value across a chunk (a row's statistic, a channel's bias) are
// read as values, ones that are one contiguous run (a per-feature scale) in place; on either
// side of any binary op, and where a chunk crosses rows they are gathered.
TEST(FusedProgram, ReadsRowValuesAndFeatureRunsOfBroadcastSources) {
  auto X = nb::placeholder("x", {64, 2048}), M = nb::placeholder("m", {64, 1});
  auto G = nb::placeholder("g", {2048});
  cd::Graph ln = cd::build_graph({((M - X) * M + G) / M * (G - M) + nb::maximum(X, M)}, {X, M, G});
  ASSERT_NE(cd::make_plan(ln)->groups.at(0).program, nullptr);
  expect_identical(ln, {nb::randn({64, 2048}), nb::rand({64, 1}) + 0.5, nb::randn({2048})});
  // A one-value source read twice by one op, and an expanded input of the root's shape.
  auto E = nb::placeholder("e", {64, 2048});
  cd::Graph twice = cd::build_graph({E * E + X}, {E, X});
  expect_identical(twice, {nb::randn({64, 1}).expand({64, 2048}), nb::randn({64, 2048})});
  // A channel bias over 32x32 maps: its dims merge into one broadcast run of 1024.
  auto F = nb::placeholder("f", {4, 8, 32, 32}), B = nb::placeholder("b", {8, 1, 1});
  auto W = nb::placeholder("w", {1, 8, 1, 32});
  cd::Graph conv = cd::build_graph({nb::relu(F * 0.5f + B) * W - B}, {F, B, W});
  expect_identical(conv,
                   {nb::randn({4, 8, 32, 32}), nb::randn({8, 1, 1}), nb::randn({1, 8, 1, 32})});
}

TEST(FusedProgram, ReadsBroadcastAndStridedInputsInPlace) {
  auto X = nb::placeholder("x", {300, 257}), B = nb::placeholder("b", {257});
  auto C = nb::placeholder("c", {300, 1});
  cd::Graph g = cd::build_graph({nb::relu(nb::exp(X * 0.1f + B) - C) / C}, {X, B, C});
  auto plan = cd::make_plan(g);
  ASSERT_EQ(plan->groups.size(), 1u);
  ASSERT_NE(plan->groups[0].program, nullptr);
  nb::Tensor strided = nb::randn({257, 300}).transpose(0, 1);
  expect_identical(g, {strided, nb::randn({257}), nb::rand({300, 1}) + 1});
  expect_identical(g, {nb::randn({300, 257}), nb::randn({1}).expand({257}), nb::randn({300, 1})});
  // Special values go through every instruction as the kernels take them.
  nb::Tensor odd = nb::full({300, 257}, std::nanf(""));
  expect_identical(g, {odd, nb::full({257}, INFINITY), nb::zeros({300, 1})});
}

TEST(FusedProgram, OpsWithoutAnInstructionKeepTheBlockPath) {
  auto X = nb::placeholder("x", {kN});
  cd::Graph g = cd::build_graph({nb::sin(nb::exp(X) * 2)});
  auto plan = cd::make_plan(g);
  ASSERT_EQ(plan->groups.size(), 1u);
  EXPECT_EQ(plan->groups[0].program, nullptr);  // sin has none
  expect_identical(g, {nb::randn({kN})});
}

TEST(Fusion, StopsAtSharedValuesAndSmallTensorsAndEndsAtAReduction) {
  auto X = nb::placeholder("x", {256, 512});
  auto e = nb::exp(X);                        // used twice: materialised
  auto y = nb::sqrt(e + 1) * nb::sigmoid(e);  // two chains meeting at mul
  auto s = nb::sum(y * 2, {1}, false);        // the reduction ends the chain
  cd::Graph g = cd::build_graph({s, nb::exp(nb::placeholder("small", {100}) * 2)});
  auto plan = cd::make_plan(g);
  ASSERT_EQ(plan->groups.size(), 1u) << cd::describe(g);
  for (int m : plan->groups[0].members) EXPECT_NE(g.nodes[std::size_t(m)].op->name, "exp");
  EXPECT_EQ(plan->groups[0].members.size(), 6u);  // add, sqrt, sigmoid, mul, mul by 2, sum
  EXPECT_TRUE(plan->groups[0].reduces);
  EXPECT_EQ(g.nodes[std::size_t(plan->groups[0].members.back())].op->name, "sum");
  expect_identical(g, {nb::randn({100}), nb::randn({256, 512})});
}

TEST(Fusion, FallsBackForBroadcastsStridesAndAutograd) {
  auto X = nb::placeholder("x", {512, 256});
  auto R = nb::placeholder("r", {-1, 256});  // a dynamic dim: never fused
  auto W = nb::placeholder("w", {512, 256});
  cd::Graph g = cd::build_graph({nb::exp(X * W) + 1, nb::exp(R * 2) + 1}, {X, W, R});
  auto plan = cd::make_plan(g);
  EXPECT_EQ(plan->groups.size(), 1u);
  nb::Tensor strided = nb::randn({256, 512}).transpose(0, 1);
  nb::Tensor row = nb::randn({1, 256}).expand({512, 256});
  expect_identical(g, {strided, nb::randn({512, 256}), nb::randn({3, 256})});
  expect_identical(g, {nb::randn({512, 256}), row, nb::randn({3, 256})});
  // An input that requires grad: op by op, so autograd records the call.
  nb::Tensor x = nb::randn({512, 256}).requires_grad_();
  nb::Tensor w = nb::randn({512, 256});
  auto out = cd::execute(*plan, {x, w, nb::randn({3, 256})});
  out[0].sum().backward();
  nb::Tensor expected = nb::exp(x.detach() * w) * w;
  EXPECT_EQ(x.grad().to_vector<float>(), expected.to_vector<float>());
}

TEST(Fusion, CompiledFunctionsFuseAndMatchEager) {
  auto X = nb::placeholder("x", {kN}), Y = nb::placeholder("y", {kN});
  nb::Function f = nb::compile(chain(X, Y), {.inputs = {X, Y}});
  EXPECT_EQ(f.plan()->groups.size(), 1u);
  nb::Tensor x = nb::randn({kN}), y = nb::randn({kN});
  EXPECT_EQ(f({x, y}).to_vector<float>(), chain(x, y).to_vector<float>());
}

// Fused groups never allocate their intermediates, and values die after their last reader, so a
// compiled chain peaks far below eager mode, where a full expression keeps every temporary.
TEST(Memory, CompiledPeakIsBelowEager) {
  const int64_t n = 1 << 20;
  auto f = [](const nb::Tensor& x) { return nb::exp(nb::tanh(nb::sin(x * 2 + 1) * 3) - 4) / 5; };
  auto X = nb::placeholder("x", {n});
  nb::Function compiled = nb::compile(f(X));
  auto unfused = cd::make_plan(cd::build_graph({f(X)}), false);
  nb::Tensor x = nb::randn({n});
  auto peak_of = [](auto&& run) {
    std::size_t before = nb::memory_stats().bytes_in_use;
    nb::reset_peak_memory();
    nb::Tensor result = run();
    return nb::memory_stats().peak_bytes - before;
  };
  std::size_t eager_peak = peak_of([&] { return f(x); });
  std::size_t unfused_peak = peak_of([&] { return cd::execute(*unfused, {x})[0]; });
  std::size_t fused_peak = peak_of([&] { return compiled({x}); });
  const std::size_t tensor_bytes = std::size_t(n) * 4;
  EXPECT_GE(eager_peak, 6 * tensor_bytes);
  EXPECT_LE(unfused_peak, 3 * tensor_bytes);
  EXPECT_LT(fused_peak, tensor_bytes + tensor_bytes / 4);  // the result and scratch blocks
}

// A member that is also an output of the graph (Adam's new moment, read by the new parameter)
// stays in the group and is written out by the same loop.
TEST(FusedProgram, MembersThatAreOutputsAreWrittenByTheSameLoop) {
  auto P = nb::placeholder("p", {kN}), G = nb::placeholder("g", {kN});
  auto M = nb::placeholder("m", {kN}), V = nb::placeholder("v", {kN});
  auto m = M * 0.9f + G * 0.1f;
  auto v = V * 0.999f + G * G * 0.001f;
  auto p = P - 0.01f * m / (nb::sqrt(v) + 1e-8f);
  cd::Graph g = cd::build_graph({p, m, v}, {P, G, M, V});
  auto plan = cd::make_plan(g);
  ASSERT_EQ(plan->groups.size(), 1u) << cd::describe(g);
  EXPECT_EQ(plan->groups[0].escaping.size(), 2u);
  ASSERT_NE(plan->groups[0].program, nullptr);
  std::vector<nb::Tensor> in{nb::randn({kN}), nb::randn({kN}), nb::randn({kN}), nb::rand({kN})};
  expect_identical(g, in);
  // The block path (an op without an instruction) runs such groups op by op.
  auto q = nb::sin(P) + m;
  cd::Graph h = cd::build_graph({q, m}, {P, G, M, V});
  auto plan_h = cd::make_plan(h);
  ASSERT_EQ(plan_h->groups.size(), 1u);
  EXPECT_EQ(plan_h->groups[0].program, nullptr);
  expect_identical(h, in);
}
