// Compiled inference with and without pre-packed weights (CompileOptions::prepack_weights), in
// the same run: the Fashion-MNIST CNN of examples/fashion_mnist and single Linear layers at
// small batches, where reordering the weight into oneDNN's blocked layout at every call costs
// most next to the product itself. Arg "prepack": 0 off, 1 on.
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

#include "../examples/common/fashion_cnn.h"

namespace nb = nabla;

namespace {

nb::Function compiled(nb::nn::Module& net, const nb::Shape& in_shape, bool prepack) {
  nb::NoGradGuard no_grad;
  auto x = nb::placeholder("x", in_shape);
  return nb::compile(net.forward(x), {.prepack_weights = prepack});
}

void run(benchmark::State& state, nb::nn::Module& net, const nb::Shape& in_shape) {
  net.eval();
  nb::Function f = compiled(net, in_shape, state.range(1) != 0);
  nb::Tensor x = nb::randn(in_shape);
  nb::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(f({x}));
  state.SetItemsProcessed(state.iterations() * in_shape[0]);
}

}  // namespace

static void BM_CnnInference(benchmark::State& state) {
  nb::manual_seed(0);
  nb::nn::Sequential net = examples::fashion_cnn();
  run(state, net, {state.range(0), 1, 28, 28});
}
BENCHMARK(BM_CnnInference)
    ->ArgsProduct({{1, 16, 64}, {0, 1}})
    ->ArgNames({"batch", "prepack"})
    ->Unit(benchmark::kMicrosecond);

// The CNN's first fully connected layer (3136 -> 1024) and a square 512 one.
static void BM_LinearInference(benchmark::State& state) {
  nb::manual_seed(0);
  const int64_t in = state.range(2), out = in == 3136 ? 1024 : in;
  nb::nn::Linear lin(in, out);
  run(state, lin, {state.range(0), in});
}
BENCHMARK(BM_LinearInference)
    ->ArgsProduct({{1, 4, 16, 64}, {0, 1}, {512, 3136}})
    ->ArgNames({"batch", "prepack", "in"})
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
