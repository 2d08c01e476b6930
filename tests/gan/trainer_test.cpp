// GanTrainer: losses against hand-computed BCE, label smoothing, k discriminator steps,
// learning a toy distribution, fit() and typed errors.
#include <gtest/gtest.h>
#include <nabla/nabla.h>
#include <nabla/train/gan.h>

#include <cmath>

namespace nb = nabla;
namespace nn = nabla::nn;
namespace train = nabla::train;

namespace {

// BCE with logits of one element against target t, in double.
double bce(double l, double t) {
  return std::max(l, 0.0) - l * t + std::log1p(std::exp(-std::abs(l)));
}
double mean_bce(const nb::Tensor& logits, double t) {
  double s = 0;
  auto v = logits.to_vector<double>();
  for (double l : v) s += bce(l, t);
  return s / double(v.size());
}
double mean_sigmoid(const nb::Tensor& logits) {
  double s = 0;
  auto v = logits.to_vector<double>();
  for (double l : v) s += 1 / (1 + std::exp(-l));
  return s / double(v.size());
}

nb::Tensor labels_of(std::vector<int64_t> v) {
  auto n = int64_t(v.size());
  return nb::tensor(v, {n});
}

// A conditional DCGAN pair small enough for a step in milliseconds.
struct TinyDCGAN {
  std::shared_ptr<nn::DCGANGenerator> g;
  std::shared_ptr<nn::DCGANDiscriminator> d;
  nb::optim::Adam g_opt, d_opt;
  explicit TinyDCGAN(uint64_t seed)
      : g((nb::manual_seed(seed),
           nn::dcgan_generator(
               {.latent_dim = 6, .base_width = 4, .image_size = 28, .num_classes = 3}))),
        d(nn::dcgan_discriminator({.base_width = 4, .image_size = 28, .num_classes = 3})),
        g_opt(g->parameters(), {.lr = 1e-2, .beta1 = 0.5}),
        d_opt(d->parameters(), {.lr = 1e-2, .beta1 = 0.5}) {}
};

}  // namespace

TEST(GanTrainer, LossesEqualHandComputedBCE) {
  TinyDCGAN m(0);
  train::GanTrainer gan(*m.g, *m.d, m.g_opt, m.d_opt, {.real_label = 0.9});
  nb::Tensor x = nb::rand({4, 1, 28, 28}) * 2 - 1;
  nb::Tensor y = labels_of({0, 2, 1, 2});
  nb::Tensor z = nb::randn({4, 6});
  // Everything before the step is in training mode, as in the step (batch statistics).
  nb::Tensor fake, real_logits, fake_logits;
  {
    nb::NoGradGuard off;
    fake = m.g->forward(z, y);
    real_logits = m.d->forward(x, y);
    fake_logits = m.d->forward(fake, y);
  }
  train::GanStepStats s = gan.step(x, y, z);
  EXPECT_TRUE(s.g_updated);
  EXPECT_NEAR(s.d_loss, mean_bce(real_logits, 0.9) + mean_bce(fake_logits, 0.0), 1e-5);
  EXPECT_NEAR(s.d_real, mean_sigmoid(real_logits), 1e-6);
  EXPECT_NEAR(s.d_fake, mean_sigmoid(fake_logits), 1e-6);
  // G's loss goes through the D just updated, on the fake batch of the step, against 1.
  nb::Tensor after;
  {
    nb::NoGradGuard off;
    after = m.d->forward(fake, y);
  }
  EXPECT_NEAR(s.g_loss, mean_bce(after, 1.0), 1e-5);
  EXPECT_NEAR(s.d_fake_g, mean_sigmoid(after), 1e-6);
  // D moved (its update came first): the G-step logits differ from the D-step ones.
  EXPECT_GT(std::abs(s.d_fake_g - s.d_fake), 1e-4);
  // G moved too: the same z now gives other images.
  nb::NoGradGuard off;
  EXPECT_NE(m.g->forward(z, y).to_vector<float>(), fake.to_vector<float>());
}

TEST(GanTrainer, LabelSmoothingChangesOnlyTheRealTarget) {
  nb::Tensor x = (nb::manual_seed(9), nb::rand({4, 1, 28, 28}) * 2 - 1);
  nb::Tensor y = labels_of({0, 1, 1, 2});
  nb::Tensor z = nb::randn({4, 6});
  TinyDCGAN a(5), b(5);  // same weights
  nb::Tensor real_logits;
  {
    nb::NoGradGuard off;
    real_logits = a.d->forward(x, y);
  }
  train::GanTrainer plain(*a.g, *a.d, a.g_opt, a.d_opt, {.real_label = 1.0});
  train::GanTrainer smooth(*b.g, *b.d, b.g_opt, b.d_opt, {.real_label = 0.8});
  auto sp = plain.step(x, y, z), ss = smooth.step(x, y, z);
  // BCE is linear in the target: lowering it by 0.2 adds 0.2 * mean(real logits).
  double mean_logit = real_logits.mean().item<double>();
  EXPECT_NEAR(ss.d_loss - sp.d_loss, 0.2 * mean_logit, 1e-5);
  EXPECT_NEAR(ss.d_real, sp.d_real, 1e-6);
  EXPECT_NEAR(ss.d_fake, sp.d_fake, 1e-6);
  // The smoothed target changes D's update, so everything after differs.
  EXPECT_NE(ss.g_loss, sp.g_loss);
}

