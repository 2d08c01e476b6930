// The Fashion-MNIST CNN's convolution and pooling layers (batch 64), float32: forward, and
// forward + backward (input, weight and bias gradients). items_per_second counts FLOPs.
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

}  // namespace

BENCHMARK(conv_forward)->Args({1, 32, 28})->Args({32, 64, 14})->Unit(benchmark::kMillisecond);
BENCHMARK(conv_forward_backward)
    ->Args({1, 32, 28})
    ->Args({32, 64, 14})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(max_pool_forward_backward)->Args({32, 28})->Args({64, 14})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
