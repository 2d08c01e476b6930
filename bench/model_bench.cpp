// Whole-model steps, side by side with bench/torch/model.py:
//  - BM_MlpBackward: forward + backward of a 784-256-128-10 MLP (ReLU, cross-entropy), batch 64;
//  - BM_CnnTrainStep: one Adam training step of the Fashion-MNIST "2 Conv+pooling" network,
//    batch 64 (an epoch is 938 such steps).
#include <benchmark/benchmark.h>

#include <nabla/nabla.h>

namespace nb = nabla;
namespace nn = nabla::nn;

static void BM_MlpBackward(benchmark::State& state) {
  nb::manual_seed(0);
  nn::Sequential net(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(), nn::Linear(128, 10));
  auto x = nb::rand({64, 784});
  auto y = nb::randint(0, 10, {64});
  for (auto _ : state) {
    net.zero_grad();
    nn::cross_entropy(net.forward(x), y).backward();
  }
  state.counters["samples/s"] = benchmark::Counter(64.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MlpBackward)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_CnnTrainStep(benchmark::State& state) {
  nb::manual_seed(0);
  nn::Sequential net(nn::Conv2d(1, 32, 5, {.padding = 2}), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Conv2d(32, 64, 5, {.padding = 2}), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                     nn::Linear(64 * 7 * 7, 1024), nn::ReLU(), nn::Dropout(0.4), nn::Linear(1024, 10));
  nb::optim::Adam opt(net.parameters(), {.lr = 1e-3});
  auto x = nb::rand({64, 1, 28, 28});
  auto y = nb::randint(0, 10, {64});
  for (auto _ : state) {
    opt.zero_grad();
    nn::cross_entropy(net.forward(x), y).backward();
    opt.step();
  }
  state.counters["samples/s"] = benchmark::Counter(64.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CnnTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
