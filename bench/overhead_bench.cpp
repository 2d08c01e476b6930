// Per-op eager dispatch cost on 16-element tensors (DESIGN.md target: <= 0.5 us from C++).
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

namespace nb = nabla;

static void BM_Add16(benchmark::State& state) {
  auto a = nb::ones({16}), b = nb::ones({16});
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(BM_Add16);

static void BM_MulScalar16(benchmark::State& state) {
  auto a = nb::ones({16});
  for (auto _ : state) benchmark::DoNotOptimize(a * 2.0);
}
BENCHMARK(BM_MulScalar16);

static void BM_Sum16(benchmark::State& state) {
  auto a = nb::ones({16});
  for (auto _ : state) benchmark::DoNotOptimize(a.sum());
}
BENCHMARK(BM_Sum16);

static void BM_ForwardBackward16(benchmark::State& state) {
  auto a = nb::ones({16}).requires_grad_(), b = nb::ones({16});
  for (auto _ : state) {
    (a * b).sum().backward();
    a.zero_grad();
  }
}
BENCHMARK(BM_ForwardBackward16);

BENCHMARK_MAIN();
