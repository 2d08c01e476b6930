// Compiled vs eager across op families, on contiguous and on strided (transposed) inputs: a
// compiled call replays recorded ops, so any op whose public function prepares its input
// differently for symbolic and concrete tensors would show here. Also the gradient graph of
// each differentiable case, compiled.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <functional>

namespace nb = nabla;

namespace {

using Fn = std::function<nb::Tensor(const nb::Tensor&)>;

struct Case {
  const char* name;
  Fn fn;
  bool grad = true;
};

std::vector<Case> cases() {
  nb::Tensor idx = nb::tensor(std::vector<int64_t>{2, 0, 1, 2}, {4});
  nb::Tensor w = nb::randn({3, 1, 2, 2});
  return {
      {"unary",
       [](const nb::Tensor& x) {
         return nb::exp(nb::sin(x)) + nb::sqrt(nb::abs(x)) * nb::sigmoid(x);
       }},
      {"activations",
       [](const nb::Tensor& x) {
         return nb::gelu(x) + nb::silu(x) - nb::softplus(x) + nb::elu(x);
       }},
      {"binary_broadcast",
       [](const nb::Tensor& x) { return nb::maximum(x, nb::sum(x, {0}, true)) / (x * x + 1); }},
      {"reductions",
       [](const nb::Tensor& x) {
         return nb::sum(x, {1}, true) + nb::amax(x, {0}, true) + nb::var(x);
       }},
      {"softmax", [](const nb::Tensor& x) { return nb::softmax(x, 1) * nb::log_softmax(x, 0); }},
      {"logsumexp", [](const nb::Tensor& x) { return nb::logsumexp(x, {1}, false); }},
      {"matmul", [](const nb::Tensor& x) { return nb::matmul(x, x.transpose(0, 1)); }},
      {"views",
       [](const nb::Tensor& x) { return x.transpose(0, 1).reshape({-1}).slice(0, 1, 9, 2) * 3; }},
      {"flatten_unsqueeze",
       [](const nb::Tensor& x) {
         return x.flatten().unsqueeze(0).expand({2, -1}) + 1;
       }},
      {"index_select", [idx](const nb::Tensor& x) { return nb::index_select(x, 1, idx) * 2; }},
      {"concat_stack",
       [](const nb::Tensor& x) {
         return nb::sum(nb::concat({x, x * 2}, 0), {0}, false) +
                nb::sum(nb::mean(nb::stack({x, x}, 0), {0}, false), {0}, false);
       }},
      {"where_clamp",
       [](const nb::Tensor& x) { return nb::where(x > 0, x, x * 0.1) + nb::clamp(x, -0.5, 0.5); }},
      {"cumsum_flip", [](const nb::Tensor& x) { return nb::cumsum(nb::flip(x, {1}), 1); }},
      {"conv_pool",
       [w](const nb::Tensor& x) {
         return nb::max_pool2d(nb::conv2d(x.reshape({1, 1, 3, 4}), w, {}, {.padding = {1, 1}}),
                               {2, 2});
       }},
      {"sort",
       [](const nb::Tensor& x) { return nb::sort(x, 1) + nb::argsort(x, 0).astype(nb::float32); },
       false},
      {"compare_cast",
       [](const nb::Tensor& x) {
         return (x > 0.1).astype(nb::float32) + nb::argmax(x, 1).astype(nb::float32).sum();
       },
       false},
  };
}

void expect_close(const nb::Tensor& a, const nb::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(x[i], y[i], 1e-5 * (1 + std::abs(y[i]))) << what << " at " << i;
}

}  // namespace

TEST(CompiledOps, MatchEagerOnContiguousAndStridedInputs) {
  nb::manual_seed(11);
  for (const Case& c : cases()) {
    auto X = nb::placeholder("x", {3, 4});
    nb::Function f = nb::compile(c.fn(X));
    nb::Tensor contiguous = nb::randn({3, 4});
    nb::Tensor strided = nb::randn({4, 3}).transpose(0, 1);
    ASSERT_FALSE(strided.is_contiguous());
    for (const nb::Tensor& x : {contiguous, strided}) expect_close(f({x}), c.fn(x), c.name);
  }
}

TEST(CompiledOps, GradientGraphsMatchEagerGradients) {
  nb::manual_seed(12);
  for (const Case& c : cases()) {
    if (!c.grad) continue;
    auto X = nb::placeholder("x", {3, 4});
    nb::Tensor g = nb::gradients(nb::sum(c.fn(X) * c.fn(X)), {X})[0];
    nb::Function f = nb::compile(g);
    nb::Tensor x = nb::randn({3, 4});
    nb::Tensor xe = x.detach().requires_grad_();
    nb::sum(c.fn(xe) * c.fn(xe)).backward();
    expect_close(f({x}), xe.grad(), c.name);
  }
}
