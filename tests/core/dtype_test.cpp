#include <gtest/gtest.h>

#include <cmath>

#include <nabla/nabla.h>

namespace nb = nabla;

TEST(Promotion, Table) {
  using nb::promote_types;
  EXPECT_EQ(promote_types(nb::bool_, nb::uint8), nb::uint8);
  EXPECT_EQ(promote_types(nb::uint8, nb::int8), nb::int32);
  EXPECT_EQ(promote_types(nb::int32, nb::int64), nb::int64);
  EXPECT_EQ(promote_types(nb::int64, nb::float16), nb::float16);
  EXPECT_EQ(promote_types(nb::float16, nb::bfloat16), nb::float32);
  EXPECT_EQ(promote_types(nb::float32, nb::float64), nb::float64);
  EXPECT_EQ(promote_types(nb::bfloat16, nb::float32), nb::float32);
}

TEST(Promotion, WeakScalarsKeepTheTensorDtype) {
  EXPECT_EQ((nb::ones({2}, nb::float16) * 2).dtype(), nb::float16);
  EXPECT_EQ((nb::ones({2}, nb::bfloat16) + 2.5).dtype(), nb::bfloat16);
  EXPECT_EQ((nb::ones({2}, nb::int32) * 3).dtype(), nb::int32);
  EXPECT_EQ((nb::ones({2}, nb::int32) * 2.5).dtype(), nb::float32);
  EXPECT_EQ((nb::ones({2}, nb::int8) / 2).dtype(), nb::float32);
  EXPECT_EQ((nb::ones({2}, nb::float32) + nb::ones({2}, nb::float64)).dtype(), nb::float64);
}

TEST(Half, RoundTripsAndRounds) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.099975586f})
    EXPECT_EQ(float(nb::half(f)), f) << f;
  EXPECT_NEAR(float(nb::half(1e-3f)), 1e-3f, 1e-6f);
  EXPECT_TRUE(std::isinf(float(nb::half(70000.0f))));
  EXPECT_TRUE(std::isnan(float(nb::half(NAN))));
  EXPECT_EQ(float(nb::half(1.0f + 1.0f / 4096)), 1.0f);  // ties to even
  EXPECT_EQ(float(nb::bfloat16_t(1.0f)), 1.0f);
  EXPECT_EQ(float(nb::bfloat16_t(3.140625f)), 3.140625f);
}

TEST(AsType, ConvertsValues) {
  auto t = nb::tensor(std::vector<float>{1.7f, -2.2f, 0.0f});
  EXPECT_EQ(t.astype(nb::int64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 0}));
  EXPECT_EQ(t.astype(nb::bool_).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(t.astype(nb::float16).dtype(), nb::float16);
}
