// Unary ops: dtype rules, special values, PyTorch's edge semantics and error paths.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <limits>

namespace nabla {
namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Unary, UndefinedInputThrowsValueError) {
  Tensor u;
  EXPECT_THROW(exp(u), ValueError);
  EXPECT_THROW(neg(u), ValueError);
  EXPECT_THROW(-u, ValueError);
  EXPECT_THROW(floor(u), ValueError);
  EXPECT_THROW(isnan(u), ValueError);
  EXPECT_THROW(relu(u), ValueError);
  EXPECT_THROW(gelu(u, "tanh"), ValueError);
}

TEST(Unary, BoolRejectedByArithmetic) {
  Tensor b = tensor(std::vector<bool>{true, false});
  EXPECT_THROW(neg(b), DTypeError);
  EXPECT_THROW(abs(b), DTypeError);
  EXPECT_THROW(square(b), DTypeError);
  EXPECT_THROW(relu(b), DTypeError);
  try {
    neg(b);
  } catch (const DTypeError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[neg]", 0), 0u) << e.what();
  }
  EXPECT_EQ(sign(b).dtype(), bool_);
}

TEST(Unary, BadAttributesThrowValueError) {
  Tensor x = ones({3});
  EXPECT_THROW(gelu(x, "erf"), ValueError);
  EXPECT_THROW(hardtanh(x, 1.0, -1.0), ValueError);
  EXPECT_THROW(softplus(x, 0.0), ValueError);
}

TEST(Unary, IntegersPromoteToFloat32ForFloatMath) {
  Tensor i = tensor(std::vector<int64_t>{0, 1, 4});
  Tensor s = sqrt(i);
  EXPECT_EQ(s.dtype(), float32);
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(exp(tensor(std::vector<bool>{false})).dtype(), float32);
  EXPECT_EQ(sigmoid(i).dtype(), float32);
  EXPECT_EQ(gelu(i).dtype(), float32);
}

TEST(Unary, IntegerDTypesKeptWhereDefined) {
  Tensor i = tensor(std::vector<int32_t>{-3, 0, 2});
  EXPECT_EQ(neg(i).dtype(), int32);
  EXPECT_EQ(abs(i).to_vector<int32_t>(), (std::vector<int32_t>{3, 0, 2}));
  EXPECT_EQ(sign(i).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 1}));
  EXPECT_EQ(square(i).to_vector<int32_t>(), (std::vector<int32_t>{9, 0, 4}));
  EXPECT_EQ(relu(i).to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 2}));
  Tensor f = floor(i);
  EXPECT_EQ(f.dtype(), int32);
  EXPECT_FALSE(f.shares_storage(i));  // a copy, like PyTorch
  EXPECT_EQ(isnan(i).to_vector<bool>(), (std::vector<bool>{false, false, false}));
  EXPECT_EQ(isfinite(i).to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(logical_not(i).to_vector<bool>(), (std::vector<bool>{false, true, false}));
}

TEST(Unary, RoundHalfToEven) {
  Tensor x = tensor(std::vector<float>{0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.6f});
  EXPECT_EQ(round(x).to_vector<float>(), (std::vector<float>{0, 2, 2, -0.0f, -2, -2, 3}));
  EXPECT_EQ(round(x.astype(float16)).to_vector<float>(),
            (std::vector<float>{0, 2, 2, -0.0f, -2, -2, 3}));
}

