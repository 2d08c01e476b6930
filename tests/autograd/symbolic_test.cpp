#include <gtest/gtest.h>

#include <nabla/nabla.h>

namespace nb = nabla;

TEST(Symbolic, OpsOnPlaceholdersBuildNodesAndCheckShapes) {
  auto A = nb::placeholder("A", {2, 3});
  auto B = nb::placeholder("B", {3, 4});
  auto C = nb::matmul(A, B) + 1;
  EXPECT_FALSE(C.is_concrete());
  EXPECT_EQ(C.shape(), (nb::Shape{2, 4}));
  EXPECT_THROW(nb::matmul(A, A), nb::ShapeError);
  EXPECT_THROW(A.data_ptr<float>(), nb::ValueError);
  EXPECT_NE(A.to_string().find("symbolic 'A'"), std::string::npos);
  EXPECT_THROW(nb::placeholder("", {1}), nb::ValueError);
  EXPECT_THROW(nb::placeholder("x", {-2}), nb::ShapeError);  // -1 is a dynamic dim
}

TEST(Symbolic, GradientsOfAGraphAreGraphNodes) {
  auto A = nb::placeholder("A", {10});
  auto B = nb::placeholder("B", {10});
  auto g = nb::gradients(nb::sum(A * B * A), {A, B});
  ASSERT_EQ(g.size(), 2u);
  for (const auto& t : g) {
    EXPECT_FALSE(t.is_concrete());
    EXPECT_EQ(t.shape(), nb::Shape{10});
  }
}
