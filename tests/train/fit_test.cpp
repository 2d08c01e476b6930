#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "train/common.h"

namespace nb = nabla;
namespace nt = nabla::train;
namespace nd = nabla::data;
using train_test::Affine;
using train_test::make_problem;
using train_test::mse;
using train_test::TempDir;

namespace {
std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  for (std::string l; std::getline(is, l);) out.push_back(l);
  return out;
}
nd::DataLoader loader_of(const nb::Tensor& x, const nb::Tensor& y, int64_t batch,
                         bool shuffle = false) {
  return nd::DataLoader(nd::TensorDataset(x, y),
                        {.batch_size = batch, .shuffle = shuffle, .seed = 3});
}
}  // namespace

TEST(Fit, LearnsASeparableProblemAndTheLossFalls) {
  auto p = make_problem(600, 3, 1);
  auto v = make_problem(300, 3, 2);
  nb::manual_seed(7);
  Affine model(2, 3);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.5});
  auto train = loader_of(p.inputs, p.one_hot, 32, true);
  auto val = loader_of(v.inputs, v.one_hot, 100);
  const double before = nt::evaluate(model, mse, val, {"accuracy"}).at("accuracy");
  std::ostringstream log;
  nt::History h = nt::fit(model, mse, opt, train,
                          {.epochs = 8, .validation = &val, .metrics = {"accuracy"}, .out = &log});
  ASSERT_EQ(h.size(), 8u);
  const auto loss = h["loss"];
  EXPECT_LT(loss.back(), 0.7 * loss.front());
  EXPECT_LT(before, 0.7);
  EXPECT_GT(h.last("accuracy"), 0.9);
  EXPECT_GT(h.last("val_accuracy"), 0.9);
  EXPECT_LT(h.last("val_loss"), h["val_loss"].front());
  EXPECT_EQ(h.columns(),
            (std::vector<std::string>{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
                                      "seconds", "samples_per_s", "data_wait_s"}));
  EXPECT_EQ(h["epoch"], (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_DOUBLE_EQ(h.last("lr"), 0.1);
  EXPECT_GT(h.last("samples_per_s"), 0);
  EXPECT_GE(h.last("data_wait_s"), 0);
  EXPECT_LT(h.last("data_wait_s"), h.last("seconds"));
  EXPECT_TRUE(model.is_training());

  // evaluate() agrees with the history's last validation values.
  auto scores = nt::evaluate(model, mse, val, {"accuracy", "f1"});
  EXPECT_NEAR(scores.at("loss"), h.last("val_loss"), 1e-6);
  EXPECT_DOUBLE_EQ(scores.at("accuracy"), h.last("val_accuracy"));
  EXPECT_GT(scores.at("f1"), 0.85);
}

TEST(Fit, BinaryOutputsUseThreshold) {
  auto p = make_problem(400, 2, 5);
  nb::Tensor y = p.one_hot.slice(1, 1, 2);  // (N, 1): 1 for class 1
  nb::manual_seed(3);
  Affine model(2, 1);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.3});
  auto train = loader_of(p.inputs, y, 20, true);
  auto h = nt::fit(model, mse, opt, train,
                   {.epochs = 5, .metrics = {"accuracy", "precision", "recall"}, .verbose = false});
  EXPECT_GT(h.last("accuracy"), 0.93);
  EXPECT_GT(h.last("precision"), 0.9);
  EXPECT_GT(h.last("recall"), 0.9);
}

TEST(Fit, EvaluateAndPredictRunInEvalModeWithoutGradients) {
  auto p = make_problem(100, 3, 4);
  Affine model(2, 3);
  bool saw_training = false, saw_grad = false;
  nb::nn::Lambda probe("probe", [&](const nb::Tensor& x) {
    saw_grad = saw_grad || x.requires_grad();
    return x;
  });
  struct Net : nb::nn::Module {
    Affine* a;
    nb::nn::Lambda* probe;
    bool* training;
    nb::Tensor forward(const nb::Tensor& x) override {
      *training = *training || is_training();
      return probe->forward(a->forward(x));
    }
    std::string describe() const override { return "Net"; }
  } net;
  net.a = &model;
  net.probe = &probe;
  net.training = &saw_training;
  auto loader = loader_of(p.inputs, p.one_hot, 32);
  nb::Tensor out = nt::predict(net, loader);
  EXPECT_FALSE(saw_training);
  EXPECT_FALSE(saw_grad);
  EXPECT_TRUE(net.is_training());  // restored
  ASSERT_EQ(out.shape(), (nb::Shape{100, 3}));
  EXPECT_EQ(out.to_vector<float>(), model.forward(p.inputs).to_vector<float>());

  auto scores = nt::evaluate(net, mse, loader, {"mae"});
  EXPECT_FALSE(saw_training);
  const auto o = out.to_vector<double>(), t = p.one_hot.to_vector<double>();
  double se = 0, ae = 0;
  for (std::size_t i = 0; i < o.size(); ++i)
    se += (o[i] - t[i]) * (o[i] - t[i]), ae += std::abs(o[i] - t[i]);
  EXPECT_NEAR(scores.at("loss"), se / o.size(), 1e-5);
  EXPECT_NEAR(scores.at("mae"), ae / o.size(), 1e-5);
  net.eval();
  nt::evaluate(net, {}, loader);
  EXPECT_FALSE(net.is_training());
  EXPECT_EQ(nt::evaluate(net, {}, loader, {"mse"}).count("loss"), 0u);
}