TEST(Unary, SpecialValues) {
  for (DType t : {float32, float64, float16, bfloat16}) {
    Tensor x = tensor(std::vector<double>{kNaN, kInf, -kInf, 0.0}).astype(t);
    EXPECT_EQ(isnan(x).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
    EXPECT_EQ(isinf(x).to_vector<bool>(), (std::vector<bool>{false, true, true, false}));
    EXPECT_EQ(isfinite(x).to_vector<bool>(), (std::vector<bool>{false, false, false, true}));
    EXPECT_EQ(logical_not(x).to_vector<bool>(), (std::vector<bool>{false, false, false, true}));
    std::vector<double> e = exp(x).to_vector<double>();
    EXPECT_TRUE(std::isnan(e[0]));
    EXPECT_EQ(e[1], kInf);
    EXPECT_EQ(e[2], 0.0);
    EXPECT_EQ(e[3], 1.0);
    std::vector<double> th = tanh(x).to_vector<double>();
    EXPECT_TRUE(std::isnan(th[0]));
    EXPECT_EQ(th[1], 1.0);
    EXPECT_EQ(th[2], -1.0);
    std::vector<double> sg = sigmoid(x).to_vector<double>();
    EXPECT_EQ(sg[1], 1.0);
    EXPECT_EQ(sg[2], 0.0);
    EXPECT_EQ(sg[3], 0.5);
    EXPECT_TRUE(std::isnan(relu(x).to_vector<double>()[0]));  // NaN propagates
    EXPECT_EQ(sign(x).to_vector<double>(),
              (std::vector<double>{0, 1, -1, 0}));  // PyTorch: sign(NaN) = 0
    EXPECT_EQ(softplus(x).to_vector<double>()[1], kInf);
    EXPECT_EQ(mish(x).to_vector<double>()[1], kInf);
  }
}

TEST(Unary, FloatExpAccurateOverItsRange) {
  // The vectorised float exp against libm across overflow, normal and subnormal results.
  std::vector<float> v;
  for (float a = -110.0f; a < 90.0f; a += 0.0137f) v.push_back(a);
  std::vector<float> got = exp(tensor(v)).to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    float want = std::exp(v[i]);
    if (want > 1e-37f && want < 3e38f)
      EXPECT_NEAR(got[i], want, 3e-7f * want) << v[i];
    else if (std::isinf(want))
      EXPECT_TRUE(std::isinf(got[i])) << v[i];
    else
      EXPECT_NEAR(got[i], want, 1e-38f) << v[i];
  }
}

TEST(Unary, FloatLogAccurateOverItsRange) {
  // The vectorised float log and log1p against libm, subnormals and special values included.
  std::vector<float> v = {0.0f,      -0.0f, -1.0f, 1e-45f,   1e-40f,
                          1.17e-38f, 1.0f,  3e38f, INFINITY, NAN};
  for (float a = 1e-6f; a < 1e7f; a *= 1.0173f) v.push_back(a);
  std::vector<float> got = log(tensor(v)).to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    float want = std::log(v[i]);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(got[i])) << v[i];
    else if (std::isinf(want))
      EXPECT_EQ(got[i], want) << v[i];
    else
      EXPECT_NEAR(got[i], want, 2.5e-7f * std::fabs(want) + 1e-7f) << v[i];
  }
  std::vector<float> u = {-1.0f, -2.0f, 0.0f, 1e-30f, -1e-8f, 1e-5f, -0.5f, 0.3f, 1e30f, INFINITY};
  std::vector<float> got1p = log1p(tensor(u)).to_vector<float>();
  for (std::size_t i = 0; i < u.size(); ++i) {
    float want = std::log1p(u[i]);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(got1p[i])) << u[i];
    else if (std::isinf(want))
      EXPECT_EQ(got1p[i], want) << u[i];
    else
      EXPECT_NEAR(got1p[i], want, 3e-7f * std::fabs(want)) << u[i];
  }
}

TEST(Unary, GradientsAtKinksFollowPyTorch) {
  Tensor x = tensor(std::vector<double>{-1.0, 0.0, 1.0}).requires_grad_();
  relu(x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1}));
  x.zero_grad();
  leaky_relu(x, 0.25).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.25, 0.25, 1}));
  x.zero_grad();
  hardtanh(x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0}));
  x.zero_grad();
  abs(x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{-1, 0, 1}));
  x.zero_grad();
  floor(x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 0}));
}

TEST(Unary, SecondDerivativeOfTanh) {
  Tensor x = tensor(std::vector<double>{0.3, -1.2}).requires_grad_();
  Tensor y = tanh(x).sum();
  y.backward(Tensor(), /*retain_graph=*/true, /*create_graph=*/true);
  Tensor g = x.grad();
  x.zero_grad();
  g.sum().backward();
  std::vector<double> h = x.grad().to_vector<double>();
  for (int i = 0; i < 2; ++i) {
    double v = i == 0 ? 0.3 : -1.2, t = std::tanh(v);
    EXPECT_NEAR(h[std::size_t(i)], -2 * t * (1 - t * t), 1e-12);
  }
}

TEST(Unary, PredicatesAreNotRecordedForAutograd) {
  Tensor x = ones({2, 3}).requires_grad_();
  EXPECT_TRUE(gelu(x, "tanh").requires_grad());
  Tensor p = isnan(x);
  EXPECT_EQ(p.dtype(), bool_);
  EXPECT_FALSE(p.requires_grad());
}

}  // namespace
}  // namespace nabla
