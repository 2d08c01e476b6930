// DCGAN builders: output shapes for every image size, conditional inputs, DCGAN initialisation
// statistics and typed errors.
#include <gtest/gtest.h>
#include <nabla/nabla.h>
#include <nabla/nn/gan.h>

#include <cmath>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

nb::Tensor labels_of(std::vector<int64_t> v) {
  auto n = int64_t(v.size());
  return nb::tensor(v, {n});
}

struct MeanStd {
  double mean = 0, std = 0;
};
MeanStd stats(const nb::Tensor& t) {
  auto v = t.to_vector<double>();
  MeanStd s;
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / double(v.size()));
  return s;
}

}  // namespace

class DCGANSizes : public ::testing::TestWithParam<int64_t> {};

TEST_P(DCGANSizes, UnconditionalShapes) {
  const int64_t size = GetParam();
  nb::manual_seed(0);
  auto g =
      nn::dcgan_generator({.latent_dim = 8, .channels = 3, .base_width = 4, .image_size = size});
  auto d = nn::dcgan_discriminator({.channels = 3, .base_width = 4, .image_size = size});
  nb::Tensor x = g->forward(nb::randn({5, 8}));
  EXPECT_EQ(x.shape(), (nb::Shape{5, 3, size, size}));
  EXPECT_EQ(g->forward(nb::randn({5, 8, 1, 1})).shape(), (nb::Shape{5, 3, size, size}));
  // Tanh output
  EXPECT_LE(x.max().item<double>(), 1.0);
  EXPECT_GE(x.min().item<double>(), -1.0);
  nb::Tensor logits = d->forward(x);
  EXPECT_EQ(logits.shape(), (nb::Shape{5}));
  EXPECT_EQ(g->num_classes(), 0);
}

TEST_P(DCGANSizes, ConditionalShapes) {
  const int64_t size = GetParam();
  nb::manual_seed(1);
  auto g = nn::dcgan_generator(
      {.latent_dim = 6, .base_width = 4, .image_size = size, .num_classes = 10});
  auto d = nn::dcgan_discriminator({.base_width = 4, .image_size = size, .num_classes = 10});
  nb::Tensor y = labels_of({0, 3, 9, 3});
  nb::Tensor x = (*g)(nb::randn({4, 6}), y);
  EXPECT_EQ(x.shape(), (nb::Shape{4, 1, size, size}));
  EXPECT_EQ((*d)(x, y).shape(), (nb::Shape{4}));
  // The label changes the output: same z, other classes.
  g->eval();
  nb::Tensor z = nb::randn({4, 6});
  auto a = g->forward(z, y).to_vector<float>();
  auto b = g->forward(z, labels_of({1, 1, 1, 1})).to_vector<float>();
  EXPECT_NE(a, b);
  d->eval();
  auto da = d->forward(x, y).to_vector<float>(),
       db = d->forward(x, labels_of({1, 1, 1, 1})).to_vector<float>();
  EXPECT_NE(da, db);
}

INSTANTIATE_TEST_SUITE_P(Gan, DCGANSizes, ::testing::Values(28, 32, 64));

