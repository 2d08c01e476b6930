// Memory-bound elementwise work on 16M float32 values, reported as bytes moved per second
// (inputs read + output written) next to a memcpy of the same size (DESIGN.md target:
// elementwise >= 80% of memcpy's bandwidth).
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

#include <cstring>
#include <vector>

namespace nb = nabla;

constexpr int64_t kN = int64_t(1) << 24;
constexpr int64_t kBytes = kN * int64_t(sizeof(float));

static void BM_Memcpy16M(benchmark::State& state) {
  std::vector<float> src(std::size_t(kN), 1.0f), dst(std::size_t(kN), 0.0f);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), std::size_t(kBytes));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
  state.counters["bytes"] = double(2 * kBytes);
}
BENCHMARK(BM_Memcpy16M)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_Clone16M(benchmark::State& state) {
  auto a = nb::ones({kN});
  for (auto _ : state) benchmark::DoNotOptimize(a.clone());
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
  state.counters["bytes"] = double(2 * kBytes);
}
BENCHMARK(BM_Clone16M)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_Add16M(benchmark::State& state) {
  auto a = nb::ones({kN}), b = nb::ones({kN});
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
  state.SetBytesProcessed(state.iterations() * 3 * kBytes);
  state.counters["bytes"] = double(3 * kBytes);
}
BENCHMARK(BM_Add16M)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_Mul16M(benchmark::State& state) {
  auto a = nb::ones({kN}), b = nb::ones({kN});
  for (auto _ : state) benchmark::DoNotOptimize(a * b);
  state.SetBytesProcessed(state.iterations() * 3 * kBytes);
  state.counters["bytes"] = double(3 * kBytes);
}
BENCHMARK(BM_Mul16M)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_MulScalar16M(benchmark::State& state) {
  auto a = nb::ones({kN});
  for (auto _ : state) benchmark::DoNotOptimize(a * 2.0f);
  state.SetBytesProcessed(state.iterations() * 2 * kBytes);
  state.counters["bytes"] = double(2 * kBytes);
}
BENCHMARK(BM_MulScalar16M)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
