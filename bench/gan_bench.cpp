// One GAN training step (a discriminator update and a generator update, train::GanTrainer) at
// batch 64 for examples/gan's conditional DCGAN on 28x28 images (latent 64, base width 32),
// side by side with bench/torch/gan.py.
#include <benchmark/benchmark.h>

#include <nabla/nabla.h>
#include <nabla/train/gan.h>

namespace nb = nabla;
namespace nn = nabla::nn;

static void BM_GanTrainStep(benchmark::State& state) {
  const int64_t batch = 64, latent = 64, width = 32, classes = 10;
  nb::manual_seed(0);
  auto g = nn::dcgan_generator({.latent_dim = latent, .base_width = width, .image_size = 28, .num_classes = classes});
  auto d = nn::dcgan_discriminator({.base_width = width, .image_size = 28, .num_classes = classes});
  nb::optim::Adam g_opt(g->parameters(), {.lr = 2e-4, .beta1 = 0.5});
  nb::optim::Adam d_opt(d->parameters(), {.lr = 2e-4, .beta1 = 0.5});
  nb::train::GanTrainer gan(*g, *d, g_opt, d_opt, {.real_label = 0.9});
  auto x = nb::rand({batch, 1, 28, 28}) * 2 - 1;
  auto y = nb::randint(0, classes, {batch});
  for (auto _ : state) benchmark::DoNotOptimize(gan.step(x, y));
  state.counters["samples/s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GanTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
