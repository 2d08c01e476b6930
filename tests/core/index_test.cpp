// Indexing, joining, padding and sorting: error paths name the op and the values at fault;
// a few semantics the op table's random samples do not pin down (NaN order, ties, views).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <limits>

namespace nb = nabla;

namespace {

nb::Tensor I64(std::vector<int64_t> v, nb::Shape s) { return nb::tensor(v, s); }
nb::Tensor F32(std::vector<float> v, nb::Shape s) { return nb::tensor(v, s); }

template <class E, class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    std::string msg = e.what();
    for (const std::string& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

}  // namespace

TEST(Join, ConcatErrorsNameTheShapes) {
  auto a = nb::ones({2, 3}), b = nb::ones({4, 2});
  expect_error<nb::ShapeError>([&] { nb::concat({a, b}, 0); }, {"[concat]", "(2, 3)", "(4, 2)"});
  expect_error<nb::ShapeError>(
      [&] {
        nb::concat({a, nb::ones({2, 3, 1})}, 0);
      },
      {"[concat]", "(2, 3, 1)"});
  expect_error<nb::IndexError>([&] { nb::concat({a, a}, 2); }, {"[concat]", "axis 2"});
  EXPECT_THROW(nb::concat({}, 0), nb::ValueError);
  EXPECT_THROW(nb::concat({nb::scalar(1, nb::float32), nb::scalar(2, nb::float32)}, 0),
               nb::ShapeError);
  EXPECT_THROW(nb::concat({a, nb::Tensor()}, 0), nb::ValueError);
  expect_error<nb::ShapeError>([&] { nb::stack({a, b}); }, {"[stack]", "(2, 3)", "(4, 2)"});
  EXPECT_THROW(nb::stack({a, a}, 3), nb::IndexError);
}

TEST(Join, ConcatPromotesAndSkipsEmptyVectors) {
  auto c = nb::concat({nb::ones({2}, nb::int32), nb::ones({1}, nb::float32)});
  EXPECT_EQ(c.dtype(), nb::float32);
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{1, 1, 1}));
  auto d = nb::concat({nb::ones({2, 2}), nb::zeros({0}), nb::zeros({1, 2})}, -2);
  EXPECT_EQ(d.shape(), (nb::Shape{3, 2}));
  auto s = nb::stack({nb::arange(3), nb::arange(3)}, -1);
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
}

TEST(Join, SplitAndChunkAreViews) {
  auto x = nb::arange(10, nb::float32).reshape({5, 2});
  auto parts = nb::chunk(x, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].shape(), (nb::Shape{2, 2}));
  EXPECT_EQ(parts[2].shape(), (nb::Shape{1, 2}));
  for (const auto& p : parts) EXPECT_TRUE(p.shares_storage(x));
  EXPECT_EQ(nb::split(x, 2, -2).size(), 3u);
  EXPECT_EQ(nb::chunk(nb::arange(6), 4).size(), 3u);  // torch: pieces of 2
  auto pieces = nb::split(x, std::vector<int64_t>{1, 4}, 0);
  EXPECT_EQ(pieces[1].to_vector<float>()[0], 2.0f);
  expect_error<nb::ShapeError>(
      [&] {
        nb::split(x, std::vector<int64_t>{1, 3}, 0);
      },
      {"[split]", "sum to 4", "(5, 2)"});
  EXPECT_THROW(nb::split(x, 0, 0), nb::ValueError);
  EXPECT_THROW(nb::chunk(x, 0), nb::ValueError);
  EXPECT_THROW(nb::split(x, 1, 2), nb::IndexError);
}

TEST(Index, OutOfRangeIndicesThrowWithValueAndSize) {
  auto x = nb::ones({4, 3});
  expect_error<nb::IndexError>(
      [&] {
        nb::gather(x, 0, I64({0, 4, 1}, {1, 3}));
      },
      {"[gather]", "index 4", "size 4"});
  expect_error<nb::IndexError>(
      [&] {
        nb::gather(x, 1, I64({-4}, {1, 1}));
      },
      {"[gather]", "index -4", "size 3"});
  expect_error<nb::IndexError>(
      [&] {
        nb::index_select(x, 0, I64({1, 9}, {2}));
      },
      {"[index_select]", "index 9", "size 4"});
  expect_error<nb::IndexError>(
      [&] {
        nb::scatter(x, 0, I64({5}, {1, 1}), nb::ones({1, 1}));
      },
      {"[scatter]", "index 5"});
  expect_error<nb::IndexError>(
      [&] {
        nb::scatter_add(x, 1, I64({-7}, {1, 1}), nb::ones({1, 1}));
      },
      {"[scatter_add]", "index -7", "size 3"});
  expect_error<nb::IndexError>(
      [&] {
        nb::take_along_axis(x, I64({3}, {1, 1}), 1);
      },
      {"[gather]", "index 3"});
  // An empty dim admits no index at all.
  EXPECT_THROW(nb::index_select(nb::ones({0, 2}), 0, I64({0}, {1})), nb::IndexError);
}

