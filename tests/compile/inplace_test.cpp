// In-place execution in the memory plan: an elementwise op writes its result over an operand
// that dies at it (same shape and dtype, a value the call computed, no output, no later reader,
// no other view of it among the operands). In the arena the two share one offset; outside it
// (dynamic shapes, fused roots) the executor reuses the operand's storage when it holds the only
// reference. Results stay bit-identical to eager, and user data, weights and outputs are never
// written over.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <algorithm>
#include <iostream>

#include "compile/graph.h"
#include "compile/sample_graphs.h"
#include "ir/node.h"

namespace nb = nabla;
namespace cd = nabla::compile_detail;

namespace {

void expect_same(const nb::Tensor& a, const nb::Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
}

// The id of the n-th op node named `op` (graph order).
int node_of(const cd::Plan& plan, const std::string& op, int nth = 0) {
  const auto& nodes = plan.graph.nodes;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].kind == cd::NodeKind::op && nodes[i].op->name == op && nth-- == 0) return int(i);
  ADD_FAILURE() << "no " << op << " node in\n" << cd::describe(plan.graph);
  return -1;
}

// The same plan as `plan`, planned without in-place execution.
cd::Plan without_in_place(const cd::Plan& plan) {
  cd::Plan p = plan;
  cd::plan_memory(p, /*in_place=*/false);
  return p;
}

std::size_t count_in_place(const cd::Plan& plan) {
  return std::size_t(
      std::count_if(plan.in_place.begin(), plan.in_place.end(), [](int x) { return x >= 0; }));
}

}  // namespace

// relu(x * w + b) feeding a reduction: mul's block is reused by add and relu, so the arena
// holds one value instead of two; the result is bit-identical to eager.
TEST(InPlace, ChainSharesOneArenaSlot) {
  auto X = nb::placeholder("x", {1000}), W = nb::placeholder("w", {1000});
  auto B = nb::placeholder("b", {1000});
  auto loss = nb::sum(nb::relu(X * W + B), {0}, false);
  auto plan = cd::make_plan(cd::build_graph({loss}, {X, W, B}));
  const cd::Plan before = without_in_place(*plan);
  std::cout << "before:\n"
            << cd::describe_memory(before) << "after:\n"
            << cd::describe_memory(*plan);
  const int mul = node_of(*plan, "mul"), add = node_of(*plan, "add"), relu = node_of(*plan, "relu");
  EXPECT_EQ(plan->in_place[std::size_t(mul)], -1);  // its operands are the caller's
  EXPECT_EQ(plan->in_place[std::size_t(add)], mul);
  EXPECT_EQ(plan->in_place[std::size_t(relu)], add);
  ASSERT_GE(plan->arena_offset[std::size_t(mul)], 0);
  EXPECT_EQ(plan->arena_offset[std::size_t(add)], plan->arena_offset[std::size_t(mul)]);
  EXPECT_EQ(plan->arena_offset[std::size_t(relu)], plan->arena_offset[std::size_t(mul)]);
  EXPECT_EQ(before.arena_bytes, 2u * 4032);
  EXPECT_EQ(plan->arena_bytes, 4032u);
  EXPECT_EQ(plan->naive_bytes, before.naive_bytes);  // the report still counts every value
  nb::Tensor x = nb::randn({1000}), w = nb::randn({1000}), b = nb::randn({1000});
  expect_same(cd::execute(*plan, {x, w, b})[0], nb::sum(nb::relu(x * w + b), {0}, false));
  expect_same(cd::execute(*plan, {x, w, b})[0], cd::execute(before, {x, w, b})[0]);
}

// A value read after the op that could overwrite it keeps its own bytes: exp(x) is read by sin
// and again by the add, so only the add (where both die) writes in place.
TEST(InPlace, ValueReadLaterIsNotOverwritten) {
  auto X = nb::placeholder("x", {500});
  auto a = nb::exp(X);
  auto c = nb::sin(a) + a;
  auto plan = cd::make_plan(cd::build_graph({nb::sum(c * 3, {0}, false)}, {X}));
  std::cout << cd::describe_memory(*plan);
  const int exp = node_of(*plan, "exp"), sin = node_of(*plan, "sin"), add = node_of(*plan, "add");
  EXPECT_EQ(plan->in_place[std::size_t(sin)], -1);
  EXPECT_NE(plan->arena_offset[std::size_t(sin)], plan->arena_offset[std::size_t(exp)]);
  EXPECT_TRUE(plan->in_place[std::size_t(add)] == sin || plan->in_place[std::size_t(add)] == exp);
  nb::Tensor x = nb::randn({500});
  expect_same(cd::execute(*plan, {x})[0],
              nb::sum((nb::sin(nb::exp(x)) + nb::exp(x)) * 3, {0}, false));
}

