#include "nabla/train/gan.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/nn/loss.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/unary.h"

namespace nabla::train {
namespace {

double mean_sigmoid(const Tensor& logits) { return sigmoid(logits.detach()).mean().item<double>(); }

// Turns gradient recording off for a module's parameters while alive (the G update does not
// need D's weight gradients), restoring each parameter's flag after.
class FreezeParameters {
 public:
  explicit FreezeParameters(const nn::Module& m) : params_(m.parameters()) {
    for (Tensor& p : params_) {
      was_.push_back(p.requires_grad());
      p.requires_grad_(false);
    }
  }
  ~FreezeParameters() {
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i].requires_grad_(was_[i]);
  }
  FreezeParameters(const FreezeParameters&) = delete;
  FreezeParameters& operator=(const FreezeParameters&) = delete;

 private:
  std::vector<Tensor> params_;
  std::vector<bool> was_;
};

}  // namespace

GanTrainer::GanTrainer(nn::Module& generator, nn::Module& discriminator,
                       optim::Optimizer& g_optimizer, optim::Optimizer& d_optimizer,
                       GanOptions options)
    : g_(generator), d_(discriminator), g_opt_(g_optimizer), d_opt_(d_optimizer), o_(options) {
  if (o_.d_steps < 1)
    throw ValueError("[GanTrainer] d_steps must be >= 1, got " + std::to_string(o_.d_steps));
  if (!(o_.real_label > 0 && o_.real_label <= 1))
    throw ValueError("[GanTrainer] real_label must be in (0, 1], got " +
                     std::to_string(o_.real_label));
  if (o_.latent_dim < 0)
    throw ValueError("[GanTrainer] latent_dim must be >= 0, got " + std::to_string(o_.latent_dim));
  latent_dim_ = o_.latent_dim;
  if (latent_dim_ == 0) {
    auto* dc = dynamic_cast<nn::DCGANGenerator*>(&g_);
    if (!dc)
      throw ValueError(
          "[GanTrainer] latent_dim must be given (GanOptions::latent_dim) for a generator that is "
          "not an nn::DCGANGenerator");
    latent_dim_ = dc->latent_dim();
  }
  if (&generator == &discriminator)
    throw ValueError("[GanTrainer] generator and discriminator are the same module");
}

Tensor GanTrainer::call(nn::Module& m, const char* role, const Tensor& x, const Tensor& labels) {
  if (auto* c = dynamic_cast<nn::ConditionalModule*>(&m)) return c->forward(x, labels);
  if (labels.defined())
    throw ValueError(std::string("[GanTrainer] got labels but the ") + role +
                     " is not an nn::ConditionalModule (it takes no labels)");
  return m.forward(x);
}

Tensor GanTrainer::sample_latent(int64_t n) {
  if (n < 0)
    throw ValueError("[GanTrainer] sample_latent: n must be >= 0, got " + std::to_string(n));
  return randn({n, latent_dim_}, float32, o_.gen);
}

Tensor GanTrainer::generate(const Tensor& z, const Tensor& labels, bool eval) {
  NoGradGuard no_grad;
  bool was_training = g_.is_training();
  if (eval) g_.eval();
  Tensor out;
  try {
    out = call(g_, "generator", z, labels);
  } catch (...) {
    g_.train(was_training);
    throw;
  }
  g_.train(was_training);
  return out;
}

GanStepStats GanTrainer::step(const Tensor& real, const Tensor& labels) {
  if (!real.defined() || real.ndim() == 0)
    throw ShapeError(
        "[GanTrainer] expects a batch of real samples (N, ...), got a 0-d or undefined tensor");
  return step(real, labels, sample_latent(real.size(0)));
}

