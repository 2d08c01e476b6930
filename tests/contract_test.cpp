// DESIGN.md's public API block, as written; each issue adds its part.
#include <gtest/gtest.h>

#include <nabla/nabla.h>

TEST(Contract, TensorPart) {
  namespace nb = nabla;
  nb::Tensor a = nb::ones({10});                // imperative
  nb::Tensor b = nb::ones({10}) * 2;
  nb::Tensor d = b * a + 1;
  std::vector<float> v = d.to_vector<float>(); // all 3; d.sum().item<float>() == 30
  EXPECT_EQ(v, std::vector<float>(10, 3.0f));
  EXPECT_EQ(d.sum().item<float>(), 30.0f);
  nb::Tensor t = nb::tensor(std::vector<double>{1, 2, 3, 4}, {2, 2});  // dtype from T
  EXPECT_EQ(t.dtype(), nb::float64);
}