TEST(GanTrainer, KDiscriminatorStepsPerGeneratorStep) {
  TinyDCGAN m(2);
  train::GanTrainer gan(*m.g, *m.d, m.g_opt, m.d_opt, {.d_steps = 3});
  nb::Tensor x = nb::rand({4, 1, 28, 28});
  nb::Tensor y = labels_of({0, 1, 2, 0});
  auto g_before = m.g->state_dict().at("net.0.weight").clone().to_vector<float>();
  auto d_before = m.d->state_dict().at("net.0.weight").clone().to_vector<float>();
  for (int i = 1; i <= 2; ++i) {
    auto s = gan.step(x, y);
    EXPECT_FALSE(s.g_updated);
    EXPECT_TRUE(std::isnan(s.g_loss));
    EXPECT_TRUE(std::isfinite(s.d_loss));
  }
  EXPECT_EQ(m.g->state_dict().at("net.0.weight").to_vector<float>(), g_before);
  EXPECT_NE(m.d->state_dict().at("net.0.weight").to_vector<float>(), d_before);
  auto s = gan.step(x, y);
  EXPECT_TRUE(s.g_updated);
  EXPECT_TRUE(std::isfinite(s.g_loss));
  EXPECT_NE(m.g->state_dict().at("net.0.weight").to_vector<float>(), g_before);
  EXPECT_EQ(gan.steps(), 3);
}

TEST(GanTrainer, GeneratorStepLeavesNoGradientOnTheDiscriminator) {
  TinyDCGAN m(3);
  nb::optim::SGD frozen_d(m.d->parameters(), {.lr = 0});  // D keeps its weights
  train::GanTrainer gan(*m.g, *m.d, m.g_opt, frozen_d);
  nb::Tensor x = nb::rand({4, 1, 28, 28});
  nb::Tensor y = labels_of({0, 1, 2, 0});
  nb::Tensor z = nb::randn({4, 6});
  // D's gradients of its own loss, computed by hand first.
  nb::Tensor fake;
  {
    nb::NoGradGuard off;
    fake = m.g->forward(z, y);
  }
  nb::Tensor real_l = m.d->forward(x, y), fake_l = m.d->forward(fake, y);
  nb::Tensor dl = (nn::binary_cross_entropy_with_logits(real_l, nb::ones_like(real_l)) +
                   nn::binary_cross_entropy_with_logits(fake_l, nb::zeros_like(fake_l)));
  dl.backward();
  std::vector<std::vector<float>> expected;
  for (auto& p : m.d->parameters()) expected.push_back(p.grad().to_vector<float>());
  m.d->zero_grad();
  auto st = gan.step(x, y, z);
  EXPECT_NEAR(st.d_loss, dl.item<double>(), 1e-6);
  auto params = m.d->parameters();
  ASSERT_EQ(params.size(), expected.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(params[i].requires_grad());  // restored after the G step
    auto got = params[i].grad().to_vector<float>();
    ASSERT_EQ(got.size(), expected[i].size());
    for (std::size_t k = 0; k < got.size(); ++k)
      ASSERT_NEAR(got[k], expected[i][k], 1e-5) << "param " << i;
  }
}

// A 1-D mixture of two Gaussians learned by tiny MLPs through the same trainer: the generated
// samples' mean and spread move from the generator's start to the data's.
TEST(GanTrainer, LearnsAToyMixture) {
  nb::manual_seed(42);
  nb::Generator rng(7);
  nn::Sequential g(nn::Linear(4, 32), nn::LeakyReLU(0.2), nn::Linear(32, 32), nn::LeakyReLU(0.2),
                   nn::Linear(32, 1));
  nn::Sequential d(nn::Linear(1, 32), nn::LeakyReLU(0.2), nn::Linear(32, 32), nn::LeakyReLU(0.2),
                   nn::Linear(32, 1));
  nb::optim::Adam g_opt(g.parameters(), {.lr = 2e-3, .beta1 = 0.5});
  nb::optim::Adam d_opt(d.parameters(), {.lr = 2e-3, .beta1 = 0.5});
  train::GanTrainer gan(g, d, g_opt, d_opt, {.latent_dim = 4, .real_label = 0.9, .gen = &rng});
  const int64_t n = 128;
  auto sample_data = [&] {  // 0.5 N(2, 0.3) + 0.5 N(4, 0.3): mean 3, std ~1.04
    nb::Tensor pick = nb::bernoulli(0.5, {n, 1}, nb::float32, &rng);
    return nb::randn({n, 1}, nb::float32, &rng) * 0.3 + 2 + pick * 2;
  };
  auto moments = [](const nb::Tensor& t) {
    auto v = t.to_vector<double>();
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return std::pair{m, std::sqrt(s / double(v.size()))};
  };
  nb::Tensor z_eval = gan.sample_latent(2000);
  auto [m0, s0] = moments(gan.generate(z_eval));
  ASSERT_GT(std::abs(m0 - 3), 2.0);  // starts far from the data
  for (int i = 0; i < 1500; ++i) {
    auto s = gan.step(sample_data());
    ASSERT_TRUE(std::isfinite(s.d_loss) && std::isfinite(s.g_loss)) << "step " << i;
  }
  auto [m1, s1] = moments(gan.generate(z_eval));
  EXPECT_NEAR(m1, 3.0, 0.35) << "start mean " << m0;
  EXPECT_NEAR(s1, 1.04, 0.45) << "start std " << s0;
}

