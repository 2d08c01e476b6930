// Edge cases and error paths of the binary family: broadcasting errors, division by zero,
// sign rules, dtype rules of comparisons and clamp, gradients at ties and bounds.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <limits>

namespace nb = nabla;

namespace {

using BinaryFn = nb::Tensor (*)(const nb::Tensor&, const nb::Tensor&);

template <class T>
std::vector<T> values(const nb::Tensor& t) {
  return t.to_vector<T>();
}

nb::Tensor f64(std::vector<double> v) { return nb::tensor(v); }
nb::Tensor i64(std::vector<int64_t> v) { return nb::tensor(v); }

}  // namespace

TEST(Binary, ShapesThatDoNotBroadcastNameTheOpAndBothShapes) {
  const std::pair<const char*, BinaryFn> ops[] = {{"floor_divide", nb::floor_divide},
                                                  {"remainder", nb::remainder},
                                                  {"pow", nb::pow},
                                                  {"maximum", nb::maximum},
                                                  {"minimum", nb::minimum},
                                                  {"atan2", nb::atan2},
                                                  {"xlogy", nb::xlogy},
                                                  {"eq", nb::eq},
                                                  {"ne", nb::ne},
                                                  {"lt", nb::lt},
                                                  {"le", nb::le},
                                                  {"gt", nb::gt},
                                                  {"ge", nb::ge},
                                                  {"logical_and", nb::logical_and},
                                                  {"logical_or", nb::logical_or},
                                                  {"logical_xor", nb::logical_xor}};
  auto a = nb::ones({2, 3}), b = nb::ones({4});
  for (auto [name, fn] : ops) {
    try {
      fn(a, b);
      ADD_FAILURE() << name << " did not throw";
    } catch (const nb::ShapeError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(std::string("[") + name + "]"), std::string::npos) << msg;
      EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
      EXPECT_NE(msg.find("(4,)"), std::string::npos) << msg;
    }
    EXPECT_THROW(fn(a, nb::Tensor()), nb::ValueError) << name;
  }
  EXPECT_THROW(nb::where(nb::ones({2, 3}, nb::bool_), a, b), nb::ShapeError);
  EXPECT_THROW(nb::lerp(a, b, 0.5), nb::ShapeError);
  EXPECT_THROW(nb::clamp(a, b, nb::Tensor()), nb::ShapeError);
}