TEST(Index, WrongIndexDtypeAndShape) {
  auto x = nb::ones({4, 3});
  expect_error<nb::DTypeError>(
      [&] {
        nb::gather(x, 0, F32({0}, {1, 1}));
      },
      {"[gather]", "float32"});
  EXPECT_THROW(nb::index_select(x, 0, nb::ones({2}, nb::bool_)), nb::DTypeError);
  EXPECT_THROW(nb::scatter(x, 0, F32({0}, {1, 1}), x), nb::DTypeError);
  EXPECT_EQ(nb::gather(x, 0, nb::tensor(std::vector<int32_t>{1, 2}, {1, 2})).shape(),
            (nb::Shape{1, 2}));
  expect_error<nb::ShapeError>([&] { nb::gather(x, 0, I64({0}, {1})); },
                               {"[gather]", "(1,)", "(4, 3)"});
  EXPECT_THROW(nb::gather(x, 0, I64({0, 0, 0, 0}, {1, 4})), nb::ShapeError);  // 4 > 3 in dim 1
  EXPECT_THROW(nb::scatter(x, 0, I64({0, 0}, {1, 2}), nb::ones({1, 1})), nb::ShapeError);
  EXPECT_THROW(nb::index_select(x, 0, I64({0, 1}, {1, 2})), nb::ShapeError);
  EXPECT_THROW(nb::take_along_axis(x, I64({0, 0}, {2, 1}), 1), nb::ShapeError);
  EXPECT_THROW(nb::gather(x, 2, I64({0}, {1, 1})), nb::IndexError);
  EXPECT_THROW(nb::index_select(x, -3, I64({0}, {1})), nb::IndexError);
  EXPECT_THROW(nb::masked_fill(x, nb::ones({4, 3}), 0), nb::DTypeError);
  EXPECT_THROW(nb::masked_fill(x, nb::ones({2}, nb::bool_), 0), nb::ShapeError);
}

TEST(Index, GatherScatterValuesAndGradients) {
  auto x = F32({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  auto idx = I64({2, 2, 0, -1}, {2, 2});
  auto y = nb::gather(x, 1, idx);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{3, 3, 4, 6}));
  y.sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 2, 1, 0, 1}));

  auto base = nb::zeros({2, 3});
  auto src = F32({10, 20, 30, 40}, {2, 2}).requires_grad_();
  auto s = nb::scatter(base, 1, I64({0, 2, 1, 0}, {2, 2}), src);
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{10, 0, 20, 40, 30, 0}));
  auto sa = nb::scatter_add(base, 1, I64({1, 1, 2, 2}, {2, 2}), src);
  EXPECT_EQ(sa.to_vector<float>(), (std::vector<float>{0, 30, 0, 0, 0, 70}));
  (sa * F32({1, 2, 3, 4, 5, 6}, {2, 3})).sum().backward();
  EXPECT_EQ(src.grad().to_vector<float>(), (std::vector<float>{2, 2, 6, 6}));

  auto m = nb::masked_fill(nb::arange(4, nb::float32),
                           nb::tensor(std::vector<bool>{true, false, false, true}), -1);
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{-1, 1, 2, -1}));
}

TEST(Pad, ModesAndErrors) {
  auto x = F32({1, 2, 3}, {1, 3});
  EXPECT_EQ(nb::pad(x, {2, 1}, nb::PadMode::reflect).to_vector<float>(),
            (std::vector<float>{3, 2, 1, 2, 3, 2}));
  EXPECT_EQ(nb::pad(x, {2, 1}, nb::PadMode::replicate).to_vector<float>(),
            (std::vector<float>{1, 1, 1, 2, 3, 3}));
  EXPECT_EQ(nb::pad(x, {0, 1, 1, 0}, nb::PadMode::constant, 9).to_vector<float>(),
            (std::vector<float>{9, 9, 9, 9, 1, 2, 3, 9}));
  EXPECT_THROW(nb::pad(x, {1}), nb::ShapeError);
  EXPECT_THROW(nb::pad(x, {1, 1, 1, 1, 1, 1}), nb::ShapeError);
  EXPECT_THROW(nb::pad(x, {-1, 0}), nb::ValueError);
  expect_error<nb::ValueError>(
      [&] {
        nb::pad(x, {3, 0}, nb::PadMode::reflect);
      },
      {"[pad]", "(1, 3)"});
  EXPECT_THROW(nb::pad(nb::ones({0, 2}), {0, 0, 1, 0}, nb::PadMode::replicate), nb::ValueError);
}

