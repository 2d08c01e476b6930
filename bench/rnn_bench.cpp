// Recurrent layers, side by side with bench/torch/rnn.py (issue 7's configuration: batch 64,
// 100 steps, input 128, hidden 256, 2 layers, time-first):
//  - BM_LSTMTrain / BM_GRUTrain: forward + backward of sum(output^2) with gradients for every
//    parameter (what a training step spends outside the optimizer);
//  - BM_LSTMInference: forward only, no gradient recording.
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {
constexpr int64_t kBatch = 64, kSteps = 100, kInput = 128, kHidden = 256, kLayers = 2;

template <class Layer>
void train(benchmark::State& state) {
  nb::manual_seed(0);
  Layer net(kInput, kHidden, {.num_layers = kLayers});
  auto x = nb::randn({kSteps, kBatch, kInput});
  for (auto _ : state) {
    net.zero_grad();
    nb::Tensor y = net.forward(x);
    (y * y).sum().backward();
  }
  state.counters["samples/s"] =
      benchmark::Counter(double(kBatch * state.iterations()), benchmark::Counter::kIsRate);
}
}  // namespace

static void BM_LSTMTrain(benchmark::State& state) { train<nn::LSTM>(state); }
BENCHMARK(BM_LSTMTrain)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_GRUTrain(benchmark::State& state) { train<nn::GRU>(state); }
BENCHMARK(BM_GRUTrain)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_LSTMInference(benchmark::State& state) {
  nb::manual_seed(0);
  nn::LSTM net(kInput, kHidden, {.num_layers = kLayers});
  net.eval();
  auto x = nb::randn({kSteps, kBatch, kInput});
  nb::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(net.forward(x));
  state.counters["samples/s"] =
      benchmark::Counter(double(kBatch * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LSTMInference)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