TEST(Fit, EarlyStoppingStopsWhenTheMonitorStalls) {
  auto p = make_problem(64, 2, 6);
  Affine model(2, 2);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.0});  // the loss never changes
  auto train = loader_of(p.inputs, p.one_hot, 16);
  auto stop = std::make_shared<nt::EarlyStopping>(
      nt::EarlyStoppingOptions{.monitor = "loss", .patience = 2});
  auto h = nt::fit(model, mse, opt, train, {.epochs = 20, .callbacks = {stop}, .verbose = false});
  // epoch 1 sets the best; epochs 2, 3 wait; epoch 4 exceeds the patience.
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(stop->stopped_epoch(), 4);
  EXPECT_EQ(stop->best_epoch(), 1);

  // Improvements smaller than min_delta do not count; a learning model stops late or never.
  nb::optim::SGD learning(model.parameters(), {.lr = 0.01});
  auto strict = std::make_shared<nt::EarlyStopping>(
      nt::EarlyStoppingOptions{.monitor = "loss", .patience = 0, .min_delta = 10});
  EXPECT_EQ(
      nt::fit(model, mse, learning, train, {.epochs = 5, .callbacks = {strict}, .verbose = false})
          .size(),
      2u);
  auto lenient = std::make_shared<nt::EarlyStopping>(nt::EarlyStoppingOptions{.monitor = "loss"});
  EXPECT_EQ(
      nt::fit(model, mse, learning, train, {.epochs = 5, .callbacks = {lenient}, .verbose = false})
          .size(),
      5u);
  EXPECT_EQ(lenient->stopped_epoch(), 0);
}

TEST(Fit, EarlyStoppingRestoresTheBestWeights) {
  auto p = make_problem(64, 2, 8);
  Affine model(2, 2);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.05});
  auto train = loader_of(p.inputs, p.one_hot, 16);
  // "max" on the loss: epoch 1 is the best, and training makes it worse.
  auto stop = std::make_shared<nt::EarlyStopping>(nt::EarlyStoppingOptions{
      .monitor = "loss", .patience = 1, .mode = nt::Mode::max, .restore_best_weights = true});
  auto w = std::make_shared<nb::TensorMap>();
  auto snap = std::make_shared<nt::LambdaCallback>();
  snap->epoch_end = [&](int epoch, const nt::Logs&) {
    if (epoch == 1)
      for (auto& [k, v] : model.state_dict()) (*w)[k] = v.clone();
  };
  auto h =
      nt::fit(model, mse, opt, train, {.epochs = 10, .callbacks = {snap, stop}, .verbose = false});
  EXPECT_EQ(h.size(), 3u);
  for (auto& [k, v] : model.state_dict())
    EXPECT_EQ(v.to_vector<float>(), w->at(k).to_vector<float>()) << k;
}

TEST(Fit, EarlyStoppingNamesAMissingMonitor) {
  auto p = make_problem(32, 2, 6);
  Affine model(2, 2);
  nb::optim::SGD opt(model.parameters());
  auto train = loader_of(p.inputs, p.one_hot, 16);
  auto stop = std::make_shared<nt::EarlyStopping>();  // val_loss, without validation data
  try {
    nt::fit(model, mse, opt, train, {.epochs = 2, .callbacks = {stop}, .verbose = false});
    FAIL() << "no error";
  } catch (const nb::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'val_loss'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nt::EarlyStopping({.patience = -1}), nb::ValueError);
  EXPECT_TRUE(nt::larger_is_better("val_accuracy", nt::Mode::automatic));
  EXPECT_TRUE(nt::larger_is_better("top5_accuracy", nt::Mode::automatic));
  EXPECT_FALSE(nt::larger_is_better("val_mae", nt::Mode::automatic));
  EXPECT_TRUE(nt::larger_is_better("val_loss", nt::Mode::max));
}