GanStepStats GanTrainer::step(const Tensor& real, const Tensor& labels, const Tensor& z) {
  if (!real.defined() || real.ndim() == 0)
    throw ShapeError(
        "[GanTrainer] expects a batch of real samples (N, ...), got a 0-d or undefined tensor");
  const int64_t n = real.size(0);
  if (n == 0)
    throw ShapeError("[GanTrainer] the batch of real samples is empty: " + shape_str(real.shape()));
  if (z.ndim() < 2 || z.size(0) != n)
    throw ShapeError("[GanTrainer] expects z with one row per real sample (" + std::to_string(n) +
                     ", ...), got " + shape_str(z.shape()));
  if (labels.defined() && (labels.ndim() != 1 || labels.size(0) != n))
    throw ShapeError("[GanTrainer] expects labels of shape (" + std::to_string(n) + "), got " +
                     shape_str(labels.shape()));

  ++steps_;
  const bool update_g = steps_ % o_.d_steps == 0;
  g_.train();
  d_.train();
  GanStepStats s;

  // The fake batch keeps its graph to G only when G is updated from it this step.
  Tensor fake;
  if (update_g) {
    fake = call(g_, "generator", z, labels);
  } else {
    NoGradGuard no_grad;
    fake = call(g_, "generator", z, labels);
  }

  Tensor real_logits = call(d_, "discriminator", real, labels);
  Tensor fake_logits = call(d_, "discriminator", fake.detach(), labels);
  if (real_logits.shape() != fake_logits.shape())
    throw ShapeError("[GanTrainer] the discriminator gave " + shape_str(real_logits.shape()) +
                     " for real and " + shape_str(fake_logits.shape()) + " for fake samples");
  Tensor d_loss =
      nn::binary_cross_entropy_with_logits(real_logits, full_like(real_logits, o_.real_label)) +
      nn::binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits));
  d_opt_.zero_grad();
  d_loss.backward();
  d_opt_.step();
  s.d_loss = d_loss.item<double>();
  s.d_real = mean_sigmoid(real_logits);
  s.d_fake = mean_sigmoid(fake_logits);

  if (!update_g) {
    s.g_loss = s.d_fake_g = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  Tensor g_logits, g_loss;
  {
    // Through the backward pass too: leaves accumulate by their flag at that time.
    FreezeParameters frozen(d_);
    g_logits = call(d_, "discriminator", fake, labels);
    // Non-saturating: G's target is "real" (1), never the smoothed label.
    g_loss = nn::binary_cross_entropy_with_logits(g_logits, ones_like(g_logits));
    g_opt_.zero_grad();
    g_loss.backward();
  }
  g_opt_.step();
  s.g_loss = g_loss.item<double>();
  s.d_fake_g = mean_sigmoid(g_logits);
  s.g_updated = true;
  return s;
}

std::vector<GanEpochStats> GanTrainer::fit(data::DataLoader& loader, const GanFitOptions& options) {
  if (options.epochs < 0)
    throw ValueError("[GanTrainer] epochs must be >= 0, got " + std::to_string(options.epochs));
  auto* cg = dynamic_cast<nn::ConditionalModule*>(&g_);
  const bool conditional = cg && cg->num_classes() > 0;
  std::vector<GanEpochStats> history;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    GanEpochStats e;
    e.epoch = epoch;
    int64_t g_steps = 0;
    for (auto& batch : loader) {
      if (conditional && !batch.targets.defined())
        throw ValueError(
            "[GanTrainer] the generator is conditional but the loader's batches have no labels");
      GanStepStats s = step(batch.inputs, conditional ? batch.targets : Tensor());
      ++e.steps;
      e.d_loss += s.d_loss;
      e.d_real += s.d_real;
      e.d_fake += s.d_fake;
      if (s.g_updated) {
        ++g_steps;
        e.g_loss += s.g_loss;
        e.d_fake_g += s.d_fake_g;
      }
      if (options.on_step) options.on_step(steps_, s);
    }
    if (e.steps > 0) {
      e.d_loss /= double(e.steps);
      e.d_real /= double(e.steps);
      e.d_fake /= double(e.steps);
    }
    if (g_steps > 0) {
      e.g_loss /= double(g_steps);
      e.d_fake_g /= double(g_steps);
    } else {
      e.g_loss = e.d_fake_g = std::numeric_limits<double>::quiet_NaN();
    }
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    history.push_back(e);
    if (options.on_epoch_end) options.on_epoch_end(e);
  }
  return history;
}

}  // namespace nabla::train
