// The Fashion-MNIST CNN's convolution and pooling layers (batch 64), float32: forward, and
// forward + backward (input, weight and bias gradients). items_per_second counts FLOPs.
// Also 3-d convolution on a small video batch (8 clips of 8 frames) and a DCGAN-like
// transposed convolution, whose "flop" counters give GFLOP/s in bench/compare.py (twin:
// bench/torch/conv.py).
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

#include <cmath>
#include <vector>

namespace nb = nabla;

namespace {

nb::Tensor filled(const nb::Shape& s, double scale) {
  std::vector<float> v(std::size_t(nb::numel_of(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(std::sin(double(i) * 0.7) * scale);
  return nb::tensor(v, s);
}

// args: input channels, output channels, image size.
void conv_forward(benchmark::State& state) {
  int64_t c = state.range(0), o = state.range(1), hw = state.range(2);
  nb::Tensor x = filled({64, c, hw, hw}, 1), w = filled({o, c, 5, 5}, 0.1), b = filled({o}, 0.1);
  for (auto _ : state) benchmark::DoNotOptimize(nb::conv2d(x, w, b, {.padding = {2, 2}}));
  state.SetItemsProcessed(state.iterations() * 2 * 64 * o * c * 25 * hw * hw);  // FLOPs
}

void conv_forward_backward(benchmark::State& state) {
  int64_t c = state.range(0), o = state.range(1), hw = state.range(2);
  nb::Tensor x = filled({64, c, hw, hw}, 1).requires_grad_();
  nb::Tensor w = filled({o, c, 5, 5}, 0.1).requires_grad_(), b = filled({o}, 0.1).requires_grad_();
  nb::Tensor g = filled({64, o, hw, hw}, 1);
  for (auto _ : state) {
    nb::conv2d(x, w, b, {.padding = {2, 2}}).backward(g);
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
  }
  state.SetItemsProcessed(state.iterations() * 3 * 2 * 64 * o * c * 25 * hw * hw);
}

void max_pool_forward_backward(benchmark::State& state) {
  int64_t c = state.range(0), hw = state.range(1);
  nb::Tensor x = filled({64, c, hw, hw}, 1).requires_grad_();
  nb::Tensor g = filled({64, c, hw / 2, hw / 2}, 1);
  for (auto _ : state) {
    nb::max_pool2d(x, {2, 2}).backward(g);
    x.zero_grad();
  }
}

void set_flops(benchmark::State& state, double flop) {
  state.counters["flop"] = flop;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// args: input channels, output channels, frame size, whether the input needs a gradient
// (not for a network's first layer). 8 clips of 8 frames, 3x3x3 kernel, padding 1.
void BM_Conv3dForward(benchmark::State& state) {
  int64_t c = state.range(0), o = state.range(1), hw = state.range(2);
  nb::Tensor x = filled({8, c, 8, hw, hw}, 1), w = filled({o, c, 3, 3, 3}, 0.1);
  nb::Tensor b = filled({o}, 0.1);
  for (auto _ : state) benchmark::DoNotOptimize(nb::conv3d(x, w, b, {.padding = {1, 1, 1}}));
  set_flops(state, 2.0 * 8 * o * c * 27 * 8 * hw * hw);
}

void BM_Conv3dForwardBackward(benchmark::State& state) {
  int64_t c = state.range(0), o = state.range(1), hw = state.range(2);
  bool input_grad = state.range(3) != 0;
  nb::Tensor x = filled({8, c, 8, hw, hw}, 1);
  if (input_grad) x.requires_grad_();
  nb::Tensor w = filled({o, c, 3, 3, 3}, 0.1).requires_grad_();
  nb::Tensor b = filled({o}, 0.1).requires_grad_(), g = filled({8, o, 8, hw, hw}, 1);
  for (auto _ : state) {
    nb::conv3d(x, w, b, {.padding = {1, 1, 1}}).backward(g);
    if (input_grad) x.zero_grad();
    w.zero_grad();
    b.zero_grad();
  }
  set_flops(state, (input_grad ? 3 : 2) * 2.0 * 8 * o * c * 27 * 8 * hw * hw);
}

// args: input channels, output channels, input size: 16 images upsampled 2x by a 4x4
// kernel with stride 2 and padding 1 (a DCGAN generator layer), input gradient included.
void BM_ConvTranspose2dForwardBackward(benchmark::State& state) {
  int64_t c = state.range(0), o = state.range(1), hw = state.range(2);
  nb::Tensor x = filled({16, c, hw, hw}, 1).requires_grad_();
  nb::Tensor w = filled({c, o, 4, 4}, 0.1).requires_grad_(), b = filled({o}, 0.1).requires_grad_();
  nb::Tensor g = filled({16, o, 2 * hw, 2 * hw}, 1);
  for (auto _ : state) {
    nb::conv_transpose2d(x, w, b, {.stride = {2, 2}, .padding = {1, 1}}).backward(g);
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
  }
  set_flops(state, 3 * 2.0 * 16 * c * o * 16 * hw * hw);
}

}  // namespace

BENCHMARK(conv_forward)->Args({1, 32, 28})->Args({32, 64, 14})->Unit(benchmark::kMillisecond);
BENCHMARK(conv_forward_backward)
    ->Args({1, 32, 28})
    ->Args({32, 64, 14})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Conv3dForward)->Args({3, 16, 32})->Args({16, 32, 16})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Conv3dForwardBackward)
    ->Args({3, 16, 32, 0})
    ->Args({16, 32, 16, 1})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvTranspose2dForwardBackward)->Args({64, 32, 16})->Unit(benchmark::kMillisecond);
BENCHMARK(max_pool_forward_backward)->Args({32, 28})->Args({64, 14})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
