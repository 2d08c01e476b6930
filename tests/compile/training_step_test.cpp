// A whole training step in one Function: the MLP's forward, its symbolic gradients and Adam's
// update as graph ops whose outputs are the new parameters and moments. After a few steps the
// compiled parameters must equal those nn + optim::Adam reach eagerly.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>

#include "compile/sample_graphs.h"

namespace nb = nabla;
namespace nn = nb::nn;

namespace {

constexpr double kLr = 1e-2, kB1 = 0.9, kB2 = 0.999, kEps = 1e-8;

// Inputs: x, y, the parameters, their first and second moments, step_size = lr / (1 - b1^t) and
// sqrt(1 - b2^t). Outputs: the loss, the new parameters, the new moments (optim::Adam's rule).
nb::Function compile_adam_step(const nb::Shape& x_shape, const std::vector<nb::Tensor>& params) {
  auto X = nb::placeholder("x", x_shape);
  auto Y = nb::placeholder("y", {x_shape[0]}, nb::int64);
  std::vector<nb::Tensor> P, M, V, inputs{X, Y};
  for (std::size_t i = 0; i < params.size(); ++i) {
    P.push_back(nb::placeholder("p" + std::to_string(i), params[i].shape()));
    M.push_back(nb::placeholder("m" + std::to_string(i), params[i].shape()));
    V.push_back(nb::placeholder("v" + std::to_string(i), params[i].shape()));
  }
  auto step_size = nb::placeholder("step_size", {}), sqrt_bc2 = nb::placeholder("sqrt_bc2", {});
  nb::Tensor loss = nn::cross_entropy(nb::testing::mlp_forward(X, P), Y);
  std::vector<nb::Tensor> g = nb::gradients(loss, P);
  std::vector<nb::Tensor> outs{loss}, new_m, new_v;
  for (std::size_t i = 0; i < P.size(); ++i) {
    new_m.push_back(M[i] * float(kB1) + g[i] * float(1 - kB1));
    new_v.push_back(V[i] * float(kB2) + g[i] * g[i] * float(1 - kB2));
    outs.push_back(P[i] - step_size * new_m[i] / (nb::sqrt(new_v[i]) / sqrt_bc2 + float(kEps)));
  }
  outs.insert(outs.end(), new_m.begin(), new_m.end());
  outs.insert(outs.end(), new_v.begin(), new_v.end());
  inputs.insert(inputs.end(), P.begin(), P.end());
  inputs.insert(inputs.end(), M.begin(), M.end());
  inputs.insert(inputs.end(), V.begin(), V.end());
  inputs.push_back(step_size);
  inputs.push_back(sqrt_bc2);
  return nb::compile(outs, {.inputs = inputs});
}

}  // namespace

TEST(TrainingStep, CompiledAdamStepMatchesEagerAdam) {
  nb::manual_seed(3);
  nn::Sequential net(nn::Linear(20, 16), nn::ReLU(), nn::Linear(16, 12), nn::ReLU(),
                     nn::Linear(12, 5));
  std::vector<nb::Tensor> params;
  for (const nb::Tensor& p : net.parameters()) params.push_back(p.detach().clone());
  const std::vector<nb::Tensor> initial = params;
  nb::optim::Adam opt(net.parameters(), {.lr = kLr});
  nb::Function step = compile_adam_step({8, 20}, params);
  ASSERT_EQ(step.num_outputs(), 1 + 3 * params.size());

  std::vector<nb::Tensor> m, v;
  for (const auto& p : params) {
    m.push_back(nb::zeros(p.shape()));
    v.push_back(nb::zeros(p.shape()));
  }
  for (int t = 1; t <= 4; ++t) {
    nb::Tensor x = nb::randn({8, 20}), y = nb::randint(0, 5, {8}, nb::int64);
    nb::Tensor eager_loss = nn::cross_entropy(net.forward(x), y);
    opt.zero_grad();
    eager_loss.backward();
    opt.step();

    std::vector<nb::Tensor> in{x, y};
    in.insert(in.end(), params.begin(), params.end());
    in.insert(in.end(), m.begin(), m.end());
    in.insert(in.end(), v.begin(), v.end());
    in.push_back(nb::scalar(kLr / (1 - std::pow(kB1, t)), nb::float32));
    in.push_back(nb::scalar(std::sqrt(1 - std::pow(kB2, t)), nb::float32));
    std::vector<nb::Tensor> out = step.run(in);
    EXPECT_NEAR(out[0].item<float>(), eager_loss.item<float>(), 1e-5) << "step " << t;
    const std::size_t n = params.size();
    for (std::size_t i = 0; i < n; ++i) {
      params[i] = out[1 + i];
      m[i] = out[1 + n + i];
      v[i] = out[1 + 2 * n + i];
    }
  }
  std::vector<nb::Tensor> eager = net.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto a = params[i].to_vector<float>(), b = eager[i].detach().to_vector<float>();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 2e-6) << i << "," << k;
    // The parameters moved: the comparison is not between two initial states.
    EXPECT_NE(a, initial[i].to_vector<float>());
  }
}
