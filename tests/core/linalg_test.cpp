// matmul, dot, outer and einsum: error paths (typed errors with the op and shapes), layouts
// the kernels take without copies, and results against float64 products.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>

namespace nb = nabla;

namespace {

// Deterministic values in about [-1, 1) that are not all alike.
nb::Tensor values(const nb::Shape& shape, double phase = 0) {
  std::vector<double> v(std::size_t(nb::numel_of(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * double(i) + phase);
  return nb::tensor(v, shape);
}

void expect_near_all(const nb::Tensor& got, const nb::Tensor& want, double tol) {
  ASSERT_EQ(got.shape(), want.shape());
  auto g = got.to_vector<double>(), w = want.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (1 + std::fabs(w[i]))) << i;
}

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const nb::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Matmul, ShapeErrorNamesBothShapes) {
  auto a = nb::zeros({12, 18}), b = nb::zeros({19, 56});
  EXPECT_THROW(nb::matmul(a, b), nb::ShapeError);
  EXPECT_EQ(message_of([&] { nb::matmul(a, b); }),
            "[matmul] cannot multiply (12, 18) by (19, 56): 18 != 19");
  EXPECT_THROW(nb::matmul(nb::zeros({3}), nb::zeros({4})), nb::ShapeError);
  EXPECT_THROW(nb::matmul(nb::zeros({3}), nb::zeros({4, 3})), nb::ShapeError);
  EXPECT_THROW(nb::matmul(nb::zeros({2, 3}), nb::zeros({2})), nb::ShapeError);
  EXPECT_THROW(nb::matmul(nb::zeros({}), nb::zeros({2})), nb::ShapeError);
  EXPECT_THROW(nb::matmul(nb::zeros({2, 2}), nb::zeros({})), nb::ShapeError);
}

TEST(Matmul, BatchDimsMustBroadcast) {
  std::string msg = message_of([] { nb::matmul(nb::zeros({2, 3, 4}), nb::zeros({5, 4, 2})); });
  EXPECT_EQ(
      msg,
      "[matmul] cannot multiply (2, 3, 4) by (5, 4, 2): batch dims (2,) and (5,) do not broadcast");
  EXPECT_THROW(nb::matmul(nb::zeros({2, 3, 4}), nb::zeros({5, 4, 2})), nb::ShapeError);
  EXPECT_NO_THROW(nb::matmul(nb::zeros({2, 1, 3, 4}), nb::zeros({5, 4, 2})));
  EXPECT_EQ(nb::matmul(nb::zeros({2, 1, 3, 4}), nb::zeros({5, 4, 2})).shape(),
            (nb::Shape{2, 5, 3, 2}));
}

TEST(Matmul, BoolIsADTypeError) {
  auto t = nb::ones({2, 2}, nb::bool_);
  EXPECT_THROW(nb::matmul(t, t), nb::DTypeError);
}

TEST(Matmul, UndefinedOperandIsAnError) {
  EXPECT_THROW(nb::matmul(nb::Tensor(), nb::ones({2, 2})), nb::ValueError);
}

TEST(Matmul, PromotesMixedDTypes) {
  auto a = nb::ones({2, 3}, nb::float32), b = nb::ones({3, 2}, nb::float64);
  auto c = nb::matmul(a, b);
  EXPECT_EQ(c.dtype(), nb::float64);
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{3, 3, 3, 3}));
  EXPECT_EQ(nb::matmul(nb::ones({2, 3}, nb::int32), nb::ones({3, 2}, nb::int64)).dtype(),
            nb::int64);
}

TEST(Matmul, OneDimensionalRules) {
  EXPECT_EQ(nb::matmul(nb::ones({4}), nb::ones({4})).shape(), nb::Shape{});
  EXPECT_EQ(nb::matmul(nb::ones({4}), nb::ones({4, 3})).shape(), nb::Shape{3});
  EXPECT_EQ(nb::matmul(nb::ones({3, 4}), nb::ones({4})).shape(), nb::Shape{3});
  EXPECT_EQ(nb::matmul(nb::ones({4}), nb::ones({2, 4, 3})).shape(), (nb::Shape{2, 3}));
  EXPECT_EQ(nb::matmul(nb::ones({2, 3, 4}), nb::ones({4})).shape(), (nb::Shape{2, 3}));
  EXPECT_FLOAT_EQ(nb::matmul(nb::ones({4}), nb::ones({4})).item<float>(), 4.0f);
}