// An operand seen through another view (a + a^T) would be read after being overwritten.
TEST(InPlace, OperandViewedTwiceIsNotOverwritten) {
  auto X = nb::placeholder("x", {30, 30});
  auto a = nb::exp(X);
  auto plan = cd::make_plan(cd::build_graph({nb::sum(a + a.transpose(0, 1), {0}, false)}, {X}));
  EXPECT_EQ(plan->in_place[std::size_t(node_of(*plan, "add"))], -1);
  nb::Tensor x = nb::randn({30, 30});
  nb::Tensor e = nb::exp(x);
  expect_same(cd::execute(*plan, {x})[0], nb::sum(e + e.transpose(0, 1), {0}, false));
  // The same operand twice reads element i at i: that one may be overwritten.
  auto sq = cd::make_plan(cd::build_graph({nb::sum(a * a, {0}, false)}, {X}));
  EXPECT_EQ(sq->in_place[std::size_t(node_of(*sq, "mul"))], node_of(*sq, "exp"));
  expect_same(cd::execute(*sq, {x})[0], nb::sum(e * e, {0}, false));
}

// Broadcasting or casting operands never take the result: their buffers are smaller or of
// another type. exp(x) of shape (1000) broadcast into (8, 1000) stays read-only.
TEST(InPlace, BroadcastAndCastOperandsAreExcluded) {
  auto X = nb::placeholder("x", {1000}), Y = nb::placeholder("y", {8, 1000});
  auto small = nb::exp(X);
  auto wide = small + Y;              // small dies here but is broadcast
  auto flags = nb::sin(wide) > 0.0f;  // bool result: no float operand matches it
  auto plan =
      cd::make_plan(cd::build_graph({nb::sum(flags.astype(nb::float32) * 2, {1}, false)}, {X, Y}));
  std::cout << cd::describe_memory(*plan);
  EXPECT_EQ(plan->in_place[std::size_t(node_of(*plan, "add"))], -1);
  EXPECT_EQ(plan->in_place[std::size_t(node_of(*plan, "gt"))], -1);
  EXPECT_EQ(plan->in_place[std::size_t(node_of(*plan, "astype"))], -1);
  EXPECT_EQ(plan->in_place[std::size_t(node_of(*plan, "sin"))], node_of(*plan, "add"));
  nb::Tensor x = nb::randn({1000}), y = nb::randn({8, 1000});
  expect_same(cd::execute(*plan, {x, y})[0],
              nb::sum((nb::sin(nb::exp(x) + y) > 0.0f).astype(nb::float32) * 2, {1}, false));
}

// Placeholders, captured weights and constants are the caller's: never written over, with
// static shapes (arena) or dynamic ones (storage reuse), even when the caller's tensor is the
// only reference the call sees.
TEST(InPlace, InputsAndWeightsAreNeverOverwritten) {
  nb::Tensor weight = nb::randn({16});
  const std::vector<float> weight_before = weight.to_vector<float>();
  for (int64_t rows : {int64_t(64), int64_t(-1)}) {
    auto X = nb::placeholder("x", {rows, 16});
    auto C = nb::constant(nb::full({16}, 0.5f));
    auto out = nb::tanh(nb::relu(X) * weight + C);
    nb::Function f = nb::compile(out);
    const cd::Plan& plan = *f.plan();
    std::cout << cd::describe_memory(plan);
    EXPECT_EQ(plan.in_place[std::size_t(node_of(plan, "relu"))], -1);  // x is the caller's
    EXPECT_EQ(plan.in_place[std::size_t(node_of(plan, "mul"))], node_of(plan, "relu"));
    EXPECT_EQ(plan.in_place[std::size_t(node_of(plan, "add"))], node_of(plan, "mul"));
    nb::Tensor x = nb::randn({64, 16});
    const std::vector<float> x_before = x.to_vector<float>();
    nb::Tensor y = f({x});
    expect_same(y, nb::tanh(nb::relu(x) * weight + 0.5f));
    EXPECT_EQ(x.to_vector<float>(), x_before);
    EXPECT_EQ(weight.to_vector<float>(), weight_before);
    EXPECT_EQ(nb::tanh(nb::relu(x) * weight + 0.5f).to_vector<float>(), y.to_vector<float>());
    // A temporary input: its only owner is the argument list, still never the result's buffer.
    nb::Tensor z = f({nb::ones({64, 16})});
    expect_same(z, nb::tanh(nb::relu(nb::ones({64, 16})) * weight + 0.5f));
  }
}

