// The video example's Conv3d network (examples/video), side by side with
// bench/torch/conv3d_train.py: forward + backward of both heads' cross-entropy on a batch of
// 32 clips (1 x 8 x 48 x 48), and the same plus an Adam step.
#include <benchmark/benchmark.h>
#include <nabla/nabla.h>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

struct VideoNet {
  nn::Sequential trunk{nn::Conv3d(1, 16, 3, {.padding = 1}),
                       nn::ReLU(),
                       nn::MaxPool3d(2),
                       nn::Conv3d(16, 32, 3, {.padding = 1}),
                       nn::ReLU(),
                       nn::MaxPool3d(2),
                       nn::Conv3d(32, 64, 3, {.padding = 1}),
                       nn::ReLU(),
                       nn::MaxPool3d(2),
                       nn::Flatten(),
                       nn::Linear(64 * 6 * 6, 128),
                       nn::ReLU()};
  nn::Linear motion{128, 9}, item{128, 10};
  std::vector<nb::Tensor> parameters() {
    auto p = trunk.parameters();
    for (auto* head : {&motion, &item})
      for (auto& t : head->parameters()) p.push_back(t);
    return p;
  }
  nb::Tensor loss(const nb::Tensor& x, const nb::Tensor& ym, const nb::Tensor& yi) {
    nb::Tensor f = trunk.forward(x);
    return nn::cross_entropy(motion.forward(f), ym) + nn::cross_entropy(item.forward(f), yi);
  }
};

}  // namespace

static void BM_Conv3dBackward(benchmark::State& state) {
  nb::manual_seed(0);
  VideoNet net;
  auto x = nb::rand({32, 1, 8, 48, 48});
  auto ym = nb::randint(0, 9, {32}), yi = nb::randint(0, 10, {32});
  for (auto _ : state) {
    net.trunk.zero_grad();
    net.motion.zero_grad();
    net.item.zero_grad();
    net.loss(x, ym, yi).backward();
  }
  state.counters["samples/s"] =
      benchmark::Counter(32.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Conv3dBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_Conv3dTrainStep(benchmark::State& state) {
  nb::manual_seed(0);
  VideoNet net;
  nb::optim::Adam opt(net.parameters(), {.lr = 1e-3});
  auto x = nb::rand({32, 1, 8, 48, 48});
  auto ym = nb::randint(0, 9, {32}), yi = nb::randint(0, 10, {32});
  for (auto _ : state) {
    opt.zero_grad();
    net.loss(x, ym, yi).backward();
    opt.step();
  }
  state.counters["samples/s"] =
      benchmark::Counter(32.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Conv3dTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
