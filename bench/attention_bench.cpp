// Attention, side by side with bench/torch/attention.py:
//  - BM_EncoderLayerTrainStep: forward + backward of nn::TransformerEncoderLayer (d_model 256,
//    4 heads, PyTorch's defaults: feed-forward 2048, dropout 0.1, relu, post-norm) in training
//    mode on (32, 128, 256) batch-first inputs;
//  - BM_EncoderLayerInference: the same layer's forward in eval mode without gradients;
//  - BM_SdpaForward / BM_SdpaCausalForward: scaled_dot_product_attention of (32, 4, 128, 64)
//    q, k, v without gradients (the fused kernel).
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

namespace nb = nabla;
namespace nn = nabla::nn;

static void BM_EncoderLayerTrainStep(benchmark::State& state) {
  nb::manual_seed(0);
  nn::TransformerEncoderLayer layer(256, 4, {.batch_first = true});
  layer.train();
  auto x = nb::randn({32, 128, 256});
  for (auto _ : state) {
    layer.zero_grad();
    layer.forward(x).mean().backward();
  }
  state.counters["seq/s"] =
      benchmark::Counter(32.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncoderLayerTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_EncoderLayerInference(benchmark::State& state) {
  nb::manual_seed(0);
  nn::TransformerEncoderLayer layer(256, 4, {.batch_first = true});
  layer.eval();
  auto x = nb::randn({32, 128, 256});
  nb::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(layer.forward(x));
  state.counters["seq/s"] =
      benchmark::Counter(32.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncoderLayerInference)->Unit(benchmark::kMillisecond)->UseRealTime();

static void sdpa(benchmark::State& state, bool causal) {
  nb::manual_seed(0);
  auto q = nb::randn({32, 4, 128, 64}), k = nb::randn({32, 4, 128, 64}),
       v = nb::randn({32, 4, 128, 64});
  nb::NoGradGuard no_grad;
  for (auto _ : state)
    benchmark::DoNotOptimize(nb::scaled_dot_product_attention(q, k, v, {}, 0.0, causal));
  state.counters["flop"] = 2.0 * 2 * 32 * 4 * 128 * 128 * 64;
}
static void BM_SdpaForward(benchmark::State& state) { sdpa(state, false); }
static void BM_SdpaCausalForward(benchmark::State& state) { sdpa(state, true); }
BENCHMARK(BM_SdpaForward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SdpaCausalForward)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