TEST(Fit, ModelCheckpointWritesLoadableFiles) {
  TempDir dir;
  auto p = make_problem(64, 2, 9);
  auto v = make_problem(32, 2, 10);
  nb::manual_seed(1);
  Affine model(2, 2);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.1});
  auto train = loader_of(p.inputs, p.one_hot, 16);
  auto val = loader_of(v.inputs, v.one_hot, 16);
  auto every =
      std::make_shared<nt::ModelCheckpoint>(dir / "m-{epoch:02d}-{val_loss:.3f}.safetensors");
  auto best = std::make_shared<nt::ModelCheckpoint>(dir / "best.safetensors",
                                                    nt::CheckpointOptions{.save_best_only = true});
  auto h = nt::fit(model, mse, opt, train,
                   {.epochs = 3, .validation = &val, .callbacks = {every, best}, .verbose = false});
  char name[64];
  std::snprintf(name, sizeof name, "m-03-%.3f.safetensors", h.last("val_loss"));
  EXPECT_EQ(every->last_saved(), dir / name);
  for (int e = 1; e <= 3; ++e) {
    std::snprintf(name, sizeof name, "m-%02d-%.3f.safetensors", e, h["val_loss"][e - 1]);
    EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
  }
  Affine restored(2, 2);
  restored.load_state_dict(nb::load_safetensors(every->last_saved()));
  EXPECT_EQ(restored.forward(p.inputs).to_vector<float>(),
            model.forward(p.inputs).to_vector<float>());
  EXPECT_EQ(nb::load_safetensors_metadata(every->last_saved()).at("epoch"), "3");
  ASSERT_TRUE(std::filesystem::exists(dir / "best.safetensors"));
  // The val_loss falls every epoch here, so the best file is the last epoch's.
  ASSERT_LT(h["val_loss"][2], h["val_loss"][1]);
  EXPECT_EQ(nb::load_safetensors_metadata(dir / "best.safetensors").at("epoch"), "3");

  EXPECT_THROW(nt::ModelCheckpoint(""), nb::ValueError);
  EXPECT_THROW(nt::ModelCheckpoint("m-{epoch.safetensors"), nb::ValueError);
  EXPECT_THROW(nt::ModelCheckpoint("m-{epoch:x}.safetensors"), nb::ValueError);
  EXPECT_THROW(nt::ModelCheckpoint("m-}.safetensors"), nb::ValueError);
  auto missing = std::make_shared<nt::ModelCheckpoint>(dir / "m-{accuracy}.safetensors");
  EXPECT_THROW(nt::fit(model, mse, opt, train, {.callbacks = {missing}, .verbose = false}),
               nb::ValueError);
}

TEST(Fit, CSVLoggerAndSchedulerAndCallbackOrder) {
  TempDir dir;
  auto p = make_problem(40, 2, 11);
  Affine model(2, 2);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.1});
  nb::optim::StepLR sched(opt, 1, 0.5);
  auto train = loader_of(p.inputs, p.one_hot, 10);
  auto csv = std::make_shared<nt::CSVLogger>(dir / "log.csv");
  auto events = std::make_shared<nt::LambdaCallback>();
  std::vector<std::string> seen;
  events->epoch_begin = [&](int e) { seen.push_back("begin " + std::to_string(e)); };
  events->batch_end = [&](int64_t b, const nt::Logs& l) {
    seen.push_back("batch " + std::to_string(b) + " size " + std::to_string(int(l.at("size"))));
  };
  events->epoch_end = [&](int e, const nt::Logs& l) {
    seen.push_back("end " + std::to_string(e) + " lr " + std::to_string(l.at("lr")));
  };
  auto h = nt::fit(model, mse, opt, train,
                   {.epochs = 3,
                    .callbacks = {csv, events},
                    .metrics = {"mse"},
                    .scheduler = &sched,
                    .verbose = false});
  EXPECT_EQ(h["lr"], (std::vector<double>{0.1, 0.05, 0.025}));
  EXPECT_EQ(train_test::read_text(dir / "log.csv"), h.to_csv());
  ASSERT_EQ(seen.size(), 3u * 6);
  EXPECT_EQ(seen[0], "begin 1");
  EXPECT_EQ(seen[4], "batch 4 size 10");
  EXPECT_EQ(seen[5], "end 1 lr 0.100000");
  EXPECT_EQ(seen[11], "end 2 lr 0.050000");
  // mse of the outputs vs targets is the loss here.
  EXPECT_NEAR(h.last("mse"), h.last("loss"), 1e-6);

  // A callback may stop in the middle of an epoch; the partial epoch is recorded.
  auto stopper = std::make_shared<nt::LambdaCallback>();
  int batches = 0;
  stopper->batch_end = [&](int64_t b, const nt::Logs&) {
    ++batches;
    if (b == 2) stopper->stop_training = true;
  };
  auto h2 =
      nt::fit(model, mse, opt, train, {.epochs = 3, .callbacks = {stopper}, .verbose = false});
  EXPECT_EQ(h2.size(), 1u);
  EXPECT_EQ(batches, 2);
}

