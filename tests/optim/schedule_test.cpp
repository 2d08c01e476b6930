// Learning-rate schedules against torch.optim.lr_scheduler (live; skipped without torch).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "torch/reference.h"

#include <nabla/nabla.h>
#include <nabla/optim/schedule.h>

namespace nb = nabla;
namespace optim = nabla::optim;

namespace {
nlohmann::json reference() {
  static nlohmann::json ref = nabla::testing::torch_reference("schedule_reference.py");
  return ref;
}

template <class Make, class Step>
void check(const std::string& name, Make make, Step step) {
  auto ref = reference();
  if (ref.is_null()) GTEST_SKIP() << "python3-torch is not installed";
  auto p = nb::zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 0.1});
  auto sched = make(opt);
  auto want = ref[name].get<std::vector<double>>();
  for (std::size_t i = 0; i < want.size(); ++i) {
    step(*sched, i);
    EXPECT_NEAR(opt.lr(), want[i], 1e-12) << name << " step " << i;
  }
}
auto plain = [](auto& s, std::size_t) { s.step(); };
}  // namespace

TEST(Schedules, MatchTorch) {
  using O = optim::Optimizer;
  check("step", [](O& o) { return std::make_unique<optim::StepLR>(o, 3, 0.5); }, plain);
  check("multistep", [](O& o) { return std::make_unique<optim::MultiStepLR>(o, std::vector<int64_t>{2, 5, 9}, 0.3); }, plain);
  check("exponential", [](O& o) { return std::make_unique<optim::ExponentialLR>(o, 0.9); }, plain);
  check("cosine", [](O& o) { return std::make_unique<optim::CosineAnnealingLR>(o, 10, 0.01); }, plain);
  check("warm_restarts", [](O& o) { return std::make_unique<optim::CosineAnnealingWarmRestarts>(o, 3, 2, 0.001); }, plain);
  check("linear", [](O& o) { return std::make_unique<optim::LinearLR>(o, 0.25, 1.0, 4); }, plain);
  check("onecycle", [](O& o) { return std::make_unique<optim::OneCycleLR>(o, 1.0, 15, 0.3); }, plain);
  std::vector<double> metrics{1.0, 0.9, 0.9, 0.9, 0.9, 0.85, 0.85, 0.85, 0.85, 0.85, 0.5, 0.5, 0.5, 0.5};
  check("plateau", [](O& o) { return std::make_unique<optim::ReduceLROnPlateau>(o, optim::PlateauOptions{.factor = 0.5, .patience = 2}); },
        [&](auto& s, std::size_t i) { s.step(metrics[i]); });
}

TEST(Schedules, RejectBadSettings) {
  auto p = nb::zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 0.1});
  EXPECT_THROW(optim::StepLR(opt, 0), nb::ValueError);
  EXPECT_THROW(optim::OneCycleLR(opt, 1.0, 1), nb::ValueError);
  EXPECT_THROW(optim::ReduceLROnPlateau(opt, {.factor = 2}), nb::ValueError);
}

// A schedule rebuilt from its state_dict continues exactly where the saved one was.
TEST(Schedules, StateDictContinuesTheSchedule) {
  auto p = nb::zeros({1}).requires_grad_();
  optim::SGD a({p}, {.lr = 0.1});
  optim::CosineAnnealingWarmRestarts sa(a, 3, 2, 0.001);
  for (int i = 0; i < 4; ++i) sa.step();
  const nb::TensorMap saved = sa.state_dict();
  EXPECT_EQ(saved.at("last_epoch").item<int64_t>(), 4);

  optim::SGD b({p}, {.lr = 0.5});  // a different initial lr: the saved base wins
  optim::CosineAnnealingWarmRestarts sb(b, 3, 2, 0.001);
  sb.load_state_dict(saved);
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(sb.last_epoch(), 4);
  for (int i = 0; i < 5; ++i) {
    sa.step();
    sb.step();
    EXPECT_EQ(a.lr(), b.lr()) << "step " << i;
  }
}

TEST(Schedules, StateDictRejectsWrongKeys) {
  auto p = nb::zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 0.1});
  optim::StepLR s(opt, 2);
  nb::TensorMap state = s.state_dict();
  state["base_lr.1"] = nb::full({}, 0.1, nb::float64);  // the optimizer has one group
  EXPECT_THROW(s.load_state_dict(state), nb::ValueError);
  state = s.state_dict();
  state.erase("last_epoch");
  EXPECT_THROW(s.load_state_dict(state), nb::ValueError);

  optim::ReduceLROnPlateau plateau(opt, {.factor = 0.5, .patience = 0});
  plateau.step(1.0);
  plateau.step(2.0);  // worse: the lr halves
  optim::SGD opt2({p}, {.lr = 0.05});
  optim::ReduceLROnPlateau copy(opt2, {.factor = 0.5, .patience = 0});
  copy.load_state_dict(plateau.state_dict());
  plateau.step(1.5);
  copy.step(1.5);  // still worse than the saved best (1.0): both halve again
  EXPECT_EQ(opt.lr(), opt2.lr());
  EXPECT_DOUBLE_EQ(opt.lr(), 0.025);
  EXPECT_THROW(copy.load_state_dict({{"best", nb::full({}, 1.0, nb::float64)}}), nb::ValueError);
}
