#include <gtest/gtest.h>

#include <nabla/nabla.h>

namespace nb = nabla;

TEST(Creation, RangesAndFills) {
  EXPECT_EQ(nb::arange(5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(nb::arange(1, 2, 0.25, nb::float32).to_vector<float>(), (std::vector<float>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(nb::linspace(0, 1, 5).to_vector<float>(), (std::vector<float>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(nb::eye(2, 3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(nb::full({2}, 7, nb::int32).to_vector<int32_t>(), (std::vector<int32_t>{7, 7}));
  EXPECT_EQ(nb::zeros_like(nb::ones({2, 3}, nb::float16)).dtype(), nb::float16);
  EXPECT_THROW(nb::arange(0, 1, 0), nb::ValueError);
  EXPECT_THROW(nb::linspace(0, 1, -1), nb::ValueError);
}

TEST(Creation, FromBlobSharesAndReleases) {
  static int released = 0;
  float* data = new float[6]{1, 2, 3, 4, 5, 6};
  {
    nb::Tensor t = nb::from_blob(data, {2, 3}, nb::float32, [](void* p) { delete[] static_cast<float*>(p); ++released; });
    EXPECT_EQ(t.sum().item<float>(), 21.0f);
    nb::Tensor col = t.t();
    t = nb::Tensor();
    EXPECT_EQ(released, 0);  // the view keeps the memory alive
    EXPECT_EQ(col.select(0, 1).to_vector<float>(), (std::vector<float>{2, 5}));
  }
  EXPECT_EQ(released, 1);
}

TEST(Printing, LikeNumPy) {
  EXPECT_EQ(nb::arange(4, nb::float32).reshape({2, 2}).to_string(), "tensor([[0., 1.],\n        [2., 3.]])");
  EXPECT_EQ(nb::arange(3).to_string(), "tensor([0, 1, 2])");
  EXPECT_EQ(nb::full({}, 0.5, nb::float64).to_string(), "tensor(0.5000, dtype=float64)");
  std::string big = nb::arange(2000).to_string();
  EXPECT_NE(big.find("[   0,    1,    2, ..., 1997, 1998, 1999]"), std::string::npos) << big;
}

TEST(Memory, AllocatorCountsAndReuses) {
  auto before = nb::memory_stats();
  { auto t = nb::empty({1024}); (void)t; }
  auto mid = nb::memory_stats();
  EXPECT_EQ(mid.bytes_in_use, before.bytes_in_use);
  EXPECT_GE(mid.peak_bytes, before.bytes_in_use + 4096);
  { auto t = nb::empty({1024}); (void)t; }
  EXPECT_EQ(nb::memory_stats().num_system_allocs, mid.num_system_allocs);  // served from the cache
}