TEST(Fit, PlainLogLinesWhenNotATerminal) {
  auto p = make_problem(100, 3, 12);
  auto v = make_problem(20, 3, 13);
  Affine model(2, 3);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.1});
  auto train = loader_of(p.inputs, p.one_hot, 10);
  auto val = loader_of(v.inputs, v.one_hot, 10);
  std::ostringstream out;
  nt::fit(model, mse, opt, train,
          {.epochs = 2, .validation = &val, .metrics = {"accuracy"}, .out = &out});
  const auto lines = lines_of(out.str());
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
  ASSERT_EQ(lines.size(), 20u) << out.str();  // 9 progress lines and a summary per epoch
  const std::regex progress(
      R"(epoch 1/2  3/10  loss \d+\.\d{4}  accuracy \d\.\d{4}  \d+ samples/s  ETA \d+s)");
  EXPECT_TRUE(std::regex_match(lines[2], progress)) << lines[2];
  const std::regex summary(
      R"(epoch 2/2  10/10  loss \d+\.\d{4}  accuracy \d\.\d{4}  val_loss \d+\.\d{4}  val_accuracy \d\.\d{4}  \d+ samples/s  \d+\.\ds)");
  EXPECT_TRUE(std::regex_match(lines[19], summary)) << lines[19];

  std::ostringstream quiet;
  nt::fit(model, mse, opt, train, {.verbose = false, .out = &quiet});
  EXPECT_EQ(quiet.str(), "");
}

TEST(Fit, BadInputs) {
  auto p = make_problem(32, 2, 14);
  Affine model(2, 2);
  nb::optim::SGD opt(model.parameters(), {.lr = 0.1});
  auto train = loader_of(p.inputs, p.one_hot, 8);
  const auto before = model.state_dict().at("weight").to_vector<float>();
  EXPECT_THROW(nt::fit(model, mse, opt, train, {.epochs = 0}), nb::ValueError);
  EXPECT_THROW(nt::fit(model, mse, opt, train, {.epochs = -3}), nb::ValueError);
  try {
    nt::fit(model, mse, opt, train, {.metrics = {"accuracy", "recal"}, .verbose = false});
    FAIL() << "no error";
  } catch (const nb::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'recal'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(model.state_dict().at("weight").to_vector<float>(), before);  // nothing trained
  EXPECT_THROW(nt::evaluate(model, mse, train, {"bogus"}), nb::ValueError);
  EXPECT_THROW(nt::fit(model, {}, opt, train), nb::ValueError);
  EXPECT_THROW(nt::fit(model, mse, opt, train, {.callbacks = {nullptr}}), nb::ValueError);
  // A loss that is not one value.
  auto per_example = [](const nb::Tensor& y, const nb::Tensor& t) { return (y - t) * (y - t); };
  EXPECT_THROW(nt::fit(model, per_example, opt, train, {.verbose = false}), nb::ValueError);
  // Targets whose batch differs from the outputs' in a metric.
  nb::nn::Lambda halver(
      "half", [&](const nb::Tensor& x) { return model.forward(x).slice(0, 0, x.size(0) / 2); });
  auto sum_loss = [](const nb::Tensor& y, const nb::Tensor&) { return y.sum(); };
  EXPECT_THROW(nt::fit(halver, sum_loss, opt, train, {.metrics = {"mae"}, .verbose = false}),
               nb::ShapeError);
  // A loader with no batches.
  auto empty =
      nd::DataLoader(nd::TensorDataset(p.inputs, p.one_hot), {.batch_size = 64, .drop_last = true});
  EXPECT_THROW(nt::fit(model, mse, opt, empty, {.verbose = false}), nb::ValueError);
  EXPECT_THROW(nt::evaluate(model, mse, empty), nb::ValueError);
  EXPECT_THROW(nt::predict(model, empty), nb::ValueError);
}
