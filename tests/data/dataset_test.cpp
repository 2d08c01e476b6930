// TensorDataset and TransformDataset.
#include "nabla/data/dataset.h"

#include <gtest/gtest.h>

#include "nabla/ops/creation.h"

namespace nd = nabla::data;
using nabla::Shape;

namespace {

TEST(TensorDataset, IndexesTheFirstDim) {
  nd::TensorDataset ds(nabla::arange(0.0, 12.0, 1.0, nabla::float32).reshape({4, 3}),
                       nabla::arange(4));
  EXPECT_EQ(ds.size(), 4);
  nd::Example e = ds.get(2);
  EXPECT_EQ(e.input.shape(), (Shape{3}));
  EXPECT_EQ(e.input.to_vector<float>(), (std::vector<float>{6, 7, 8}));
  EXPECT_EQ(e.target.item<int64_t>(), 2);
  EXPECT_EQ(ds.get(-1).target.item<int64_t>(), 3);
  EXPECT_THROW(ds.get(4), nabla::IndexError);
  EXPECT_THROW(ds.get(-5), nabla::IndexError);
}

TEST(TensorDataset, KeepsNonContiguousInputsAsContiguousCopies) {
  auto x = nabla::arange(0.0, 6.0, 1.0, nabla::float32).reshape({2, 3}).transpose(0, 1);
  nd::TensorDataset ds(x);
  EXPECT_TRUE(ds.inputs().is_contiguous());
  EXPECT_EQ(ds.get(1).input.to_vector<float>(), (std::vector<float>{1, 4}));
  EXPECT_FALSE(ds.get(0).target.defined());
}

TEST(TensorDataset, RejectsMismatchedTensors) {
  EXPECT_THROW(nd::TensorDataset(nabla::zeros({3, 2}), nabla::zeros({4})), nabla::ShapeError);
  EXPECT_THROW(nd::TensorDataset(nabla::scalar(1.0, nabla::float32)), nabla::ShapeError);
  EXPECT_THROW(nd::TensorDataset(nabla::zeros({3}), nabla::scalar(1.0, nabla::float32)),
               nabla::ShapeError);
  EXPECT_THROW(nd::TensorDataset(nabla::Tensor()), nabla::ValueError);
}

TEST(TransformDataset, AppliesTheTransformPerExampleAndEpoch) {
  nd::TensorDataset base(nabla::ones({3, 1, 4, 4}), nabla::arange(3));
  nd::TransformDataset flipped(base, nd::random_affine_shift(3, 3), 1);
  EXPECT_EQ(flipped.size(), 3);
  auto a = flipped.get(1).input.to_vector<float>();
  EXPECT_EQ(flipped.get(1).input.to_vector<float>(), a) << "same epoch and index, same draw";
  EXPECT_EQ(flipped.get(1).target.item<int64_t>(), 1);
  bool changed = false;
  for (int64_t e = 1; e < 10 && !changed; ++e) {
    flipped.set_epoch(e);
    changed = flipped.get(1).input.to_vector<float>() != a;
  }
  EXPECT_TRUE(changed);
  EXPECT_THROW(nd::TransformDataset(std::shared_ptr<nd::Dataset>(), nd::to_float()),
               nabla::ValueError);
}

}  // namespace
