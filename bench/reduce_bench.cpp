// Sums and maxima of a 4096 x 4096 float32 matrix along each axis, reported as input bytes
// per second.
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

namespace nb = nabla;

constexpr int64_t kDim = 4096;
constexpr double kBytes = double(kDim * kDim * 4);

// axis 0: one result per column (down the rows); axis 1: one result per row.
template <class F>
static void reduce_case(benchmark::State& state, F f) {
  auto x = nb::rand({kDim, kDim});
  for (auto _ : state) benchmark::DoNotOptimize(f(x));
  state.SetBytesProcessed(int64_t(double(state.iterations()) * kBytes));
  state.counters["bytes"] = kBytes;
}
static void BM_SumAxis0_4096(benchmark::State& s) { reduce_case(s, [](auto& x) { return nb::sum(x, {0}); }); }
static void BM_SumAxis1_4096(benchmark::State& s) { reduce_case(s, [](auto& x) { return nb::sum(x, {1}); }); }
static void BM_MaxAxis0_4096(benchmark::State& s) { reduce_case(s, [](auto& x) { return nb::max(x, {0}); }); }
static void BM_MaxAxis1_4096(benchmark::State& s) { reduce_case(s, [](auto& x) { return nb::max(x, {1}); }); }
BENCHMARK(BM_SumAxis0_4096)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SumAxis1_4096)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxAxis0_4096)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaxAxis1_4096)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
