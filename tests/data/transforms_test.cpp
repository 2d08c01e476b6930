// Transforms: exact pixel results on small images, seeded reproducibility, bad input.
#include "nabla/data/transforms.h"

#include <gtest/gtest.h>

#include <set>

#include "nabla/ops/creation.h"

namespace nd = nabla::data;
using nabla::Shape;
using nabla::Tensor;

namespace {

// A CHW float image whose pixel (c, y, x) = 100c + 10y + x + 1 (never zero).
Tensor ramp(int64_t c, int64_t h, int64_t w) {
  std::vector<float> v;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(float(100 * k + 10 * y + x + 1));
  return nabla::tensor(v, {c, h, w});
}

float at(const Tensor& t, int64_t c, int64_t y, int64_t x) {
  return t.to_vector<float>()[size_t((c * t.size(1) + y) * t.size(2) + x)];
}

TEST(Transforms, ToFloatScalesUint8) {
  Tensor img = nabla::tensor(std::vector<uint8_t>{0, 51, 255, 128}, {2, 2});
  nd::Transform t = nd::to_float();
  Tensor f = t(img);
  EXPECT_EQ(f.dtype(), nabla::float32);
  EXPECT_EQ(f.shape(), (Shape{2, 2}));
  std::vector<float> v = f.to_vector<float>();
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_FLOAT_EQ(v[1], 0.2f);
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_THROW(t(nabla::zeros({2, 2}, nabla::int32)), nabla::DTypeError);
}

TEST(Transforms, NormalizePerChannel) {
  Tensor img = ramp(2, 2, 2);
  nd::Transform t = nd::normalize({1.0, 101.0}, {2.0, 0.5});
  Tensor out = t(img);
  EXPECT_FLOAT_EQ(at(out, 0, 1, 1), (12.0f - 1.0f) / 2.0f);
  EXPECT_FLOAT_EQ(at(out, 1, 0, 1), (102.0f - 101.0f) / 0.5f);
  EXPECT_EQ(at(img, 0, 1, 1), 12.0f) << "the input must not change";
  EXPECT_THROW(t(ramp(3, 2, 2)), nabla::ShapeError);
  EXPECT_THROW(t(nabla::zeros({2, 2, 2}, nabla::uint8)), nabla::DTypeError);
  EXPECT_THROW(nd::normalize({0.5}, {0.0}), nabla::ValueError);
  EXPECT_THROW(nd::normalize({0.5, 0.5}, {1.0}), nabla::ValueError);
  // One value for an HW image, float64 kept.
  Tensor hw = nd::normalize({0.5}, {0.25})(nabla::full({2, 3}, 1.0, nabla::float64));
  EXPECT_EQ(hw.dtype(), nabla::float64);
  EXPECT_EQ(hw.to_vector<double>(), std::vector<double>(6, 2.0));
}

TEST(Transforms, RandomCropIsAWindowOfThePaddedImage) {
  Tensor img = ramp(2, 5, 6);
  nd::Transform crop = nd::random_crop(4, 2);
  std::set<std::pair<int, int>> offsets;
  for (int trial = 0; trial < 1000; ++trial) {
    Tensor out = crop(img);
    ASSERT_EQ(out.shape(), (Shape{2, 4, 4}));
    // Recover the offset from the first non-zero pixel of channel 0: value 10y + x + 1.
    std::vector<float> v = out.to_vector<float>();
    bool found = false;
    for (int64_t y = 0; y < 4 && !found; ++y)
      for (int64_t x = 0; x < 4 && !found; ++x) {
        float p = v[size_t(y * 4 + x)];
        if (p == 0) continue;
        int sy = int(p - 1) / 10, sx = int(p - 1) % 10;
        int top = sy - int(y), left = sx - int(x);
        offsets.insert({top, left});
        for (int64_t c = 0; c < 2; ++c)
          for (int64_t yy = 0; yy < 4; ++yy)
            for (int64_t xx = 0; xx < 4; ++xx) {
              int64_t iy = top + yy, ix = left + xx;
              float want = (iy < 0 || iy >= 5 || ix < 0 || ix >= 6) ? 0.0f : at(img, c, iy, ix);
              ASSERT_EQ(at(out, c, yy, xx), want) << "top " << top << " left " << left;
            }
        found = true;
      }
    ASSERT_TRUE(found);
  }
  // Offsets span [-2, 5 + 2*2 - 4 - 2] x [-2, 6 + 2*2 - 4 - 2].
  for (auto [top, left] : offsets) {
    EXPECT_GE(top, -2);
    EXPECT_LE(top, 3);
    EXPECT_GE(left, -2);
    EXPECT_LE(left, 4);
  }
  EXPECT_EQ(offsets.size(), 6u * 7u);  // every offset occurs in 1000 draws
  EXPECT_THROW(nd::random_crop(10, 1)(img), nabla::ShapeError);
  EXPECT_THROW(nd::random_crop(0, 1), nabla::ValueError);
  EXPECT_THROW(crop(nabla::zeros({4})), nabla::ShapeError);
}

TEST(Transforms, HorizontalFlip) {
  Tensor img = ramp(1, 2, 3);
  Tensor always = nd::random_horizontal_flip(1.0)(img);
  EXPECT_EQ(always.to_vector<float>(), (std::vector<float>{3, 2, 1, 13, 12, 11}));
  Tensor never = nd::random_horizontal_flip(0.0)(img);
  EXPECT_EQ(never.to_vector<float>(), img.to_vector<float>());
  // uint8 HW, and a non-contiguous input.
  Tensor u = nabla::tensor(std::vector<uint8_t>{1, 2, 3, 4}, {2, 2}).transpose(0, 1);
  EXPECT_EQ(nd::random_horizontal_flip(1.0)(u).to_vector<int>(), (std::vector<int>{3, 1, 4, 2}));
  nd::Transform half = nd::random_horizontal_flip(0.5);
  int flipped = 0;
  for (int i = 0; i < 400; ++i) flipped += half(img).to_vector<float>()[0] == 3.0f;
  EXPECT_GT(flipped, 120);
  EXPECT_LT(flipped, 280);
  EXPECT_THROW(nd::random_horizontal_flip(1.5), nabla::ValueError);
}

TEST(Transforms, AffineShiftMovesContentAndFillsZeros) {
  Tensor img = ramp(1, 4, 4);
  nd::Transform shift = nd::random_affine_shift(1, 2);
  std::set<std::pair<int, int>> seen;
  for (int trial = 0; trial < 300; ++trial) {
    Tensor out = shift(img);
    ASSERT_EQ(out.shape(), img.shape());
    // Find (dx, dy) from where pixel (1, 1) = 12... moved: out(y, x) = img(y - dy, x - dx).
    bool matched = false;
    for (int dy = -2; dy <= 2 && !matched; ++dy)
      for (int dx = -1; dx <= 1 && !matched; ++dx) {
        bool ok = true;
        for (int y = 0; y < 4 && ok; ++y)
          for (int x = 0; x < 4 && ok; ++x) {
            int sy = y - dy, sx = x - dx;
            float want = (sy < 0 || sy >= 4 || sx < 0 || sx >= 4) ? 0.0f : at(img, 0, sy, sx);
            ok = at(out, 0, y, x) == want;
          }
        if (ok) seen.insert({dx, dy}), matched = true;
      }
    ASSERT_TRUE(matched);
  }
  EXPECT_EQ(seen.size(), 15u);  // every shift in [-1, 1] x [-2, 2] occurs
  EXPECT_THROW(nd::random_affine_shift(-1, 0), nabla::ValueError);
}

TEST(Transforms, ComposeAndSeededReproducibility) {
  Tensor img = nabla::tensor(std::vector<uint8_t>(3 * 8 * 8, 200), {3, 8, 8});
  auto make = [] {
    return nd::compose({nd::to_float(), nd::random_crop(8, 2), nd::random_horizontal_flip(),
                        nd::random_affine_shift(2, 2), nd::normalize({0.5}, {0.5})});
  };
  nd::Transform a = make(), b = make();
  nd::Rng r1(42), r2(42), r3(43);
  Tensor x1 = a(img, r1), x2 = b(img, r2);
  EXPECT_EQ(x1.dtype(), nabla::float32);
  EXPECT_EQ(x1.shape(), (Shape{3, 8, 8}));
  EXPECT_EQ(x1.to_vector<float>(), x2.to_vector<float>());
  bool differs = false;
  for (int i = 0; i < 10 && !differs; ++i)
    differs = a(img, r3).to_vector<float>() != x1.to_vector<float>();
  EXPECT_TRUE(differs);
  // The transform's own generator is seeded at construction.
  nd::Transform c = make(), d = make();
  EXPECT_EQ(c(img).to_vector<float>(), d(img).to_vector<float>());
}

TEST(Transforms, UniformBelowIsUnbiasedAndInRange) {
  nd::Rng rng(7);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[nd::uniform_below(rng, 6)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  EXPECT_EQ(nd::uniform_below(rng, 1), 0u);
  for (int i = 0; i < 1000; ++i) {
    double u = nd::uniform_unit(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

}  // namespace

TEST(Transforms, ResizeBilinearMatchesPyTorch) {
  // F.interpolate(arange(12).reshape(1, 1, 3, 4), size=(5, 3), mode="bilinear",
  // align_corners=False) in PyTorch 1.13.
  nabla::Tensor x = nabla::arange(0.0, 12.0, 1.0, nabla::float32).reshape({3, 4});
  std::vector<float> want = {0.166667f, 1.5f,      2.833333f, 1.766667f, 3.1f,
                             4.433333f, 4.166667f, 5.5f,      6.833333f, 6.566667f,
                             7.900001f, 9.233334f, 8.166667f, 9.5f,      10.833333f};
  std::vector<float> got = nd::resize_bilinear(x, 5, 3).to_vector<float>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
  // Upscaling 2x2 by two, per channel of a CHW image.
  nabla::Tensor y = nabla::tensor(std::vector<float>{0, 1, 2, 3, 5, 5, 5, 5}, {2, 2, 2});
  nabla::Tensor up = nd::resize(4, 4)(y);
  EXPECT_EQ(up.shape(), (nabla::Shape{2, 4, 4}));
  std::vector<float> u = up.to_vector<float>();
  EXPECT_EQ(std::vector<float>(u.begin(), u.begin() + 16),
            (std::vector<float>{0, .25f, .75f, 1, .5f, .75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f,
                                2, 2.25f, 2.75f, 3}));
  EXPECT_EQ(std::vector<float>(u.begin() + 16, u.end()), std::vector<float>(16, 5.0f));
  EXPECT_EQ(nd::resize_bilinear(y, 2, 2).to_vector<float>(), y.to_vector<float>());
}

TEST(Transforms, ResizeRejectsBadInput) {
  EXPECT_THROW(nd::resize(0, 3), nabla::ValueError);
  EXPECT_THROW(nd::resize_bilinear(nabla::zeros({2, 2}), 2, -1), nabla::ValueError);
  EXPECT_THROW(nd::resize_bilinear(nabla::zeros({2, 2}, nabla::uint8), 3, 3), nabla::DTypeError);
  EXPECT_THROW(nd::resize_bilinear(nabla::zeros({2}), 3, 3), nabla::ShapeError);
  EXPECT_THROW(nd::resize_bilinear(nabla::zeros({1, 0, 2}), 3, 3), nabla::ShapeError);
}
