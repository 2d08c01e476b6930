// float32 square matmul through nabla next to oneDNN's own dnnl_sgemm on the same buffers
// (DESIGN.md target: nabla >= 90% of sgemm at 512-2048). Counter "flop" is 2 n^3.
#include <benchmark/benchmark.h>
#include <dnnl.h>
#include <nabla/nabla.h>

#include <vector>

namespace nb = nabla;

static void set_flops(benchmark::State& state, int64_t n) {
  double flop = 2.0 * double(n) * double(n) * double(n);
  state.counters["flop"] = flop;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

static void BM_Matmul(benchmark::State& state) {
  int64_t n = state.range(0);
  auto a = nb::full({n, n}, 0.5), b = nb::full({n, n}, 0.25);
  for (auto _ : state) benchmark::DoNotOptimize(nb::matmul(a, b));
  set_flops(state, n);
}
BENCHMARK(BM_Matmul)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->UseRealTime()->Unit(
    benchmark::kMillisecond);

static void BM_Sgemm(benchmark::State& state) {
  int64_t n = state.range(0);
  std::vector<float> a(std::size_t(n * n), 0.5f), b(std::size_t(n * n), 0.25f),
      c(std::size_t(n * n));
  for (auto _ : state) {
    dnnl_sgemm('N', 'N', n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
    benchmark::ClobberMemory();
  }
  set_flops(state, n);
}
BENCHMARK(BM_Sgemm)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->UseRealTime()->Unit(
    benchmark::kMillisecond);

// A transposed view as the right operand: oneDNN reads it in place (no copy).
static void BM_MatmulTransB(benchmark::State& state) {
  int64_t n = state.range(0);
  auto a = nb::full({n, n}, 0.5), b = nb::full({n, n}, 0.25).t();
  for (auto _ : state) benchmark::DoNotOptimize(nb::matmul(a, b));
  set_flops(state, n);
}
BENCHMARK(BM_MatmulTransB)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);

// 64 products of 128 x 128 matrices (flop counter: all 64).
static void BM_BatchedMatmul(benchmark::State& state) {
  int64_t n = state.range(0), batch = 64;
  auto a = nb::full({batch, n, n}, 0.5), b = nb::full({batch, n, n}, 0.25);
  for (auto _ : state) benchmark::DoNotOptimize(nb::matmul(a, b));
  double flop = 2.0 * double(batch) * double(n * n * n);
  state.counters["flop"] = flop;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_BatchedMatmul)->Arg(128)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_MatmulBf16(benchmark::State& state) {
  int64_t n = state.range(0);
  auto a = nb::full({n, n}, 0.5, nb::bfloat16), b = nb::full({n, n}, 0.25, nb::bfloat16);
  for (auto _ : state) benchmark::DoNotOptimize(nb::matmul(a, b));
  set_flops(state, n);
}
BENCHMARK(BM_MatmulBf16)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
