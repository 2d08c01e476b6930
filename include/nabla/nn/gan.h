// DCGAN generator and discriminator builders (Radford et al. 2016), unconditional and
// class-conditional. Their training loop is nabla::train::GanTrainer (nabla/train/gan.h);
// docs/gan.md shows both.
//
//   auto g = nn::dcgan_generator({.latent_dim = 64, .base_width = 32, .image_size = 28,
//   .num_classes = 10}); auto d = nn::dcgan_discriminator({.base_width = 32, .image_size = 28,
//   .num_classes = 10}); nb::Tensor images = g->forward(nb::randn({16, 64}), labels);  // (16, 1,
//   28, 28) in [-1, 1] nb::Tensor logits = d->forward(images, labels);               // (16)
//
// A conditional model takes the class labels as a second argument: forward(x, labels);
// forward(x) alone is a ValueError for it, and labels are a ValueError for an unconditional
// one. Both kinds are ConditionalModule so that trainers call them one way.
#pragma once
#include <memory>
#include <string>

#include "nabla/nn/layers.h"
#include "nabla/nn/module.h"
#include "nabla/random.h"

namespace nabla::nn {

// A module whose forward may take int64 class labels (N) beside its input.
class ConditionalModule : public Module {
 public:
  using Module::forward;
  using Module::operator();
  // labels may be undefined (no conditioning).
  virtual Tensor forward(const Tensor& x, const Tensor& labels) = 0;
  Tensor forward(const Tensor& x) override { return forward(x, Tensor()); }
  Tensor operator()(const Tensor& x, const Tensor& labels) {
    CallScope scope(*this);
    return scope.done(forward(x, labels));
  }
  virtual int64_t num_classes() const = 0;  // 0: unconditional
};

struct GeneratorOptions {
  int64_t latent_dim = 100;
  int64_t channels = 1;       // of the images: 1 (grey) or 3 (RGB)
  int64_t base_width = 64;    // feature maps of the last hidden layer; earlier ones double
  int64_t image_size = 64;    // 28, 32 or 64
  int64_t num_classes = 0;    // > 0: conditional on a class label
  int64_t embedding_dim = 0;  // of the learned class embedding; 0: num_classes
};

// z (N, latent_dim) or (N, latent_dim, 1, 1) -> images (N, channels, size, size) in [-1, 1].
// Layers (w = base_width): ConvTranspose2d from 1x1 to 4x4 (7x7 for 28), then stride-2
// 4x4 transposed convolutions that halve the width as they double the size, down to w,
// each followed by BatchNorm2d and ReLU, and a last one to `channels` with Tanh:
//   64: (8w)4 -> (4w)8 -> (2w)16 -> (w)32 -> (C)64;  32: (4w)4 -> (2w)8 -> (w)16 -> (C)32;
//   28: (2w)7 -> (w)14 -> (C)28.
// Conditional: a learned Embedding(num_classes, embedding_dim) of the label is concatenated
// to z. Weights start as in DCGAN: convolutions normal(0, 0.02), BatchNorm weight
// normal(1, 0.02) and bias 0.
class DCGANGenerator : public ConditionalModule {
 public:
  explicit DCGANGenerator(GeneratorOptions options);
  using ConditionalModule::forward;
  Tensor forward(const Tensor& z, const Tensor& labels) override;
  std::string describe() const override;
  int64_t num_classes() const override { return o_.num_classes; }
  int64_t latent_dim() const { return o_.latent_dim; }
  const GeneratorOptions& options() const { return o_; }

 private:
  GeneratorOptions o_;
  std::shared_ptr<Sequential> net_;
  std::shared_ptr<Embedding> embed_;
};

struct DiscriminatorOptions {
  int64_t channels = 1;
  int64_t base_width = 64;  // feature maps of the first layer; later ones double
  int64_t image_size = 64;  // 28, 32 or 64
  int64_t num_classes = 0;  // > 0: conditional on a class label
  bool sigmoid = false;     // false: logits, for binary_cross_entropy_with_logits
};

// Images (N, channels, size, size) -> one logit per image (N). Stride-2 4x4 convolutions
// that double the width from w while halving the size, LeakyReLU(0.2) after each and
// BatchNorm2d after all but the first, then a convolution over the whole remaining map to
// one output: 64: w32 -> 2w16 -> 4w8 -> 8w4 -> 1;  32: w16 -> 2w8 -> 4w4 -> 1;  28: w14 -> 2w7
// -> 1. Conditional: the label enters as num_classes extra input channels (its one-hot code
// broadcast over the image), as in conditional DCGANs. DCGAN initialisation as DCGANGenerator's.
class DCGANDiscriminator : public ConditionalModule {
 public:
  explicit DCGANDiscriminator(DiscriminatorOptions options);
  using ConditionalModule::forward;
  Tensor forward(const Tensor& images, const Tensor& labels) override;
  std::string describe() const override;
  int64_t num_classes() const override { return o_.num_classes; }
  const DiscriminatorOptions& options() const { return o_; }

 private:
  DiscriminatorOptions o_;
  std::shared_ptr<Sequential> net_;
};

// Shared pointers, so that optimizers and trainers can hold the same modules.
std::shared_ptr<DCGANGenerator> dcgan_generator(GeneratorOptions options);
std::shared_ptr<DCGANDiscriminator> dcgan_discriminator(DiscriminatorOptions options);

// DCGAN initialisation of every (transposed) convolution and linear layer (weight normal(0,
// 0.02), bias 0) and BatchNorm (weight normal(1, 0.02), bias 0) in `module`, for models a
// user builds by hand.
void dcgan_init_(Module& module, nabla::Generator* gen = nullptr);

}  // namespace nabla::nn
