// Compiled Functions next to the same work in eager mode: an elementwise chain (no fusion yet, so
// the compiled plan runs the same kernels) and an MLP training step (forward, backward, SGD),
// where the compiled plan replays the symbolic gradient graph without recording autograd.
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

namespace nb = nabla;

namespace {

nb::Tensor chain(const nb::Tensor& x, const nb::Tensor& y) { return nb::tanh(x * y + 1) * x - y; }

constexpr int64_t kBatch = 64, kIn = 256, kHidden = 256, kOut = 10;
constexpr float kLr = 0.01f;

nb::Tensor mlp_loss(const nb::Tensor& x, const nb::Tensor& t, const nb::Tensor& w1,
                    const nb::Tensor& w2) {
  nb::Tensor p = nb::matmul(nb::relu(nb::matmul(x, w1)), w2);
  return ((p - t) * (p - t)).mean();
}

}  // namespace

static void BM_ChainEager(benchmark::State& state) {
  auto x = nb::randn({state.range(0)}), y = nb::randn({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(chain(x, y));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4 * 3);
}
BENCHMARK(BM_ChainEager)->Arg(1 << 10)->Arg(1 << 20);

static void BM_ChainCompiled(benchmark::State& state) {
  auto X = nb::placeholder("x", {state.range(0)}), Y = nb::placeholder("y", {state.range(0)});
  nb::Function f = nb::compile(chain(X, Y), {.inputs = {X, Y}});
  auto x = nb::randn({state.range(0)}), y = nb::randn({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(f({x, y}));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4 * 3);
}
BENCHMARK(BM_ChainCompiled)->Arg(1 << 10)->Arg(1 << 20);

static void BM_MlpStepEager(benchmark::State& state) {
  auto x = nb::randn({kBatch, kIn}), t = nb::randn({kBatch, kOut});
  auto w1 = (nb::randn({kIn, kHidden}) * 0.05).requires_grad_();
  auto w2 = (nb::randn({kHidden, kOut}) * 0.05).requires_grad_();
  for (auto _ : state) {
    nb::Tensor loss = mlp_loss(x, t, w1, w2);
    loss.backward();
    nb::NoGradGuard off;
    w1.sub_(w1.grad() * kLr);
    w2.sub_(w2.grad() * kLr);
    w1.zero_grad();
    w2.zero_grad();
    benchmark::DoNotOptimize(loss);
  }
}
BENCHMARK(BM_MlpStepEager)->Unit(benchmark::kMicrosecond);

static void BM_MlpStepCompiled(benchmark::State& state) {
  auto X = nb::placeholder("x", {kBatch, kIn}), T = nb::placeholder("t", {kBatch, kOut});
  auto W1 = nb::placeholder("w1", {kIn, kHidden}), W2 = nb::placeholder("w2", {kHidden, kOut});
  nb::Tensor loss = mlp_loss(X, T, W1, W2);
  auto g = nb::gradients(loss, {W1, W2});
  nb::Function step =
      nb::compile({loss, W1 - g[0] * kLr, W2 - g[1] * kLr}, {.inputs = {X, T, W1, W2}});
  auto x = nb::randn({kBatch, kIn}), t = nb::randn({kBatch, kOut});
  auto w1 = nb::randn({kIn, kHidden}) * 0.05, w2 = nb::randn({kHidden, kOut}) * 0.05;
  for (auto _ : state) {
    auto out = step.run({x, t, w1, w2});
    w1 = out[1];
    w2 = out[2];
    benchmark::DoNotOptimize(out[0]);
  }
}
BENCHMARK(BM_MlpStepCompiled)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
