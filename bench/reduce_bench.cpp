// Sums of a 4096 x 4096 float32 matrix along each axis, reported as input bytes per second.
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

namespace nb = nabla;

constexpr int64_t kDim = 4096;
constexpr double kBytes = double(kDim * kDim * 4);

// axis 0: one sum per column (down the rows); axis 1: one sum per row.
static void BM_SumAxis0_4096(benchmark::State& state) {
  auto x = nb::ones({kDim, kDim});
  for (auto _ : state) benchmark::DoNotOptimize(nb::sum(x, {0}));
  state.SetBytesProcessed(int64_t(double(state.iterations()) * kBytes));
  state.counters["bytes"] = kBytes;
}
BENCHMARK(BM_SumAxis0_4096)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_SumAxis1_4096(benchmark::State& state) {
  auto x = nb::ones({kDim, kDim});
  for (auto _ : state) benchmark::DoNotOptimize(nb::sum(x, {1}));
  state.SetBytesProcessed(int64_t(double(state.iterations()) * kBytes));
  state.counters["bytes"] = kBytes;
}
BENCHMARK(BM_SumAxis1_4096)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
