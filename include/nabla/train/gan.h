// Training a GAN: alternating discriminator and generator updates with their own optimizers.
//
//   auto g = nn::dcgan_generator({.latent_dim = 64, .image_size = 28, .num_classes = 10});
//   auto d = nn::dcgan_discriminator({.image_size = 28, .num_classes = 10});
//   optim::Adam g_opt(g->parameters(), {.lr = 2e-4, .beta1 = 0.5});
//   optim::Adam d_opt(d->parameters(), {.lr = 2e-4, .beta1 = 0.5});
//   train::GanTrainer gan(*g, *d, g_opt, d_opt, {.real_label = 0.9});
//   gan.fit(loader, {.epochs = 5, .on_epoch_end = [&](const train::GanEpochStats& s) {
//     io::save_image_grid((gan.generate(z, labels) + 1) / 2, "epoch" + std::to_string(s.epoch) +
//     ".png");
//   }});
//
// One step on a batch of real images x (and labels y for conditional models) does:
//   z ~ N(0, 1);  fake = G(z, y)
//   D: loss_D = bce_logits(D(x, y), real_label) + bce_logits(D(fake.detach(), y), 0)
//   G (every d_steps-th step): loss_G = bce_logits(D(fake, y), 1), the non-saturating loss
//      (maximise log D(G(z)) rather than minimise log(1 - D(G(z)))), through the D just updated.
// D's parameters do not accumulate gradients during the G update. D must return logits (a
// DCGANDiscriminator with sigmoid = false). A model that is an nn::ConditionalModule is called
// as forward(x, labels); any other nn::Module as forward(x), and then labels are a ValueError.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nabla/data/loader.h"
#include "nabla/nn/gan.h"
#include "nabla/optim/optimizer.h"
#include "nabla/random.h"

namespace nabla::train {

struct GanOptions {
  int64_t latent_dim = 0;    // size of z; 0: the generator's when it is an nn::DCGANGenerator
  double real_label = 1.0;   // D's target for real images; 0.9 is one-sided label smoothing
  int d_steps = 1;           // discriminator updates per generator update
  Generator* gen = nullptr;  // draws z; nullptr: the default generator
};

// One step. d_real and d_fake are the mean sigmoid(D) on the real and fake batch in D's update,
// d_fake_g the mean sigmoid(D(G(z))) in G's update (after D's); g_loss and d_fake_g are NaN
// on steps without a G update.
struct GanStepStats {
  double d_loss = 0, g_loss = 0;
  double d_real = 0, d_fake = 0, d_fake_g = 0;
  bool g_updated = false;
};

// Means over an epoch's steps (the G ones over the steps that updated G).
struct GanEpochStats {
  int epoch = 0;  // from 1
  int64_t steps = 0;
  double d_loss = 0, g_loss = 0, d_real = 0, d_fake = 0, d_fake_g = 0;
  double seconds = 0;
};

struct GanFitOptions {
  int epochs = 1;
  std::function<void(int64_t step, const GanStepStats&)>
      on_step;                                             // step counts from 1 over the run
  std::function<void(const GanEpochStats&)> on_epoch_end;  // e.g. write a sample grid
};

class GanTrainer {
 public:
  // The modules and optimizers are held by reference and must outlive the trainer.
  GanTrainer(nn::Module& generator, nn::Module& discriminator, optim::Optimizer& g_optimizer,
             optim::Optimizer& d_optimizer, GanOptions options = {});

  // One D update on `real` (N, ...) and, every d_steps-th call, one G update. `labels` (N,
  // int64) for conditional models, else undefined.
  GanStepStats step(const Tensor& real, const Tensor& labels = {});
  // The same with the latent batch given: z (N, latent_dim) (for reproducible steps and tests).
  GanStepStats step(const Tensor& real, const Tensor& labels, const Tensor& z);

  // Epochs over a loader of (images, labels) batches; the labels are passed to conditional
  // generators and ignored for unconditional ones. Returns one row per epoch.
  std::vector<GanEpochStats> fit(data::DataLoader& loader, const GanFitOptions& options = {});

  // z ~ N(0, 1) of shape (n, latent_dim), from the options' generator.
  Tensor sample_latent(int64_t n);
  // G(z, labels) without gradients; in eval mode (BatchNorm's running statistics) when `eval`,
  // and the generator's mode is restored after.
  Tensor generate(const Tensor& z, const Tensor& labels = {}, bool eval = true);

  int64_t steps() const { return steps_; }
  int64_t latent_dim() const { return latent_dim_; }
  const GanOptions& options() const { return o_; }

 private:
  Tensor call(nn::Module& m, const char* role, const Tensor& x, const Tensor& labels);
  nn::Module& g_;
  nn::Module& d_;
  optim::Optimizer& g_opt_;
  optim::Optimizer& d_opt_;
  GanOptions o_;
  int64_t latent_dim_ = 0;
  int64_t steps_ = 0;
};

}  // namespace nabla::train
