// Compiled Functions next to the same work in eager mode: elementwise chains (fused into one
// loop when compiled), MLP training steps (forward, backward, SGD or Adam), where the compiled
// plan replays the symbolic gradient graph without recording autograd, and the CNN step's compile
// time, peak memory and ahead-of-time memory plan (arena vs naive bytes).
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

#include <cmath>

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

namespace {
// The Fashion-MNIST CNN of examples/fashion_mnist (without dropout) as a function of its
// input, labels and weights, so the same code runs eagerly and on placeholders.
struct CnnWeights {
  nb::Tensor c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b;
  std::vector<nb::Tensor> all() const { return {c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b}; }
};
CnnWeights cnn_weights() {
  return {nb::randn({32, 1, 5, 5}) * 0.1,   nb::zeros({32}),
          nb::randn({64, 32, 5, 5}) * 0.03, nb::zeros({64}),
          nb::randn({3136, 1024}) * 0.02,   nb::zeros({1024}),
          nb::randn({1024, 10}) * 0.03,     nb::zeros({10})};
}
nb::Tensor cnn_loss(const nb::Tensor& x, const nb::Tensor& y, const CnnWeights& w) {
  auto h = nb::max_pool2d(nb::relu(nb::conv2d(x, w.c1w, w.c1b, {.padding = {2, 2}})), {2, 2});
  h = nb::max_pool2d(nb::relu(nb::conv2d(h, w.c2w, w.c2b, {.padding = {2, 2}})), {2, 2});
  h = nb::relu(nb::matmul(h.reshape({x.shape()[0], 3136}), w.f1w) + w.f1b);
  return nb::nn::cross_entropy(nb::matmul(h, w.f2w) + w.f2b, y);
}
CnnWeights as_placeholders(const CnnWeights& w) {
  const char* names[] = {"c1w", "c1b", "c2w", "c2b", "f1w", "f1b", "f2w", "f2b"};
  std::vector<nb::Tensor> p;
  const auto all = w.all();
  for (std::size_t i = 0; i < all.size(); ++i)
    p.push_back(nb::placeholder(names[i], all[i].shape()));
  return {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
}
}  // namespace

// Building and compiling the CNN's training step (forward, loss, symbolic gradients of all
// weights): issue 6 asks for at most 100 ms.
static void BM_CnnStepCompileTime(benchmark::State& state) {
  const CnnWeights w = cnn_weights();
  for (auto _ : state) {
    auto X = nb::placeholder("x", {64, 1, 28, 28});
    auto Y = nb::placeholder("y", {64}, nb::int64);
    const CnnWeights P = as_placeholders(w);
    nb::Tensor loss = cnn_loss(X, Y, P);
    std::vector<nb::Tensor> outs = nb::gradients(loss, P.all());
    outs.insert(outs.begin(), loss);
    benchmark::DoNotOptimize(nb::compile(outs));
  }
}
BENCHMARK(BM_CnnStepCompileTime)->Unit(benchmark::kMillisecond);

// Peak allocator bytes of one forward+backward of the CNN (batch 64), eager (autograd) and
// compiled (the symbolic gradient graph), reported as counters.
static void BM_CnnStepPeakMemory(benchmark::State& state) {
  const bool compiled = state.range(0) == 1;
  const CnnWeights w = cnn_weights();
  auto x = nb::randn({64, 1, 28, 28});
  auto y = nb::randint(0, 10, {64}, nb::int64);
  nb::Function step;
  if (compiled) {
    auto X = nb::placeholder("x", {64, 1, 28, 28});
    auto Y = nb::placeholder("y", {64}, nb::int64);
    const CnnWeights P = as_placeholders(w);
    nb::Tensor loss = cnn_loss(X, Y, P);
    std::vector<nb::Tensor> outs = nb::gradients(loss, P.all());
    outs.insert(outs.begin(), loss);
    std::vector<nb::Tensor> inputs{X, Y};
    for (const auto& p : P.all()) inputs.push_back(p);
    step = nb::compile(outs, {.inputs = inputs});
  }
  std::vector<nb::Tensor> params;
  for (const auto& t : w.all()) params.push_back(compiled ? t : t.detach().requires_grad_());
  double peak = 0;
  for (auto _ : state) {
    const std::size_t base = nb::memory_stats().bytes_in_use;
    nb::reset_peak_memory();
    if (compiled) {
      std::vector<nb::Tensor> in{x, y};
      for (const auto& p : params) in.push_back(p);
      benchmark::DoNotOptimize(step.run(in));
    } else {
      const CnnWeights p{params[0], params[1], params[2], params[3],
                         params[4], params[5], params[6], params[7]};
      nb::Tensor loss = cnn_loss(x, y, p);
      loss.backward();
      benchmark::DoNotOptimize(loss);
      for (auto& t : params) t.zero_grad();
    }
    peak = double(nb::memory_stats().peak_bytes - base);
  }
  state.counters["peak_MiB"] = peak / (1 << 20);
  if (compiled) {  // the ahead-of-time plan: one arena for the values that die inside a call
    state.counters["arena_MiB"] = double(step.memory_report().arena_bytes) / (1 << 20);
    state.counters["naive_MiB"] = double(step.memory_report().naive_bytes) / (1 << 20);
  }
}
BENCHMARK(BM_CnnStepPeakMemory)->Arg(0)->Arg(1)->ArgName("compiled")->Unit(benchmark::kMillisecond);

namespace {
// GELU with the tanh approximation written out as elementwise ops (issue 6's example).
nb::Tensor gelu_tanh(const nb::Tensor& x) {
  return x * 0.5f * (nb::tanh((x + x * x * x * 0.044715f) * 0.7978845608f) + 1.0f);
}
}  // namespace

static void BM_GeluTanhEager(benchmark::State& state) {
  auto x = nb::randn({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(gelu_tanh(x));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4 * 2);
}
BENCHMARK(BM_GeluTanhEager)->Arg(1 << 24)->Unit(benchmark::kMillisecond);

static void BM_GeluTanhCompiled(benchmark::State& state) {
  auto X = nb::placeholder("x", {state.range(0)});
  nb::Function f = nb::compile(gelu_tanh(X));
  auto x = nb::randn({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(f({x}));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4 * 2);
}
BENCHMARK(BM_GeluTanhCompiled)->Arg(1 << 24)->Unit(benchmark::kMillisecond);

namespace {
// LayerNorm's normalise-scale-shift (issue 6's other example): rows of 4096 features with their
// mean and 1/std computed beforehand, a per-feature scale and shift; 4096 rows = 16M floats.
constexpr int64_t kLnFeatures = 4096;
nb::Tensor normalise_scale_shift(const nb::Tensor& x, const nb::Tensor& mean,
                                 const nb::Tensor& rstd, const nb::Tensor& gamma,
                                 const nb::Tensor& beta) {
  return (x - mean) * rstd * gamma + beta;
}
struct LnInputs {
  nb::Tensor x, mean, rstd, gamma, beta;
  explicit LnInputs(int64_t rows)
      : x(nb::randn({rows, kLnFeatures})),
        mean(nb::mean(x, {1}, true)),
        rstd(nb::rsqrt(nb::var(x, {1}, 0, true) + 1e-5f)),
        gamma(nb::rand({kLnFeatures}) + 0.5f),
        beta(nb::randn({kLnFeatures})) {}
};
}  // namespace

static void BM_LayerNormAffineEager(benchmark::State& state) {
  LnInputs in(state.range(0) / kLnFeatures);
  for (auto _ : state)
    benchmark::DoNotOptimize(normalise_scale_shift(in.x, in.mean, in.rstd, in.gamma, in.beta));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4 * 2);
}
BENCHMARK(BM_LayerNormAffineEager)->Arg(1 << 24)->Unit(benchmark::kMillisecond);

static void BM_LayerNormAffineCompiled(benchmark::State& state) {
  const int64_t rows = state.range(0) / kLnFeatures;
  auto X = nb::placeholder("x", {rows, kLnFeatures}), M = nb::placeholder("mean", {rows, 1});
  auto R = nb::placeholder("rstd", {rows, 1}), G = nb::placeholder("gamma", {kLnFeatures});
  auto B = nb::placeholder("beta", {kLnFeatures});
  nb::Function f = nb::compile(normalise_scale_shift(X, M, R, G, B));
  LnInputs in(rows);
  const std::map<std::string, nb::Tensor> args{
      {"x", in.x}, {"mean", in.mean}, {"rstd", in.rstd}, {"gamma", in.gamma}, {"beta", in.beta}};
  for (auto _ : state) benchmark::DoNotOptimize(f(args));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4 * 2);
}
BENCHMARK(BM_LayerNormAffineCompiled)->Arg(1 << 24)->Unit(benchmark::kMillisecond);

// A fused trailing reduction: the squared error's terms are summed as they are made.
static void BM_SquaredErrorSum(benchmark::State& state) {
  const int64_t n = 1 << 24;
  auto p = nb::randn({n}), t = nb::randn({n});
  auto P = nb::placeholder("p", {n}), T = nb::placeholder("t", {n});
  nb::Function f = nb::compile(nb::sum((P - T) * (P - T)));
  for (auto _ : state)
    benchmark::DoNotOptimize(state.range(0) ? f({p, t}) : nb::sum((p - t) * (p - t)));
  state.SetBytesProcessed(state.iterations() * n * 4 * 2);
}
BENCHMARK(BM_SquaredErrorSum)->Arg(0)->Arg(1)->ArgName("compiled")->Unit(benchmark::kMillisecond);

namespace {
// Issue 6's training step: MLP 784-256-128-10 on a batch of 64, cross-entropy, Adam. Eager runs
// nn::Sequential + optim::Adam; compiled runs forward, symbolic gradients and Adam's update (new
// parameters and moments as outputs) as one Function (tests/compile/training_step_test.cpp
// checks that both reach the same parameters).
constexpr double kAdamLr = 1e-3, kB1 = 0.9, kB2 = 0.999, kEps = 1e-8;

nb::nn::Sequential adam_mlp() {
  namespace nn = nb::nn;
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

nb::Function compile_adam_step(const std::vector<nb::Tensor>& params) {
  auto X = nb::placeholder("x", {64, 784});
  auto Y = nb::placeholder("y", {64}, nb::int64);
  std::vector<nb::Tensor> P, M, V, inputs{X, Y};
  for (std::size_t i = 0; i < params.size(); ++i) {
    P.push_back(nb::placeholder("p" + std::to_string(i), params[i].shape()));
    M.push_back(nb::placeholder("m" + std::to_string(i), params[i].shape()));
    V.push_back(nb::placeholder("v" + std::to_string(i), params[i].shape()));
  }
  auto step_size = nb::placeholder("step_size", {}), sqrt_bc2 = nb::placeholder("sqrt_bc2", {});
  nb::Tensor h = X;
  for (std::size_t l = 0; l < P.size(); l += 2) {
    h = nb::matmul(h, P[l].t()) + P[l + 1];
    if (l + 2 < P.size()) h = nb::relu(h);
  }
  nb::Tensor loss = nb::nn::cross_entropy(h, Y);
  std::vector<nb::Tensor> g = nb::gradients(loss, P);
  std::vector<nb::Tensor> outs{loss}, new_m, new_v;
  for (std::size_t i = 0; i < P.size(); ++i) {
    new_m.push_back(M[i] * float(kB1) + g[i] * float(1 - kB1));
    new_v.push_back(V[i] * float(kB2) + g[i] * g[i] * float(1 - kB2));
    outs.push_back(P[i] - step_size * new_m[i] / (nb::sqrt(new_v[i]) / sqrt_bc2 + float(kEps)));
  }
  outs.insert(outs.end(), new_m.begin(), new_m.end());
  outs.insert(outs.end(), new_v.begin(), new_v.end());
  for (const auto* group : {&P, &M, &V}) inputs.insert(inputs.end(), group->begin(), group->end());
  inputs.push_back(step_size);
  inputs.push_back(sqrt_bc2);
  return nb::compile(outs, {.inputs = inputs});
}
}  // namespace

static void BM_MlpAdamStepEager(benchmark::State& state) {
  auto net = adam_mlp();
  nb::optim::Adam opt(net.parameters(), {.lr = kAdamLr});
  auto x = nb::randn({64, 784});
  auto y = nb::randint(0, 10, {64}, nb::int64);
  for (auto _ : state) {
    nb::Tensor loss = nb::nn::cross_entropy(net.forward(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss);
  }
}
BENCHMARK(BM_MlpAdamStepEager)->Unit(benchmark::kMicrosecond);

static void BM_MlpAdamStepCompiled(benchmark::State& state) {
  auto net = adam_mlp();
  std::vector<nb::Tensor> params;
  for (const nb::Tensor& p : net.parameters()) params.push_back(p.detach());
  nb::Function step = compile_adam_step(params);
  std::vector<nb::Tensor> m, v;
  for (const auto& p : params) {
    m.push_back(nb::zeros(p.shape()));
    v.push_back(nb::zeros(p.shape()));
  }
  auto x = nb::randn({64, 784});
  auto y = nb::randint(0, 10, {64}, nb::int64);
  const std::size_t n = params.size();
  int64_t t = 0;
  std::vector<nb::Tensor> in;
  for (auto _ : state) {
    ++t;
    in.assign({x, y});
    for (const auto* group : {&params, &m, &v}) in.insert(in.end(), group->begin(), group->end());
    in.push_back(nb::scalar(kAdamLr / (1 - std::pow(kB1, double(t))), nb::float32));
    in.push_back(nb::scalar(std::sqrt(1 - std::pow(kB2, double(t))), nb::float32));
    std::vector<nb::Tensor> out = step.run(in);
    for (std::size_t i = 0; i < n; ++i) {
      params[i] = out[1 + i];
      m[i] = out[1 + n + i];
      v[i] = out[1 + 2 * n + i];
    }
    benchmark::DoNotOptimize(out[0]);
  }
  state.counters["arena_KiB"] = double(step.memory_report().arena_bytes) / 1024;
  state.counters["naive_KiB"] = double(step.memory_report().naive_bytes) / 1024;
}
BENCHMARK(BM_MlpAdamStepCompiled)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
