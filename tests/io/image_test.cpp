// PNG output: what write_png / save_image_grid write reads back as the same pixels.
#include "nabla/io/image.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data/temp_dir.h"
#include "nabla/data/image_folder.h"
#include "nabla/nabla.h"

namespace nabla {
namespace {

class ImageWrite : public testing::TempDirTest {};

void expect_near(const Tensor& a, const Tensor& b, float tol) {
  std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "at " << i;
}
float at3(const Tensor& t, int64_t c, int64_t y, int64_t x) { return t[c][y][x].item<float>(); }

Tensor ramp(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return (arange(0, double(n), 1, float32) / double(n - 1)).reshape(shape);
}

TEST_F(ImageWrite, GrayPngRoundTripsWithinOneLevel) {
  Tensor img = ramp({5, 7});
  io::write_png(img, path("g.png"));
  Tensor back = data::read_image(path("g.png"), {.grayscale = true});
  ASSERT_EQ(back.shape(), (Shape{1, 5, 7}));
  expect_near(back.reshape({5, 7}), img, 0.5f / 255 + 1e-6f);
}

TEST_F(ImageWrite, ChannelsFirstAndLastGiveTheSameRgbFile) {
  Tensor chw = ramp({3, 4, 6});
  io::write_png(chw, path("a.png"));
  io::write_png(chw.permute({1, 2, 0}).contiguous(), path("b.png"), /*channels_last=*/true);
  Tensor a = data::read_image(path("a.png")), b = data::read_image(path("b.png"));
  expect_near(a, chw, 0.5f / 255 + 1e-6f);
  expect_near(a, b, 0.0f);
}

TEST_F(ImageWrite, ValuesOutsideUnitRangeAreClamped) {
  Tensor img = tensor({-1.0f, 0.5f, 2.0f, std::nanf("")}).reshape({1, 4});
  io::write_png(img, path("c.png"));
  std::vector<float> v = data::read_image(path("c.png"), {.grayscale = true}).to_vector<float>();
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_NEAR(v[1], 128.0f / 255, 1e-6);
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_EQ(v[3], 0.0f);
}

TEST_F(ImageWrite, GridPlacesEachImageInItsCell) {
  // 5 images of 2x3, 3 columns, padding 1: 2 rows -> (1, 2*3+1, 3*4+1).
  Tensor imgs = empty({5, 2, 3});
  for (int64_t i = 0; i < 5; ++i) imgs[i].fill_(0.2 * double(i));
  io::ImageGridOptions opt{.columns = 3, .padding = 1, .pad_value = 1.0};
  Tensor grid = io::make_image_grid(imgs, opt);
  ASSERT_EQ(grid.shape(), (Shape{1, 7, 13}));
  auto at = [&](int64_t y, int64_t x) { return at3(grid, 0, y, x); };
  EXPECT_EQ(at(0, 0), 1.0f);            // border
  EXPECT_FLOAT_EQ(at(1, 1), 0.0f);      // image 0
  EXPECT_FLOAT_EQ(at(2, 5 + 2), 0.2f);  // image 1, bottom right pixel
  EXPECT_FLOAT_EQ(at(4, 1 + 4), 0.8f);  // image 4: second row, second column
  EXPECT_EQ(at(4, 9), 1.0f);            // the empty sixth cell keeps the pad value
  io::save_image_grid(imgs, path("grid.png"), opt);
  EXPECT_EQ(data::read_image(path("grid.png")).shape(), (Shape{3, 7, 13}));
}

TEST_F(ImageWrite, NormalizeEachStretchesEveryImageToTheFullRange) {
  Tensor imgs = stack({full({2, 2}, 5.0), arange(0, 4, 1, float32).reshape({2, 2}) * 10 - 7});
  Tensor grid = io::make_image_grid(imgs, {.columns = 2, .padding = 0, .normalize_each = true});
  EXPECT_FLOAT_EQ(at3(grid, 0, 1, 3), 1.0f);
  EXPECT_FLOAT_EQ(at3(grid, 0, 0, 2), 0.0f);
  EXPECT_FLOAT_EQ(at3(grid, 0, 0, 0), 0.0f);  // constant image: shifted to 0
}

TEST_F(ImageWrite, BadInputsNameTheProblem) {
  EXPECT_THROW(io::write_png(zeros({2, 3, 4, 5}), path("x.png")), ShapeError);
  EXPECT_THROW(io::write_png(zeros({2, 4, 5}), path("x.png")), ShapeError);
  EXPECT_THROW(io::write_png(zeros({4, 5}, int32), path("x.png")), DTypeError);
  EXPECT_THROW(io::save_image_grid(zeros({0, 4, 5}), path("x.png")), ShapeError);
  EXPECT_THROW(io::save_image_grid(zeros({2, 4, 5}), path("x.png"), {.columns = 0}), ValueError);
  EXPECT_THROW(io::write_png(zeros({4, 5}), path("no/such/dir/x.png")), IOError);
  EXPECT_FALSE(std::filesystem::exists(path("x.png")));
}

}  // namespace
}  // namespace nabla