// float32 through oneDNN for every layout the kernel meets, against float64 products.
TEST(Matmul, Float32LayoutsMatchFloat64) {
  auto a64 = values({70, 90}), b64 = values({90, 50}, 1.0);
  auto want = nb::matmul(a64, b64);
  auto a = a64.astype(nb::float32), b = b64.astype(nb::float32);
  auto at = a.t().contiguous().t(), bt = b.t().contiguous().t();  // column-major views
  expect_near_all(nb::matmul(a, b), want, 1e-5);
  expect_near_all(nb::matmul(at, b), want, 1e-5);
  expect_near_all(nb::matmul(a, bt), want, 1e-5);
  expect_near_all(nb::matmul(at, bt), want, 1e-5);
  // Row slices keep a leading dimension larger than the width; strided slices need a copy.
  auto wide = values({70, 120}).astype(nb::float32);
  expect_near_all(nb::matmul(wide.slice(1, 10, 100), b),
                  nb::matmul(values({70, 120}).slice(1, 10, 100), b64), 1e-5);
  auto stepped = values({70, 180}).astype(nb::float32).slice(1, 0, 180, 2);
  expect_near_all(nb::matmul(stepped, b), nb::matmul(values({70, 180}).slice(1, 0, 180, 2), b64),
                  1e-5);
  // Expanded (stride 0) operands.
  auto row = values({1, 90}).astype(nb::float32).expand({70, 90});
  expect_near_all(nb::matmul(row, b), nb::matmul(values({1, 90}).expand({70, 90}), b64), 1e-5);
}

TEST(Matmul, BatchedFoldsAndBroadcasts) {
  auto a64 = values({4, 30, 20}), b64 = values({20, 10}, 2.0);
  auto want = nb::matmul(a64, b64);
  expect_near_all(nb::matmul(a64.astype(nb::float32), b64.astype(nb::float32)), want, 1e-5);
  // A transposed batch cannot fold into one GEMM.
  auto ap = values({30, 4, 20}).permute({1, 0, 2});
  expect_near_all(nb::matmul(ap.astype(nb::float32), b64.astype(nb::float32)), nb::matmul(ap, b64),
                  1e-5);
  // Many small products run in parallel over the batch.
  auto x = values({300, 5, 6}), y = values({300, 6, 4}, 0.5);
  expect_near_all(nb::matmul(x.astype(nb::float32), y.astype(nb::float32)), nb::matmul(x, y), 1e-5);
}

TEST(Matmul, LowPrecisionIsCloseToFloat32) {
  auto a = values({64, 96}), b = values({96, 48}, 0.3);
  auto want = nb::matmul(a, b);
  // Rounding the inputs alone moves each product by up to 2^-9 (bfloat16) or 2^-11 (float16).
  expect_near_all(nb::matmul(a.astype(nb::bfloat16), b.astype(nb::bfloat16)).astype(nb::float64),
                  want, 8e-2);
  expect_near_all(nb::matmul(a.astype(nb::float16), b.astype(nb::float16)).astype(nb::float64),
                  want, 1e-2);
  // Small integers are exact in bfloat16, and so are their sums here.
  auto ia = nb::arange(-20, 28, 1, nb::float64).reshape({6, 8}),
       ib = nb::arange(-12, 12, 1, nb::float64).reshape({8, 3});
  EXPECT_EQ(nb::matmul(ia.astype(nb::bfloat16), ib.astype(nb::bfloat16)).to_vector<double>(),
            nb::matmul(ia, ib).astype(nb::bfloat16).to_vector<double>());
  auto bt = b.astype(nb::bfloat16).t().contiguous().t();
  expect_near_all(nb::matmul(a.astype(nb::bfloat16), bt).astype(nb::float64), want, 8e-2);
  auto batched =
      nb::matmul(values({3, 8, 16}).astype(nb::bfloat16), values({3, 16, 8}).astype(nb::bfloat16));
  expect_near_all(batched.astype(nb::float64), nb::matmul(values({3, 8, 16}), values({3, 16, 8})),
                  8e-2);
}

TEST(Matmul, LargeFloat64AndIntegers) {
  auto a = values({150, 300}), b = values({300, 270}, 0.7);
  auto c = nb::matmul(a, b);
  auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  for (int64_t i : {0, 77, 149})
    for (int64_t j : {0, 133, 269}) {
      double s = 0;
      for (int64_t k = 0; k < 300; ++k)
        s += av[std::size_t(i * 300 + k)] * bv[std::size_t(k * 270 + j)];
      EXPECT_NEAR(c.to_vector<double>()[std::size_t(i * 270 + j)], s, 1e-10);
    }
  auto ia = nb::arange(12, nb::int64).reshape({3, 4}),
       ib = nb::arange(8, nb::int64).reshape({4, 2});
  EXPECT_EQ(nb::matmul(ia, ib).to_vector<int64_t>(),
            (std::vector<int64_t>{28, 34, 76, 98, 124, 162}));
}