TEST(GanTrainer, FitRunsEpochsOverALoader) {
  TinyDCGAN m(6);
  nb::manual_seed(6);
  auto data = std::make_shared<nb::data::TensorDataset>(nb::rand({10, 1, 28, 28}) * 2 - 1,
                                                        nb::randint(0, 3, {10}));
  nb::data::DataLoader loader(data, {.batch_size = 4, .shuffle = true});
  train::GanTrainer gan(*m.g, *m.d, m.g_opt, m.d_opt, {.real_label = 0.9});
  int epochs_seen = 0;
  int64_t steps_seen = 0;
  auto hist = gan.fit(
      loader, {.epochs = 2,
               .on_step = [&](int64_t, const train::GanStepStats&) { ++steps_seen; },
               .on_epoch_end = [&](const train::GanEpochStats& e) { epochs_seen = e.epoch; }});
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_EQ(epochs_seen, 2);
  EXPECT_EQ(steps_seen, 6);  // 3 batches (4, 4, 2) per epoch
  EXPECT_EQ(hist[0].steps, 3);
  for (auto& e : hist) {
    EXPECT_TRUE(std::isfinite(e.d_loss) && std::isfinite(e.g_loss));
    EXPECT_GT(e.d_real, 0.0);
    EXPECT_LT(e.d_real, 1.0);
  }
  // Samples in eval mode; the generator's training mode comes back.
  nb::Tensor imgs = gan.generate(gan.sample_latent(3), labels_of({0, 1, 2}));
  EXPECT_EQ(imgs.shape(), (nb::Shape{3, 1, 28, 28}));
  EXPECT_TRUE(m.g->is_training());
}

TEST(GanTrainer, ErrorsAreTyped) {
  TinyDCGAN m(8);
  using O = train::GanOptions;
  EXPECT_THROW(train::GanTrainer(*m.g, *m.d, m.g_opt, m.d_opt, O{.d_steps = 0}), nb::ValueError);
  EXPECT_THROW(train::GanTrainer(*m.g, *m.d, m.g_opt, m.d_opt, O{.real_label = 0}), nb::ValueError);
  EXPECT_THROW(train::GanTrainer(*m.g, *m.d, m.g_opt, m.d_opt, O{.real_label = 1.5}),
               nb::ValueError);
  EXPECT_THROW(train::GanTrainer(*m.g, *m.g, m.g_opt, m.d_opt), nb::ValueError);
  nn::Sequential mlp_g(nn::Linear(2, 1)), mlp_d(nn::Linear(1, 1));
  EXPECT_THROW(train::GanTrainer(mlp_g, mlp_d, m.g_opt, m.d_opt),
               nb::ValueError);  // latent_dim unknown

  train::GanTrainer gan(*m.g, *m.d, m.g_opt, m.d_opt);
  nb::Tensor x = nb::rand({2, 1, 28, 28});
  EXPECT_THROW(gan.step(x), nb::ValueError);                        // conditional, no labels
  EXPECT_THROW(gan.step(x, labels_of({0, 5})), nb::IndexError);     // class out of range
  EXPECT_THROW(gan.step(x, labels_of({0, 1, 2})), nb::ShapeError);  // labels per sample
  EXPECT_THROW(gan.step(nb::rand({2, 1, 32, 32}), labels_of({0, 1})), nb::ShapeError);
  EXPECT_THROW(gan.step(x, labels_of({0, 1}), nb::randn({3, 6})), nb::ShapeError);
  EXPECT_THROW(gan.step(x, labels_of({0, 1}), nb::randn({2, 5})), nb::ShapeError);
  EXPECT_THROW(gan.step(nb::rand({0, 1, 28, 28}), labels_of({})), nb::ShapeError);
  EXPECT_THROW(gan.sample_latent(-1), nb::ValueError);

  train::GanTrainer plain(mlp_g, mlp_d, m.g_opt, m.d_opt, {.latent_dim = 2});
  EXPECT_THROW(plain.step(nb::rand({2, 1}), labels_of({0, 1})),
               nb::ValueError);  // MLPs take no labels
  EXPECT_NO_THROW(plain.step(nb::rand({2, 1})));
}
