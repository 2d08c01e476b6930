// A small CNN learns a synthetic image task through fit() in about a second: the layers,
// the loss, the optimizer and the loop working together.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <sstream>

namespace nb = nabla;
namespace nn = nabla::nn;
namespace nt = nabla::train;
namespace nd = nabla::data;

namespace {
// 12x12 noisy images holding one bar: horizontal (class 0), vertical (1) or diagonal (2), at a
// random position. A linear model on raw pixels cannot tell them apart reliably; a
// convolution followed by pooling can.
struct Bars {
  nb::Tensor images, labels;
};
Bars make_bars(int64_t n, uint64_t seed) {
  nb::manual_seed(seed);
  std::vector<float> px(size_t(n * 144));
  std::vector<int64_t> y(static_cast<size_t>(n));
  const std::vector<float> noise = (nb::randn({n * 144}) * 0.3).to_vector<float>();
  const std::vector<int64_t> cls = nb::randint(0, 3, {n}, nb::int64).to_vector<int64_t>();
  const std::vector<int64_t> pos = nb::randint(2, 10, {n, 2}, nb::int64).to_vector<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    float* img = px.data() + i * 144;
    for (int64_t k = 0; k < 144; ++k) img[k] = noise[size_t(i * 144 + k)];
    const int64_t r = pos[size_t(2 * i)], c = pos[size_t(2 * i + 1)];
    y[size_t(i)] = cls[size_t(i)];
    for (int64_t d = -2; d <= 2; ++d) {
      const int64_t rr = cls[size_t(i)] == 0 ? r : r + d;
      const int64_t cc = cls[size_t(i)] == 1 ? c : c + d;
      img[rr * 12 + cc] += 1.0f;
    }
  }
  return {nb::tensor(px, {n, 1, 12, 12}), nb::tensor(y, {n})};
}
}  // namespace

TEST(FitCnn, LearnsBarOrientationsToAThreshold) {
  const Bars train = make_bars(768, 1), val = make_bars(256, 2);
  nb::manual_seed(5);
  nn::Sequential net(nn::Conv2d(1, 8, 3, {.padding = 1}), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Conv2d(8, 8, 3, {.padding = 1}), nn::ReLU(), nn::AdaptiveAvgPool2d({1, 1}),
                     nn::Flatten(), nn::Linear(8, 3));
  nb::optim::Adam opt(net.parameters(), {.lr = 1e-2});
  nd::DataLoader train_loader(nd::TensorDataset(train.images, train.labels),
                              {.batch_size = 32, .shuffle = true, .seed = 3});
  nd::DataLoader val_loader(nd::TensorDataset(val.images, val.labels), {.batch_size = 128});
  auto loss = [](const nb::Tensor& logits, const nb::Tensor& y) {
    return nn::cross_entropy(logits, y);
  };
  const double before = nt::evaluate(net, loss, val_loader, {"accuracy"}).at("accuracy");
  std::ostringstream log;
  nt::History h =
      nt::fit(net, loss, opt, train_loader,
              {.epochs = 20, .validation = &val_loader, .metrics = {"accuracy"}, .out = &log});
  EXPECT_LT(before, 0.5);  // chance is 1/3
  EXPECT_LT(h["loss"].back(), 0.5 * h["loss"].front());
  EXPECT_GT(h.last("val_accuracy"), 0.9) << log.str();
}