TEST(Matmul, SecondOrderGradient) {
  // f(a) = sum((a b)^2): df/da = 2 (a b) b^T; its gradient along a direction is linear in a.
  auto a = values({3, 4}).requires_grad_(), b = values({4, 2}, 1.0);
  auto y = nb::matmul(a, b);
  (y * y).sum().backward({}, /*retain_graph=*/true, /*create_graph=*/true);
  auto g = a.grad();
  expect_near_all(g.detach(), nb::matmul(nb::matmul(a.detach(), b), b.t()) * 2.0, 1e-12);
  a.zero_grad();
  g.sum().backward();
  expect_near_all(a.grad(), nb::matmul(nb::matmul(nb::ones({3, 4}, nb::float64), b), b.t()) * 2.0,
                  1e-12);
}

TEST(Dot, ChecksShapes) {
  EXPECT_THROW(nb::dot(nb::ones({3}), nb::ones({4})), nb::ShapeError);
  EXPECT_THROW(nb::dot(nb::ones({3, 1}), nb::ones({3})), nb::ShapeError);
  EXPECT_EQ(message_of([] { nb::dot(nb::ones({3}), nb::ones({4})); }),
            "[dot] expects two 1-d tensors of equal length, got (3,) and (4,)");
  EXPECT_FLOAT_EQ(nb::dot(nb::ones({3}), nb::ones({3}) * 2).item<float>(), 6.0f);
}

TEST(Outer, ChecksShapes) {
  EXPECT_THROW(nb::outer(nb::ones({3, 1}), nb::ones({3})), nb::ShapeError);
  EXPECT_EQ(nb::outer(nb::ones({3}), nb::ones({5})).shape(), (nb::Shape{3, 5}));
}

TEST(Einsum, ErrorsAreTyped) {
  auto m = nb::ones({3, 4});
  EXPECT_THROW(nb::einsum("ij,jk->ik", {m}), nb::ValueError);             // operand count
  EXPECT_THROW(nb::einsum("i1->i", {nb::ones({3, 4})}), nb::ValueError);  // bad subscript
  EXPECT_THROW(nb::einsum("ijk->i", {m}), nb::ShapeError);                // too many subscripts
  EXPECT_THROW(nb::einsum("i->i", {m}), nb::ShapeError);                  // too few
  EXPECT_THROW(nb::einsum("ij,jk->ik", {m, nb::ones({5, 2})}), nb::ShapeError);  // j: 4 vs 5
  EXPECT_THROW(nb::einsum("ii->i", {m}), nb::ShapeError);   // non-square diagonal
  EXPECT_THROW(nb::einsum("ij->k", {m}), nb::ValueError);   // k is in no operand
  EXPECT_THROW(nb::einsum("ij->ii", {m}), nb::ValueError);  // repeated output
  EXPECT_THROW(nb::einsum("ij", {nb::Tensor()}), nb::ValueError);
  EXPECT_EQ(message_of([&] {
              nb::einsum("ij,jk->ik", {m, nb::ones({5, 2})});
            }),
            "[einsum] subscript 'j' has size 4 and 5 in \"ij,jk->ik\"");
}

TEST(Einsum, ShapesAndBroadcasting) {
  EXPECT_EQ(nb::einsum("ij->", {nb::ones({3, 4})}).shape(), nb::Shape{});
  EXPECT_EQ(nb::einsum("ij,jk", {nb::ones({3, 4}), nb::ones({4, 2})}).shape(), (nb::Shape{3, 2}));
  EXPECT_EQ(nb::einsum("ba", {nb::ones({3, 4})}).shape(), (nb::Shape{4, 3}));  // implicit: sorted
  EXPECT_EQ(nb::einsum("...ij,jk->...ik", {nb::ones({2, 5, 3, 4}), nb::ones({4, 6})}).shape(),
            (nb::Shape{2, 5, 3, 6}));
  // "..." dims broadcast like NumPy, size-1 against size-n.
  auto r = nb::einsum("...ij,...jk->...ik", {nb::ones({2, 1, 3, 4}), nb::ones({5, 4, 2})});
  EXPECT_EQ(r.shape(), (nb::Shape{2, 5, 3, 2}));
  EXPECT_EQ(r.to_vector<float>()[0], 4.0f);
  auto x = values({2, 3, 4}), y = values({2, 4, 5}, 0.4);
  expect_near_all(nb::einsum("bij,bjk->bik", {x, y}), nb::matmul(x, y), 1e-12);
  expect_near_all(nb::einsum("bij->bji", {x}), x.transpose(1, 2), 0);
  auto sq = values({4, 4});
  double trace = 0;
  for (int i = 0; i < 4; ++i) trace += sq.to_vector<double>()[std::size_t(i * 5)];
  EXPECT_NEAR(nb::einsum("ii", {sq}).item<double>(), trace, 1e-12);
}

}  // namespace
