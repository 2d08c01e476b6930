// A reduction at the end of a fused group: the elementwise values are folded chunk by chunk and
// never stored. Sums are compared with op-by-op execution to float rounding (the fold's order
// differs from the reduce kernel's for long rows); extrema, which do not round, exactly.
#include <gtest/gtest.h>
#include <nabla/nabla.h>
#include <omp.h>

#include <cmath>

#include "compile/graph.h"
#include "compile/sample_graphs.h"

namespace nb = nabla;
namespace cd = nabla::compile_detail;

namespace {

// Runs the graph fused and op by op; the group must end in the reduction.
void expect_close(const cd::Graph& g, const std::vector<nb::Tensor>& inputs, bool reduces = true,
                  double tol = 1e-5) {
  auto plan = cd::make_plan(g, true);
  bool any = false;
  for (const auto& grp : plan->groups) {
    any |= grp.reduces;
    if (grp.reduces) EXPECT_NE(grp.program, nullptr);
  }
  EXPECT_EQ(any, reduces) << cd::describe(g);
  nb::testing::expect_fused_matches_op_by_op(g, inputs, tol);
}

}  // namespace

TEST(FusedReduce, SumsOverAllAxesRowsColumnsAndAMiddleBlock) {
  auto X = nb::placeholder("x", {300, 4000}), Y = nb::placeholder("y", {300, 4000});
  auto x = nb::randn({300, 4000}), y = nb::randn({300, 4000});
  auto sq = [](const nb::Tensor& a, const nb::Tensor& b) { return (a - b) * (a - b); };
  // all axes: one long row of 1.2M split in segments
  expect_close(cd::build_graph({nb::sum(sq(X, Y))}, {X, Y}), {x, y}, true, 1e-4);
  // rows, with keepdims; the mean's division runs after the fused sum
  expect_close(cd::build_graph({nb::sum(sq(X, Y), {1}, true)}, {X, Y}), {x, y});
  expect_close(cd::build_graph({nb::mean(nb::exp(X * 0.1f), {1})}, {X}), {x});
  // columns: wide rows (a task per block of output columns)
  expect_close(cd::build_graph({nb::sum(X * Y, {0})}, {X, Y}), {x, y});
  // columns: narrow rows (slices of rows folded into partial rows)
  auto N = nb::placeholder("n", {20000, 37});
  expect_close(cd::build_graph({nb::sum(nb::relu(N) + 1.0f, {0})}), {nb::randn({20000, 37})});
  // a middle block of axes
  auto M = nb::placeholder("m", {6, 50, 40, 30});
  // (2000 terms of both signs: the sum cancels, so the tolerance is wider)
  expect_close(cd::build_graph({nb::sum(nb::tanh(M), {1, 2})}), {nb::randn({6, 50, 40, 30})}, true,
               1e-4);
  // rows longer than a segment, with a broadcast source (70001 terms of both signs)
  auto L = nb::placeholder("l", {5, 70001}), B = nb::placeholder("b", {5, 1});
  expect_close(cd::build_graph({nb::sum(L * B, {1})}, {L, B}),
               {nb::randn({5, 70001}), nb::randn({5, 1})}, true, 1e-4);
}

TEST(FusedReduce, MaxAndMinKeepNaNAndMatchExactly) {
  auto X = nb::placeholder("x", {64, 3000});
  auto x = nb::randn({64, 3000});
  std::vector<float> v = x.to_vector<float>();
  v[5 * 3000 + 17] = NAN;  // row 5 and column 17 see a NaN
  nb::Tensor xn = nb::tensor(v, {64, 3000});
  for (const nb::Tensor& in : {x, xn}) {
    expect_close(cd::build_graph({nb::max(nb::abs(X) * 2.0f, {1})}), {in}, true, 0);
    expect_close(cd::build_graph({nb::min(X - 1.0f, {0}, true)}), {in}, true, 0);
    expect_close(cd::build_graph({nb::max(nb::exp(X))}), {in}, true, 0);
  }
}

TEST(FusedReduce, OutputMembersFloat64AndLayoutsItCannotRead) {
  auto X = nb::placeholder("x", {200, 1000});
  auto y = nb::sigmoid(X) * 3.0f;  // a graph output that the sum also reads
  expect_close(cd::build_graph({y, nb::sum(y * X, {1})}), {nb::randn({200, 1000})});
  auto D = nb::placeholder("d", {200, 1000}, nb::float64);
  expect_close(cd::build_graph({nb::sum(nb::exp(D) * D)}), {nb::randn({200, 1000}, nb::float64)},
               true, 1e-12);
  // Reduced dims that are not adjacent: the reduction runs on its own after the group.
  auto T = nb::placeholder("t", {20, 50, 60});
  expect_close(cd::build_graph({nb::sum(nb::exp(T) * 2.0f, {0, 2})}), {nb::randn({20, 50, 60})},
               false);
  // Strided and broadcast inputs are read by the fused loop too.
  auto W = nb::placeholder("w", {1000});
  expect_close(cd::build_graph({nb::sum(X * W, {0})}, {X, W}),
               {nb::randn({1000, 200}).transpose(0, 1), nb::randn({1000})});
}

// The work is split the same way whatever the thread count: the same bits on 1 and 2 threads.
TEST(FusedReduce, ResultsDoNotDependOnTheThreadCount) {
  auto X = nb::placeholder("x", {300, 5000});
  auto plan = cd::make_plan(cd::build_graph({nb::sum(X * X), nb::sum(X * 2.0f, {0})}));
  auto x = nb::randn({300, 5000});
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  auto one = cd::execute(*plan, {x});
  omp_set_num_threads(2);
  auto two = cd::execute(*plan, {x});
  omp_set_num_threads(threads);
  for (std::size_t i = 0; i < one.size(); ++i)
    EXPECT_EQ(one[i].to_vector<float>(), two[i].to_vector<float>());
}

// Through the public API: a compiled loss equals the eager one.
TEST(FusedReduce, CompiledMeanSquaredErrorMatchesEager) {
  auto P = nb::placeholder("p", {512, 100}), T = nb::placeholder("t", {512, 100});
  nb::Function f = nb::compile(nb::mean((P - T) * (P - T)));
  auto p = nb::randn({512, 100}), t = nb::randn({512, 100});
  EXPECT_NEAR(f({p, t}).item<float>(), nb::mean((p - t) * (p - t)).item<float>(), 1e-5);
}