// Outputs keep their own bytes: an op does not overwrite a value that is (or is viewed by) an
// output, and distinct outputs never share storage.
TEST(InPlace, OutputsAreNeverAliasedWrongly) {
  for (int64_t n : {int64_t(300), int64_t(-1)}) {
    auto X = nb::placeholder("x", {n, 2});
    auto a = nb::exp(X);
    auto b = nb::sin(a);                  // a is an output: b must not take its bytes
    auto v = nb::cos(b).transpose(0, 1);  // an output viewing cos(b): cos(b) stays out too
    auto c = nb::tanh(nb::cos(b));
    auto d = c * 2;  // c dies here: d (an output) may take its storage
    nb::Function f = nb::compile({a, v, d});
    const cd::Plan& plan = *f.plan();
    std::cout << cd::describe_memory(plan);
    EXPECT_EQ(plan.in_place[std::size_t(node_of(plan, "sin"))], -1);
    const int cos = node_of(plan, "cos");
    for (std::size_t i = 0; i < plan.in_place.size(); ++i) EXPECT_NE(plan.in_place[i], cos);
    nb::Tensor x = nb::randn({300, 2});
    std::vector<nb::Tensor> out = f.run({x});
    nb::Tensor ea = nb::exp(x), eb = nb::sin(ea), ev = nb::cos(eb).transpose(0, 1);
    expect_same(out[0], ea);
    expect_same(out[1], ev);
    expect_same(out[2], nb::tanh(nb::cos(eb)) * 2);
    for (std::size_t i = 0; i < out.size(); ++i)
      for (std::size_t j = i + 1; j < out.size(); ++j)
        EXPECT_NE(out[i].node()->storage, out[j].node()->storage) << i << " and " << j;
  }
}

// Dynamic shapes have no arena: the executor writes sin, tanh and * 2 over exp's storage, so a
// call allocates one value's bytes instead of two at a time.
TEST(InPlace, DynamicShapesReuseTheDyingStorage) {
  auto X = nb::placeholder("x", {-1, 256});
  nb::Function f = nb::compile(nb::tanh(nb::sin(nb::exp(X))) * 2);
  const cd::Plan& plan = *f.plan();
  EXPECT_EQ(f.memory_report().arena_bytes, 0u);
  EXPECT_EQ(f.memory_report().in_place, 3u);
  const cd::Plan before = without_in_place(plan);
  nb::Tensor x = nb::randn({64, 256});  // 64 KiB per value
  auto peak_of = [&](const cd::Plan& p) {
    const std::size_t base = nb::memory_stats().bytes_in_use;
    nb::reset_peak_memory();
    nb::Tensor y = cd::execute(p, {x})[0];
    const std::size_t peak = nb::memory_stats().peak_bytes - base;
    expect_same(y, nb::tanh(nb::sin(nb::exp(x))) * 2);
    return peak;
  };
  const std::size_t with = peak_of(plan), without = peak_of(before);
  std::cout << "peak bytes: " << with << " in place, " << without << " without\n";
  EXPECT_EQ(with, 64u * 256 * 4);
  EXPECT_EQ(without, 2u * 64 * 256 * 4);
}

// A fused group's root allocates its own result; the elementwise op after it (an output, so not
// in the arena) writes over it when the root dies there: the call holds one large value, not two.
TEST(InPlace, FusedRootIsReusedByTheNextOp) {
  auto X = nb::placeholder("x", {1 << 16});
  auto r = nb::tanh(nb::exp(X) * 0.5f);  // fused: exp, mul, tanh
  auto out = r * nb::sum(r, {0}, true);  // r has two readers: the product is not in its group
  auto plan = cd::make_plan(cd::build_graph({out}, {X}));
  std::cout << cd::describe_memory(*plan);
  const int root = node_of(*plan, "tanh"), prod = node_of(*plan, "mul", 1);
  ASSERT_GE(plan->group_of[std::size_t(root)], 0);
  ASSERT_LT(plan->group_of[std::size_t(prod)], 0);
  EXPECT_EQ(plan->in_place[std::size_t(prod)], root);
  nb::Tensor x = nb::randn({1 << 16});
  auto peak_of = [&](const cd::Plan& p) {
    const std::size_t base = nb::memory_stats().bytes_in_use;
    nb::reset_peak_memory();
    nb::Tensor y = cd::execute(p, {x})[0];
    const std::size_t peak = nb::memory_stats().peak_bytes - base;
    nb::Tensor er = nb::tanh(nb::exp(x) * 0.5f);
    expect_same(y, er * nb::sum(er, {0}, true));
    return peak;
  };
  const std::size_t with = peak_of(*plan), without = peak_of(without_in_place(*plan));
  std::cout << "peak bytes: " << with << " in place, " << without << " without\n";
  EXPECT_LE(with + (std::size_t(1) << 18), without);  // one 256 KiB value less
}

