#include <gtest/gtest.h>

#include <nabla/nabla.h>

namespace nb = nabla;

TEST(Views, ShareStorage) {
  auto x = nb::arange(12, nb::float32).reshape({3, 4});
  for (const nb::Tensor& v : {x.transpose(0, 1), x.slice(1, 1, 3), x.select(0, 1), x.unsqueeze(0),
                              x.flatten(), x.diagonal(), x.expand({2, 3, 4}), x.permute({1, 0})})
    EXPECT_TRUE(v.shares_storage(x));
  auto col = x.slice(1, 1, 2);
  EXPECT_FALSE(col.is_contiguous());
  col.fill_(-1);  // writes through the view
  EXPECT_EQ(x.to_vector<float>()[1], -1.0f);
  EXPECT_EQ(x.to_vector<float>()[5], -1.0f);
}

TEST(Views, ReshapeCopiesOnlyWhenNeeded) {
  auto x = nb::arange(6, nb::float32).reshape({2, 3});
  EXPECT_TRUE(x.reshape({3, 2}).shares_storage(x));
  auto t = x.t();
  auto r = t.reshape({6});
  EXPECT_FALSE(r.shares_storage(x));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(t.view({6}), nb::ShapeError);
  EXPECT_THROW(x.reshape({4, -1}), nb::ShapeError);
  EXPECT_THROW(x.reshape({-1, -1}), nb::ShapeError);
}

TEST(Views, SliceWithStepsAndNegativeIndices) {
  auto x = nb::arange(10);
  EXPECT_EQ(x.slice(0, -4, 10, 2).to_vector<int64_t>(), (std::vector<int64_t>{6, 8}));
  EXPECT_EQ(x.slice(0, 2, -2, 3).to_vector<int64_t>(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(x.slice(0, 8, 2).numel(), 0);
  EXPECT_THROW(x.slice(0, 0, 5, 0), nb::ShapeError);
  EXPECT_THROW(x.slice(1, 0, 5), nb::IndexError);
  EXPECT_THROW(x.select(0, 10), nb::IndexError);
}

TEST(Views, SqueezeUnsqueezeExpand) {
  auto x = nb::zeros({1, 3, 1});
  EXPECT_EQ(x.squeeze().shape(), nb::Shape({3}));
  EXPECT_EQ(x.squeeze(0).shape(), nb::Shape({3, 1}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), nb::Shape({1, 3, 1, 1}));
  EXPECT_EQ(x.expand({2, -1, 4}).shape(), nb::Shape({2, 3, 4}));
  EXPECT_THROW(x.expand({2, 4, 4}), nb::ShapeError);
  EXPECT_THROW(x.permute({0, 0, 1}), nb::ShapeError);
  EXPECT_THROW(x.transpose(0, 3), nb::IndexError);
}

TEST(Errors, NameTheOpAndShapes) {
  try {
    (void)(nb::ones({2, 3}) + nb::ones({4}));
    FAIL();
  } catch (const nb::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[add]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(2, 3)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nb::tensor(std::vector<float>{1, 2, 3}, {2, 2}), nb::ShapeError);
  EXPECT_THROW(nb::ones({2}).item<float>(), nb::ValueError);
  EXPECT_THROW(nb::ones({2}).data_ptr<double>(), nb::DTypeError);
  EXPECT_THROW(nb::Tensor().shape(), nb::ValueError);
  EXPECT_THROW(nb::zeros({-1}), nb::ShapeError);
}
