// Each optimizer's first steps against torch.optim on the same gradients (live PyTorch via
// Debian's python3-torch; skipped where it is not installed).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

#include <nabla/nabla.h>
#include <nabla/optim/optimizer.h>

namespace nb = nabla;
namespace optim = nabla::optim;

namespace {

nlohmann::json torch_reference() {
  static nlohmann::json ref = nabla::testing::torch_reference("optim_reference.py");
  return ref;
}

using Factory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<nb::Tensor>)>;

void check(const std::string& name, const Factory& make) {
  nlohmann::json ref = torch_reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  auto a = nb::tensor(std::vector<double>{1.0, 2.0, 0.5, 3.0});
  auto b = nb::tensor(std::vector<double>{0.1, -0.2, 0.3, 0.05});
  auto p = nb::tensor(std::vector<double>{0.5, -1.2, 2.0, 0.1}).requires_grad_();
  auto opt = make({p});
  for (int step = 0; step < 6; ++step) {
    opt->zero_grad();
    {
      nb::NoGradGuard off;
      p.set_grad(a * p + b);
    }
    opt->step();
    auto want = ref[name][step].get<std::vector<double>>();
    auto got = p.to_vector<double>();
    for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(got[i], want[i], 1e-10) << name << " step " << step << " element " << i;
  }
}

}  // namespace

TEST(Optimizers, MatchTorch) {
  using P = std::vector<nb::Tensor>;
  check("sgd", [](P p) { return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.1}); });
  check("sgd_momentum_wd", [](P p) {
    return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
  });
  check("sgd_nesterov", [](P p) {
    return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.05, .momentum = 0.8, .nesterov = true});
  });
  check("adam", [](P p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.1}); });
  check("adam_amsgrad_wd", [](P p) {
    return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05, .beta1 = 0.8, .beta2 = 0.9, .weight_decay = 0.1, .amsgrad = true});
  });
  check("adamw", [](P p) { return std::make_unique<optim::AdamW>(p, optim::AdamOptions{.lr = 0.1, .weight_decay = 0.1}); });
  check("adagrad", [](P p) {
    return std::make_unique<optim::Adagrad>(p, optim::AdagradOptions{.lr = 0.1, .lr_decay = 0.01, .weight_decay = 0.01});
  });
  check("rmsprop", [](P p) { return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions{.lr = 0.01}); });
  check("rmsprop_centered_momentum", [](P p) {
    return std::make_unique<optim::RMSprop>(
        p, optim::RMSpropOptions{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.01, .momentum = 0.5, .centered = true});
  });
  check("adadelta", [](P p) {
    return std::make_unique<optim::Adadelta>(p, optim::AdadeltaOptions{.lr = 1.0, .rho = 0.8, .weight_decay = 0.01});
  });
}

TEST(Optimizers, ParamGroupsStateDictAndErrors) {
  auto w1 = nb::ones({2}).requires_grad_(), w2 = nb::ones({2}).requires_grad_();
  optim::SGD opt({w1}, {.lr = 0.1, .momentum = 0.9});
  opt.add_param_group({w2}, {.lr = 0.5});
  w1.set_grad(nb::ones({2}));
  w2.set_grad(nb::ones({2}));
  opt.step();
  EXPECT_NEAR(w1.to_vector<float>()[0], 0.9f, 1e-6);
  EXPECT_NEAR(w2.to_vector<float>()[0], 0.5f, 1e-6);
  auto sd = opt.state_dict();
  EXPECT_EQ(sd.count("state.0.momentum_buffer"), 1u);
  optim::SGD again({w1}, {.lr = 0.1, .momentum = 0.9});
  again.add_param_group({w2}, {.lr = 0.5});
  again.load_state_dict(sd);
  EXPECT_EQ(again.state_dict().at("state.0.momentum_buffer").to_vector<float>(), sd.at("state.0.momentum_buffer").to_vector<float>());
  EXPECT_THROW(optim::SGD({nb::ones({2}, nb::int64)}), nb::DTypeError);
  EXPECT_THROW(optim::Adam({w1}, {.beta1 = 1.0}), nb::ValueError);
  EXPECT_THROW(optim::SGD({w1}, {.lr = -1}), nb::ValueError);
  EXPECT_THROW(optim::SGD({w1}, {.nesterov = true}), nb::ValueError);
}

TEST(Optimizers, MalformedStateDictKeysAreValueErrors) {
  auto w = nb::ones({2}).requires_grad_();
  optim::Adam opt({w});
  const nb::Tensor one = nb::full({}, 1.0, nb::float64);
  for (const char* key : {"state.x.exp_avg", "state.", "state.0", "state.0.", "state.99999999999999999999.step",
                          "group.", "group.abc.lr", "group.0.momentum", "group.0", "other"})
    EXPECT_THROW(opt.load_state_dict({{key, one}}), nb::ValueError) << key;
  EXPECT_THROW(opt.load_state_dict({{"state.1.step", one}}), nb::ValueError);  // one parameter only
  EXPECT_THROW(opt.load_state_dict({{"group.1.lr", one}}), nb::ValueError);
}

TEST(Optimizers, ClipGradNorm) {
  auto w = nb::ones({4}).requires_grad_();
  w.set_grad(nb::full({4}, 3.0));
  double norm = optim::clip_grad_norm_({w}, 1.0);
  EXPECT_NEAR(norm, 6.0, 1e-9);
  EXPECT_NEAR(w.grad().to_vector<float>()[0], 0.5f, 1e-5);
  optim::clip_grad_value_({w}, 0.1);
  EXPECT_NEAR(w.grad().to_vector<float>()[0], 0.1f, 1e-6);
}