TEST(Binary, IntegerDivisionByZeroThrows) {
  auto a = i64({5, -7}), z = i64({1, 0});
  EXPECT_THROW(nb::floor_divide(a, z), nb::ValueError);
  EXPECT_THROW(nb::remainder(a, z), nb::ValueError);
  EXPECT_THROW(nb::floor_divide(a.astype(nb::uint8), 0), nb::ValueError);
  // Floats follow IEEE: inf and NaN.
  auto q = values<double>(nb::floor_divide(f64({1, -1, 0}), 0.0));
  EXPECT_EQ(q[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(q[1], -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(q[2]));
}

TEST(Binary, FloorDivideAndRemainderFollowPythonSigns) {
  auto a = i64({7, -7, 7, -7}), b = i64({2, 2, -2, -2});
  EXPECT_EQ(values<int64_t>(nb::floor_divide(a, b)), (std::vector<int64_t>{3, -4, -4, 3}));
  EXPECT_EQ(values<int64_t>(a % b), (std::vector<int64_t>{1, 1, -1, -1}));
  auto fa = f64({7.5, -7.5, 7.5, -7.5}), fb = f64({2, 2, -2, -2});
  EXPECT_EQ(values<double>(nb::floor_divide(fa, fb)), (std::vector<double>{3, -4, -4, 3}));
  EXPECT_EQ(values<double>(nb::remainder(fa, fb)), (std::vector<double>{1.5, 0.5, -0.5, -1.5}));
  // The lowest value over -1 wraps rather than trapping.
  auto lowest = nb::tensor(std::vector<int32_t>{std::numeric_limits<int32_t>::min()});
  EXPECT_EQ(values<int32_t>(nb::floor_divide(lowest, nb::tensor(std::vector<int32_t>{-1})))[0],
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ(nb::floor_divide(i64({7}), 2).dtype(), nb::int64);
}

TEST(Binary, BoolArithmetic) {
  auto t = nb::tensor(std::vector<bool>{true, true, false, false});
  auto u = nb::tensor(std::vector<bool>{true, false, true, false});
  EXPECT_EQ((t + u).dtype(), nb::bool_);
  EXPECT_EQ(values<int>(t + u), (std::vector<int>{1, 1, 1, 0}));
  EXPECT_EQ(values<int>(t * u), (std::vector<int>{1, 0, 0, 0}));
  EXPECT_THROW(t - u, nb::DTypeError);
  EXPECT_THROW(nb::pow(t, u), nb::DTypeError);
  EXPECT_THROW(nb::floor_divide(t, u), nb::DTypeError);
  EXPECT_EQ((t + 1).dtype(), nb::int64);
}

TEST(Binary, PowDTypes) {
  auto i = i64({2, 3, -2});
  EXPECT_EQ(nb::pow(i, 2).dtype(), nb::int64);
  EXPECT_EQ(values<int64_t>(nb::pow(i, 3)), (std::vector<int64_t>{8, 27, -8}));
  EXPECT_EQ(values<int64_t>(nb::pow(i64({2, 1, -1, -1}), i64({-1, -5, -3, -2}))),
            (std::vector<int64_t>{0, 1, -1, 1}));
  EXPECT_EQ(nb::pow(i, 0.5).dtype(), nb::float32);
  EXPECT_EQ(nb::pow(nb::ones({2}, nb::float16), 2).dtype(), nb::float16);
  EXPECT_EQ(values<double>(nb::pow(2, f64({3, -1}))), (std::vector<double>{8, 0.5}));
}

TEST(Binary, PowGradientAtZeroBase) {
  auto a = f64({0, 0, 2}).requires_grad_();
  auto b = f64({2, 0, 3}).requires_grad_();
  nb::pow(a, b).sum().backward();
  auto gb = values<double>(b.grad());
  EXPECT_EQ(gb[0], 0);
  EXPECT_EQ(gb[1], 0);
  EXPECT_NEAR(gb[2], 8 * std::log(2.0), 1e-12);
  EXPECT_EQ(values<double>(a.grad()), (std::vector<double>{0, 0, 12}));
}

TEST(Binary, MaximumMinimumTiesSplitTheGradient) {
  auto a = f64({1, 2, 3}).requires_grad_();
  auto b = f64({1, 5, 0}).requires_grad_();
  nb::maximum(a, b).sum().backward();
  EXPECT_EQ(values<double>(a.grad()), (std::vector<double>{0.5, 0, 1}));
  EXPECT_EQ(values<double>(b.grad()), (std::vector<double>{0.5, 1, 0}));
  auto c = f64({1, 2, 3}).requires_grad_();
  auto d = f64({1, 5, 0}).requires_grad_();
  nb::minimum(c, d).sum().backward();
  EXPECT_EQ(values<double>(c.grad()), (std::vector<double>{0.5, 1, 0}));
  EXPECT_EQ(values<double>(d.grad()), (std::vector<double>{0.5, 0, 1}));
  double nan = std::nan("");
  EXPECT_TRUE(std::isnan(values<double>(nb::maximum(f64({nan}), f64({1})))[0]));
  EXPECT_TRUE(std::isnan(values<double>(nb::minimum(f64({1}), f64({nan})))[0]));
}

TEST(Compare, PromoteOperandsAndGiveBool) {
  auto i = i64({0, 1, 2});
  auto lt = i < 0.5;  // compared in float32, not 0.5 truncated to 0
  EXPECT_EQ(lt.dtype(), nb::bool_);
  EXPECT_EQ(values<int>(lt), (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(values<int>(i == f64({0, 1.5, 2})), (std::vector<int>{1, 0, 1}));
  EXPECT_EQ(values<int>(2 > i), (std::vector<int>{1, 1, 0}));
  EXPECT_EQ(values<int>(i != 1), (std::vector<int>{1, 0, 1}));
  double nan = std::nan("");
  auto n = f64({nan, 0, 3});
  EXPECT_EQ(values<int>(n == n), (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(values<int>(nb::logical_and(n, i)), (std::vector<int>{0, 0, 1}));
  EXPECT_EQ(values<int>(nb::logical_or(n, i)), (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(values<int>(nb::logical_xor(n, i)), (std::vector<int>{1, 1, 0}));
  auto x = f64({1, 2}).requires_grad_();
  EXPECT_FALSE((x > 1).requires_grad());
}

TEST(Where, ChecksItsCondition) {
  auto a = nb::ones({2, 3}), b = nb::zeros({2, 3});
  EXPECT_THROW(nb::where(nb::ones({2, 3}), a, b), nb::DTypeError);
  EXPECT_THROW(nb::where(nb::Tensor(), a, b), nb::ValueError);
  EXPECT_THROW(nb::where(a > 0, a, nb::Tensor()), nb::ValueError);
  auto cond = nb::tensor(std::vector<bool>{true, false, true}).reshape({1, 3});
  auto w = nb::where(cond, i64({1, 2, 3}), 0.5);  // promotes to float32 like PyTorch
  EXPECT_EQ(w.dtype(), nb::float32);
  EXPECT_EQ(values<float>(w), (std::vector<float>{1, 0.5f, 3}));
  auto x = f64({1, 2, 3}).requires_grad_();
  auto y = f64({4}).requires_grad_();
  nb::where(cond.reshape({3}), x, y).sum().backward();
  EXPECT_EQ(values<double>(x.grad()), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(values<double>(y.grad()), (std::vector<double>{1}));
}

TEST(Clamp, BoundsAndDTypes) {
  auto x = nb::ones({2});
  EXPECT_THROW(nb::clamp(x, std::nullopt, std::nullopt), nb::ValueError);
  EXPECT_THROW(nb::clamp(x, nb::Tensor(), nb::Tensor()), nb::ValueError);
  EXPECT_THROW(nb::clamp(x.astype(nb::bool_), 0, 1), nb::DTypeError);
  EXPECT_THROW(nb::clamp(x, std::nan(""), 1.0), nb::ValueError);
  auto i = i64({-5, 0, 5});
  EXPECT_EQ(nb::clamp(i, -1, 1).dtype(), nb::int64);
  EXPECT_EQ(values<int64_t>(nb::clamp(i, -1, 1)), (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(nb::clamp(i, -1.5, 1).dtype(), nb::float32);
  EXPECT_EQ(values<int>(nb::clamp(i.astype(nb::uint8), -3, 1e10)), (std::vector<int>{251, 0, 5}));
  EXPECT_EQ(values<double>(nb::clamp(f64({-5, 5}), 2, 1)), (std::vector<double>{1, 1}));
  EXPECT_TRUE(std::isnan(values<double>(nb::clamp(f64({std::nan("")}), 0, 1))[0]));
}

TEST(Clamp, GradientFlowsInsideTheBounds) {
  auto x = f64({-2, -1, 0, 1, 2}).requires_grad_();
  nb::clamp(x, -1, 1).sum().backward();
  EXPECT_EQ(values<double>(x.grad()), (std::vector<double>{0, 1, 1, 1, 0}));
  auto y = f64({-2, 0, 2}).requires_grad_();
  auto lo = f64({-1}).requires_grad_();
  auto hi = f64({1, 1, 1}).requires_grad_();
  nb::clamp(y, lo, hi).sum().backward();
  EXPECT_EQ(values<double>(y.grad()), (std::vector<double>{0, 1, 0}));
  EXPECT_EQ(values<double>(lo.grad()), (std::vector<double>{1}));
  EXPECT_EQ(values<double>(hi.grad()), (std::vector<double>{0, 0, 1}));
}

TEST(Lerp, ExactEndsAndDTypes) {
  auto a = f64({1e16, -3}), b = f64({1, 7});
  EXPECT_EQ(values<double>(nb::lerp(a, b, 1.0)), values<double>(b));
  EXPECT_EQ(values<double>(nb::lerp(a, b, 0.0)), values<double>(a));
  EXPECT_THROW(nb::lerp(i64({1}), i64({2}), i64({0})), nb::DTypeError);
  EXPECT_EQ(nb::lerp(i64({1}), i64({2}), 0.5).dtype(), nb::float32);
  EXPECT_THROW(nb::lerp(a, b, nb::Tensor()), nb::ValueError);
}

TEST(Binary, ScalarOperandOnLargeStridedInput) {
  // Exercises the loop that holds a zero-stride operand in a register, threaded and not.
  auto x = nb::arange(0, 200000, 1, nb::float32).reshape({400, 500});
  auto xt = x.t();  // non-contiguous
  auto y = xt * 2 + 1;
  auto v = values<float>(y.contiguous());
  auto src = values<float>(xt.contiguous());
  for (std::size_t k = 0; k < v.size(); k += 997) ASSERT_EQ(v[k], src[k] * 2 + 1);
  auto row = nb::arange(0, 500, 1, nb::float32).reshape({1, 500});
  auto col = nb::arange(0, 400, 1, nb::float32).reshape({400, 1});
  auto s = values<float>(col - row);
  EXPECT_EQ(s[0], 0);
  EXPECT_EQ(s[1], -1);
  EXPECT_EQ(s[500], 1);
  EXPECT_EQ(s[399 * 500 + 499], 399 - 499);
}