TEST(Rearrange, FlipRollRepeatTileTriangles) {
  auto x = nb::arange(6, nb::float32).reshape({2, 3});
  EXPECT_EQ(nb::flip(x, {1}).to_vector<float>(), (std::vector<float>{2, 1, 0, 5, 4, 3}));
  EXPECT_THROW(nb::flip(x, {1, -1}), nb::IndexError);
  EXPECT_THROW(nb::flip(x, {2}), nb::IndexError);
  EXPECT_EQ(nb::roll(x, {1}, {1}).to_vector<float>(), (std::vector<float>{2, 0, 1, 5, 3, 4}));
  EXPECT_EQ(nb::roll(x, {-1}).to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 0}));
  EXPECT_EQ(nb::roll(x, {1, 1}, {1, 1}).to_vector<float>(),
            nb::roll(x, {2}, {1}).to_vector<float>());
  EXPECT_THROW(nb::roll(x, {1, 2}, {0}), nb::ShapeError);
  EXPECT_THROW(nb::roll(x, {1, 2}), nb::ShapeError);
  EXPECT_EQ(nb::repeat(x, {2, 1, 2}).shape(), (nb::Shape{2, 2, 6}));
  EXPECT_THROW(nb::repeat(x, {2}), nb::ShapeError);
  EXPECT_THROW(nb::repeat(x, {2, -1}), nb::ShapeError);
  EXPECT_EQ(nb::tile(x, {2}).shape(), (nb::Shape{2, 6}));
  EXPECT_EQ(nb::tile(nb::arange(2), {2, 2}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(nb::tril(x).to_vector<float>(), (std::vector<float>{0, 0, 0, 3, 4, 0}));
  EXPECT_EQ(nb::triu(x, 1).to_vector<float>(), (std::vector<float>{0, 1, 2, 0, 0, 5}));
  EXPECT_THROW(nb::tril(nb::arange(3)), nb::ShapeError);
}

TEST(Sort, NanLastStableTiesAndTopk) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  auto x = F32({3, nan, 1, 3, -2}, {5});
  EXPECT_EQ(nb::argsort(x).to_vector<int64_t>(), (std::vector<int64_t>{4, 2, 0, 3, 1}));
  EXPECT_EQ(nb::argsort(x, 0, true).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 3, 2, 4}));
  auto v = nb::sort(x).to_vector<float>();
  EXPECT_EQ(v[0], -2.0f);
  EXPECT_TRUE(std::isnan(v[4]));
  auto top = nb::topk(x, 3);
  EXPECT_EQ(top.indices.dtype(), nb::int64);
  EXPECT_EQ(top.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 3}));
  auto low = nb::topk(F32({2, 1, 1, 0}, {4}), 2, 0, /*largest=*/false);
  EXPECT_EQ(low.indices.to_vector<int64_t>(), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(low.values.to_vector<float>(), (std::vector<float>{0, 1}));
  expect_error<nb::IndexError>([&] { nb::topk(x, 6); }, {"[topk]", "k = 6", "size 5"});
  EXPECT_THROW(nb::topk(x, -1), nb::IndexError);
  EXPECT_THROW(nb::argsort(x, 1), nb::IndexError);

  auto y = F32({3, 1, 2}, {3}).requires_grad_();
  (nb::sort(y) * F32({1, 10, 100}, {3})).sum().backward();
  EXPECT_EQ(y.grad().to_vector<float>(), (std::vector<float>{100, 1, 10}));
}

// Gradient rules are ops, so gradients of gradients flow through them (pad_backward's rule
// is pad; scatter_add's source gets a gather).
TEST(IndexGrad, SecondOrderThroughPadAndGather) {
  auto w = F32({1, 10, 100}, {3});
  auto x = F32({1, 2, 3}, {3}).requires_grad_();
  auto y = nb::pad(x, {1, 1}, nb::PadMode::reflect);  // (b, a, b, c, b)
  (y * y).sum().backward(nb::Tensor(), /*retain_graph=*/true, /*create_graph=*/true);
  auto g = x.grad();
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{2, 12, 6}));
  x.zero_grad();
  (g * w).sum().backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 60, 200}));

  auto z = F32({1, 2, 3}, {3}).requires_grad_();
  nb::gather(z * z, 0, I64({0, 0, 2}, {3})).sum().backward(nb::Tensor(), true, true);
  auto gz = z.grad();
  EXPECT_EQ(gz.to_vector<float>(), (std::vector<float>{4, 0, 6}));
  z.zero_grad();
  (gz * w).sum().backward();
  EXPECT_EQ(z.grad().to_vector<float>(), (std::vector<float>{4, 0, 200}));
}

TEST(Join, ResultsAreFreshTensors) {
  auto x = nb::ones({2, 3});
  EXPECT_FALSE(nb::concat({x}).shares_storage(x));
  EXPECT_FALSE(nb::stack({x}).shares_storage(x));
  EXPECT_FALSE(nb::flip(x, {0}).shares_storage(x));
  EXPECT_FALSE(nb::roll(x, {0}, {0}).shares_storage(x));
  EXPECT_EQ(nb::topk(x, 0, 1).values.shape(), (nb::Shape{2, 0}));
}