// With autograd recording (an input requires grad), values are saved for backward: nothing is
// written in place, and the gradient equals eager's.
TEST(InPlace, AutogradRecordingDisablesIt) {
  for (int64_t n : {int64_t(300), int64_t(-1)}) {
    auto X = nb::placeholder("x", {n});
    nb::Function f = nb::compile(nb::sin(nb::exp(X)) * 3);
    EXPECT_GE(f.memory_report().in_place, 1u);
    nb::Tensor x = nb::randn({300}).requires_grad_();
    f({x}).sum().backward();
    nb::Tensor compiled = x.grad().clone();
    x.zero_grad();
    (nb::sin(nb::exp(x)) * 3).sum().backward();
    expect_same(compiled, x.grad());
  }
}

// The CNN training step: the arena shrinks with in-place execution and results equal a run
// that allocates every value.
TEST(InPlace, CnnStepArenaShrinks) {
  nb::Function step = nb::testing::compile_small_cnn_step();
  const cd::Plan before = without_in_place(*step.plan());
  auto r = step.memory_report();
  std::cout << "CNN step: arena " << r.arena_bytes << " bytes with " << r.in_place
            << " ops in place, " << before.arena_bytes << " without; naive " << r.naive_bytes
            << '\n';
  EXPECT_GT(r.in_place, 0u);
  EXPECT_LT(r.arena_bytes, before.arena_bytes);
  std::vector<nb::Tensor> in = nb::testing::sample_cnn_inputs();
  std::vector<nb::Tensor> a = step.run(in);
  cd::Plan allocating = before;
  allocating.arena_bytes = 0;
  std::vector<nb::Tensor> b = cd::execute(allocating, in);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) expect_same(a[i], b[i]);
}

// Calling a function on placeholders records its ops into a new graph: no arena, nothing written
// in place (symbolic values have no bytes), and the recorded graph computes the same values.
TEST(InPlace, CallOnPlaceholdersRecords) {
  auto X = nb::placeholder("x", {1000});
  nb::Function f = nb::compile(nb::sum(nb::sin(nb::exp(X)) * 2, {0}, false));
  ASSERT_GT(f.memory_report().arena_bytes, 0u);
  nb::Function g = nb::compile(f({nb::placeholder("z", {1000})}));
  nb::Tensor x = nb::randn({1000});
  expect_same(g({x}), f({x}));
}

// Above the threading grain (32768 elements), with a broadcast row as the other operand: the
// threads' ranges and the row loops read element i before writing it. Integer chains are not
// fused, so they run op by op in the arena; the float one has a dynamic batch (storage reuse).
TEST(InPlace, LargeChainsAcrossThreadsMatchEager) {
  auto X = nb::placeholder("x", {256, 300}, nb::int32), R = nb::placeholder("r", {300}, nb::int32);
  auto ints = cd::make_plan(cd::build_graph({nb::sum((X * 3 + R) * R - 7, {1}, false)}, {X, R}));
  EXPECT_EQ(count_in_place(*ints), 3u);
  EXPECT_EQ(ints->arena_bytes, 256u * 300 * 4);
  nb::Tensor x = nb::randint(-50, 50, {256, 300}, nb::int32);
  nb::Tensor r = nb::randint(-50, 50, {300}, nb::int32);
  expect_same(cd::execute(*ints, {x, r})[0], nb::sum((x * 3 + r) * r - 7, {1}, false));

  auto F = nb::placeholder("f", {-1, 300}), S = nb::placeholder("s", {300});
  nb::Function f = nb::compile(nb::tanh(nb::exp(F * 0.01f) * S + S) * S);
  EXPECT_EQ(f.memory_report().in_place, 5u);  // all but the first product (of the caller's x)
  nb::Tensor fx = nb::randn({256, 300}), s = nb::randn({300});
  expect_same(f({fx, s}), nb::tanh(nb::exp(fx * 0.01f) * s + s) * s);
}
