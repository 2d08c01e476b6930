// DESIGN.md's public API block, as written; each issue adds its part.
#include <gtest/gtest.h>

#include <filesystem>

#include <nabla/nabla.h>

TEST(Contract, TensorPart) {
  namespace nb = nabla;
  nb::Tensor a = nb::ones({10});                // imperative
  nb::Tensor b = nb::ones({10}) * 2;
  nb::Tensor d = b * a + 1;
  std::vector<float> v = d.to_vector<float>(); // all 3; d.sum().item<float>() == 30
  nb::Tensor m = nb::randn({4, 3}, nb::float32);
  nb::Tensor r = nb::sum(nb::matmul(m.transpose(0, 1), m), {1}, /*keepdims=*/true);
  bool same = r.shape() == nb::Shape{3, 1} && r.dtype() == nb::float32;
  nb::Tensor h = m.astype(nb::bfloat16);        // dtypes: nb::float32, nb::int64, nb::bool_ ...
  nb::Tensor t = nb::tensor(std::vector<double>{1, 2, 3, 4}, {2, 2});  // dtype from T

  EXPECT_EQ(v, std::vector<float>(10, 3.0f));
  EXPECT_EQ(d.sum().item<float>(), 30.0f);
  EXPECT_TRUE(same);
  EXPECT_EQ(h.dtype(), nb::bfloat16);
  EXPECT_EQ(t.dtype(), nb::float64);
}

TEST(Contract, AutogradPart) {
  namespace nb = nabla;
  nb::Tensor m = nb::randn({4, 3}, nb::float32);
  auto x = nb::randn({3, 4}).requires_grad_(); // autograd
  (x * x).sum().backward();                     // x.grad() == 2 * x
  auto dfdx = nb::grad([](const nb::Tensor& t) { return (t * t).sum(); });  // callable
  auto lse = nb::logsumexp(nb::tanh(m), {1}, false).mean();
  auto A = nb::placeholder("A", {10});          // symbolic, as in the seed's sample
  auto B = nb::placeholder("B", {10});
  std::vector<nb::Tensor> dW = nb::gradients(nb::sum(A * B), {A});  // symbolic gradients
  { nb::NoGradGuard no_grad; auto best = nb::argmax(m, 1); auto p = nb::permutation(100);
    EXPECT_EQ(best.shape(), nb::Shape{4});
    EXPECT_EQ(p.numel(), 100); }

  EXPECT_EQ(x.grad().to_vector<float>(), (x * 2).to_vector<float>());
  EXPECT_EQ(dfdx(x.detach()).to_vector<float>(), (x * 2).to_vector<float>());
  EXPECT_EQ(lse.ndim(), 0);
  ASSERT_EQ(dW.size(), 1u);
  EXPECT_FALSE(dW[0].is_concrete());  // a graph node: d sum(A*B) / dA = B, built from ops
  EXPECT_EQ(dW[0].shape(), nb::Shape{10});
}

TEST(Contract, CompilePart) {
  namespace nb = nabla;
  auto A = nb::placeholder("A", {10});          // symbolic, as in the seed's sample
  auto B = nb::placeholder("B", {10});
  auto D = B * A + nb::constant(1.0f);
  nb::Function f = nb::compile(D);
  nb::Tensor out = f({{"A", nb::ones({10})}, {"B", nb::ones({10}) * 2}});
  std::vector<nb::Tensor> dW = nb::gradients(nb::sum(A * B), {A});  // symbolic gradients
  auto fast_gelu = nb::jit([](const nb::Tensor& t) { return nb::tanh(t) * t; });

  EXPECT_EQ(out.to_vector<float>(), std::vector<float>(10, 3.0f));  // all 3
  nb::Tensor b = nb::randn({10});
  nb::Tensor dA = nb::compile(dW[0], {.inputs = {A, B}})({{"A", nb::ones({10})}, {"B", b}});
  EXPECT_EQ(dA.to_vector<float>(), b.to_vector<float>());
  nb::Tensor m = nb::randn({4, 3});
  EXPECT_EQ(fast_gelu(m).to_vector<float>(), (nb::tanh(m) * m).to_vector<float>());
}

TEST(Contract, NnPart) {
  namespace nb = nabla;
  namespace nn = nb::nn;
  nn::Sequential net(nn::Conv2d(1, 32, 5, {.padding = 2}), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Flatten(), nn::Linear(32 * 14 * 14, 10));
  nb::optim::Adam opt(net.parameters(), {.lr = 1e-3});
  nb::Tensor logits = net.forward(nb::randn({8, 1, 28, 28}));   // (8, 10)
  nb::Tensor labels = nb::randint(0, 10, {8}, nb::int64);
  nb::Tensor loss = nn::cross_entropy(logits, labels);           // also nn::CrossEntropyLoss
  opt.zero_grad(); loss.backward(); opt.step();
  nb::Tensor rows = nb::index_select(logits, 0, nb::tensor(std::vector<int64_t>{0, 2}, {2}));
  nb::Tensor head = logits.slice(0, 0, 4);                       // dim, start, end (view)
  nb::save_safetensors("net.safetensors", net.state_dict());   // std::map<std::string, Tensor>
  net.load_state_dict(nb::load_safetensors("net.safetensors"));

  EXPECT_EQ(logits.shape(), (nb::Shape{8, 10}));
  EXPECT_EQ(rows.shape(), (nb::Shape{2, 10}));
  EXPECT_TRUE(head.shares_storage(logits));
  EXPECT_GT(loss.item<float>(), 0.0f);
  std::filesystem::remove("net.safetensors");
}