TEST(DCGAN, SigmoidDiscriminatorGivesProbabilities) {
  auto d = nn::dcgan_discriminator({.base_width = 4, .image_size = 32, .sigmoid = true});
  auto p = d->forward(nb::randn({3, 1, 32, 32}) * 5).to_vector<float>();
  for (float v : p) {
    EXPECT_GT(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

TEST(DCGAN, GradientsReachEveryParameter) {
  auto g =
      nn::dcgan_generator({.latent_dim = 4, .base_width = 4, .image_size = 28, .num_classes = 3});
  auto d = nn::dcgan_discriminator({.base_width = 4, .image_size = 28, .num_classes = 3});
  nb::Tensor y = labels_of({0, 1, 2});
  (*d)((*g)(nb::randn({3, 4}), y), y).sum().backward();
  for (auto& [name, p] : g->named_parameters()) EXPECT_TRUE(p.grad().defined()) << "G " << name;
  for (auto& [name, p] : d->named_parameters()) EXPECT_TRUE(p.grad().defined()) << "D " << name;
}

TEST(DCGAN, InitialisationStatistics) {
  nb::manual_seed(3);
  auto g = nn::dcgan_generator(
      {.latent_dim = 100, .base_width = 32, .image_size = 64, .num_classes = 10});
  auto d = nn::dcgan_discriminator({.base_width = 32, .image_size = 64});
  int convs = 0, norms = 0;
  auto check = [&](const std::string& who,
                   const std::vector<std::pair<std::string, nb::Tensor>>& params) {
    for (auto& [name, p] : params) {
      MeanStd s = stats(p);
      if (name.find("embed") != std::string::npos) {  // N(0, 1), as z
        EXPECT_NEAR(s.std, 1.0, 0.25) << who << name;
      } else if (p.ndim() == 4) {
        ++convs;
        EXPECT_NEAR(s.mean, 0.0, 0.003) << who << name;
        EXPECT_NEAR(s.std, 0.02, 0.002) << who << name;
      } else if (name.ends_with("weight")) {  // BatchNorm
        ++norms;
        EXPECT_NEAR(s.mean, 1.0, 0.02) << who << name;
        EXPECT_NEAR(s.std, 0.02, 0.012) << who << name;
        EXPECT_GT(s.std, 0.0) << who << name;
      } else {
        ASSERT_TRUE(name.ends_with("bias")) << who << name;
        EXPECT_EQ(s.mean, 0.0) << who << name;
        EXPECT_EQ(s.std, 0.0) << who << name;
      }
    }
  };
  check("G ", g->named_parameters());
  check("D ", d->named_parameters());
  EXPECT_EQ(convs, 5 + 5);
  EXPECT_EQ(norms, 4 + 3);
  // DCGAN convolutions carry no bias (BatchNorm follows).
  for (auto& [name, p] : d->named_parameters())
    EXPECT_FALSE(p.ndim() == 4 && name.ends_with("bias"));
}

TEST(DCGAN, InitHelperOnHandBuiltModels) {
  nb::manual_seed(4);
  nn::Sequential net(nn::Linear(200, 300), nn::BatchNorm1d(300), nn::Conv2d(3, 64, 5));
  nn::dcgan_init_(net);
  for (auto& [name, p] : net.named_parameters()) {
    MeanStd s = stats(p);
    if (name == "1.weight")
      EXPECT_NEAR(s.mean, 1.0, 0.01);
    else if (name.ends_with("weight"))
      EXPECT_NEAR(s.std, 0.02, 0.002) << name;
    else
      EXPECT_EQ(s.std, 0.0) << name;
  }
}

TEST(DCGAN, ErrorsAreTyped) {
  EXPECT_THROW(nn::dcgan_generator({.image_size = 48}), nb::ValueError);
  EXPECT_THROW(nn::dcgan_discriminator({.image_size = 16}), nb::ValueError);
  EXPECT_THROW(nn::dcgan_generator({.latent_dim = 0}), nb::ValueError);
  EXPECT_THROW(nn::dcgan_discriminator({.base_width = -1}), nb::ValueError);
  EXPECT_THROW(nn::dcgan_generator({.num_classes = -2}), nb::ValueError);

  auto g = nn::dcgan_generator({.latent_dim = 8, .base_width = 4, .image_size = 28});
  EXPECT_THROW(g->forward(nb::randn({2, 7})), nb::ShapeError);
  EXPECT_THROW(g->forward(nb::randn({2, 8, 2, 1})), nb::ShapeError);
  EXPECT_THROW(g->forward(nb::ones({2, 8}, nb::int64)), nb::DTypeError);
  EXPECT_THROW(g->forward(nb::randn({2, 8}), labels_of({0, 1})), nb::ValueError);  // unconditional

  auto cg =
      nn::dcgan_generator({.latent_dim = 8, .base_width = 4, .image_size = 28, .num_classes = 10});
  EXPECT_THROW(cg->forward(nb::randn({2, 8})), nb::ValueError);  // labels missing
  EXPECT_THROW(cg->forward(nb::randn({2, 8}), labels_of({0, 10})), nb::IndexError);
  EXPECT_THROW(cg->forward(nb::randn({2, 8}), labels_of({-1, 0})), nb::IndexError);
  EXPECT_THROW(cg->forward(nb::randn({2, 8}), labels_of({0, 1, 2})), nb::ShapeError);
  EXPECT_THROW(cg->forward(nb::randn({2, 8}), nb::zeros({2})), nb::DTypeError);

  auto d = nn::dcgan_discriminator({.base_width = 4, .image_size = 32, .num_classes = 10});
  EXPECT_THROW(d->forward(nb::randn({2, 1, 28, 28}), labels_of({0, 1})), nb::ShapeError);
  EXPECT_THROW(d->forward(nb::randn({2, 3, 32, 32}), labels_of({0, 1})), nb::ShapeError);
  EXPECT_THROW(d->forward(nb::randn({2, 1, 32, 32})), nb::ValueError);
  EXPECT_THROW(d->forward(nb::randn({2, 1, 32, 32}), labels_of({0, 11})), nb::IndexError);
}
