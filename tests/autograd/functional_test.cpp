#include <gtest/gtest.h>

#include <cmath>

#include <nabla/nabla.h>

namespace nb = nabla;

namespace {
std::vector<double> v(const nb::Tensor& t) { return t.to_vector<double>(); }
nb::Tensor vec(std::vector<double> x) { return nb::tensor(x); }
}  // namespace

TEST(Functional, GradOfCubeAndSecondOrder) {
  auto cube = [](const nb::Tensor& t) { return (t * t * t).sum(); };
  auto x = vec({1, -2, 3});
  EXPECT_EQ(v(nb::grad(cube)(x)), (std::vector<double>{3, 12, 27}));
  EXPECT_EQ(v(nb::grad([&](const nb::Tensor& t) { return nb::grad(cube)(t).sum(); })(x)),
            (std::vector<double>{6, -12, 18}));
  EXPECT_FALSE(x.requires_grad());  // transforms leave their inputs alone
}

TEST(Functional, GradArgnumsAndValueAndGrad) {
  auto f = [](const std::vector<nb::Tensor>& a) { return (a[0] * a[1] + a[1]).sum(); };
  auto g = nb::grad(f, {0, 1})({vec({1, 2}), vec({3, 4})});
  EXPECT_EQ(v(g[0]), (std::vector<double>{3, 4}));
  EXPECT_EQ(v(g[1]), (std::vector<double>{2, 3}));
  auto [val, dx] = nb::value_and_grad([](const nb::Tensor& t) { return (t * t).sum(); })(vec({3}));
  EXPECT_EQ(val.item<double>(), 9);
  EXPECT_EQ(dx.item<double>(), 6);
  EXPECT_THROW(nb::grad([](const nb::Tensor& t) { return t * 2; })(vec({1, 2})), nb::AutogradError);
  EXPECT_THROW(nb::grad(f, {2})({vec({1}), vec({1})}), nb::IndexError);
}

TEST(Functional, VjpJvpJacobianHessian) {
  // f(x, y) = x * y (elementwise): J_x = diag(y), J_y = diag(x).
  auto f = [](const std::vector<nb::Tensor>& a) { return a[0] * a[1]; };
  auto x = vec({1, 2}), y = vec({3, 4});
  auto [out, g] = nb::vjp(f, {x, y}, vec({1, 10}));
  EXPECT_EQ(v(out), (std::vector<double>{3, 8}));
  EXPECT_EQ(v(g[0]), (std::vector<double>{3, 40}));
  EXPECT_EQ(v(g[1]), (std::vector<double>{1, 20}));
  auto [o2, t] = nb::jvp(f, {x, y}, {vec({1, 0}), vec({0, 1})});
  EXPECT_EQ(v(t), (std::vector<double>{3, 2}));  // y*dx + x*dy
  auto J = nb::jacobian([](const nb::Tensor& a) { return a * a; }, x);
  EXPECT_EQ(J.shape(), nb::Shape({2, 2}));
  EXPECT_EQ(v(J), (std::vector<double>{2, 0, 0, 4}));
  // f = sum(x^2 * x[0]): H = [[6 x0, 2 x1], [2 x1, 2 x0]]
  auto H = nb::hessian([](const nb::Tensor& a) { return (a * a * a.slice(0, 0, 1)).sum(); }, x);
  EXPECT_EQ(v(H), (std::vector<double>{6, 4, 4, 2}));
}

TEST(Functional, GradientsWithCreateGraph) {
  auto x = vec({2}).requires_grad_();
  auto y = x * x * x;
  auto dy = nb::gradients(y.sum(), {x}, nb::Tensor(), {.create_graph = true})[0];
  EXPECT_EQ(dy.item<double>(), 12);
  auto d2 = nb::gradients(dy.sum(), {x})[0];
  EXPECT_EQ(d2.item<double>(), 12);
  EXPECT_FALSE(x.grad().defined());  // gradients() does not accumulate
  auto z = vec({1}).requires_grad_();
  EXPECT_THROW(nb::gradients((x * 2).sum(), {z}), nb::AutogradError);
  EXPECT_FALSE(nb::gradients((x * 2).sum(), {z}, nb::Tensor(), {.allow_unused = true})[0].defined());
}

TEST(Functional, IntegerInputsAreNotDifferentiable) {
  auto f = [](const nb::Tensor& t) { return t.sum().astype(nb::float32); };
  try {
    nb::grad(f)(nb::arange(3));
    FAIL();
  } catch (const nb::AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("int64"), std::string::npos);
  }
}

TEST(Functional, BroadcastGradientsReduceToInputShape) {
  auto a = nb::ones({3, 1}).requires_grad_(), b = nb::ones({4}).requires_grad_();
  (a * b).sum().backward();
  EXPECT_EQ(a.grad().shape(), nb::Shape({3, 1}));
  EXPECT_EQ(v(a.grad()), (std::vector<double>{4, 4, 4}));
  EXPECT_EQ(v(b.grad()), (std::vector<double>{3, 3, 3, 3}));
}

TEST(Functional, DynamicControlFlow) {
  // The graph is whatever the C++ ran: a loop and a branch decided by values.
  auto f = [](const nb::Tensor& x) {
    nb::Tensor y = x;
    for (int i = 0; i < 3; ++i) y = y * x;
    if (y.sum().item<double>() > 10) y = y * 2;
    return y.sum();
  };
  EXPECT_EQ(nb::grad(f)(vec({1})).item<double>(), 4);      // x^4
  EXPECT_EQ(nb::grad(f)(vec({2})).item<double>(), 64);     // 2 x^4
}
