// Checkpoints: a run interrupted after an epoch and resumed reports the same losses, bit for
// bit, as an uninterrupted one; damaged files are typed errors naming the file.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "train/common.h"

namespace nb = nabla;
namespace nn = nabla::nn;
namespace nt = nabla::train;
namespace nd = nabla::data;
using train_test::make_problem;
using train_test::TempDir;

namespace {

// Everything one training run holds. Dropout and shuffling make the losses depend on the
// random generator and the loader's epoch, so resuming must restore both.
struct TrainingRun {
  std::unique_ptr<nn::Sequential> net;
  std::unique_ptr<nb::optim::Adam> opt;
  std::unique_ptr<nb::optim::CosineAnnealingLR> sched;
  std::unique_ptr<nd::DataLoader> train, val;

  explicit TrainingRun(uint64_t init_seed, int64_t hidden = 16) {
    static const auto p = make_problem(240, 3, 21), v = make_problem(90, 3, 22);
    auto labels = [](const train_test::Problem& q) {
      return nb::tensor(q.labels, {int64_t(q.labels.size())});
    };
    nb::manual_seed(init_seed);
    net = std::make_unique<nn::Sequential>(nn::Linear(2, hidden), nn::ReLU(), nn::Dropout(0.3),
                                           nn::Linear(hidden, 3));
    opt = std::make_unique<nb::optim::Adam>(net->parameters(), nb::optim::AdamOptions{.lr = 0.02});
    sched = std::make_unique<nb::optim::CosineAnnealingLR>(*opt, 5);
    train = std::make_unique<nd::DataLoader>(
        nd::TensorDataset(p.inputs, labels(p)),
        nd::LoaderOptions{.batch_size = 32, .shuffle = true, .seed = 5});
    val = std::make_unique<nd::DataLoader>(
        nd::TensorDataset(v.inputs, labels(v)),
        nd::LoaderOptions{.batch_size = 45, .shuffle = true, .seed = 6});
  }

  nt::History fit(int epochs, const std::string& checkpoint, const std::string& resume_from = "",
                  std::vector<std::shared_ptr<nt::Callback>> callbacks = {}) {
    return nt::fit(*net,
                   [](const nb::Tensor& y, const nb::Tensor& t) { return nn::cross_entropy(y, t); },
                   *opt, *train,
                   {.epochs = epochs,
                    .validation = val.get(),
                    .callbacks = std::move(callbacks),
                    .metrics = {"accuracy"},
                    .scheduler = sched.get(),
                    .verbose = false,
                    .checkpoint = checkpoint,
                    .resume_from = resume_from});
  }
};

// Throws when epoch `at` begins: a crash after epoch at - 1 was checkpointed.
std::shared_ptr<nt::Callback> crash_at(int at) {
  auto cb = std::make_shared<nt::LambdaCallback>();
  cb->epoch_begin = [at](int epoch) {
    if (epoch == at) throw std::runtime_error("simulated crash");
  };
  return cb;
}

void expect_same_weights(const nn::Module& a, const nn::Module& b) {
  const nb::TensorMap sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [k, t] : sa) EXPECT_EQ(t.to_vector<float>(), sb.at(k).to_vector<float>()) << k;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error of the expected type";
  return "";
}

}  // namespace

TEST(TrainingCheckpoint, ResumedRunMatchesAnUninterruptedOneBitForBit) {
  TempDir dir;
  TrainingRun full(1);
  const nt::History whole = full.fit(5, dir / "full.safetensors");
  const nb::GeneratorState rng_after = nb::default_generator().state();

  TrainingRun first(1);
  EXPECT_THROW(first.fit(5, dir / "ck.safetensors", "", {crash_at(3)}), std::runtime_error);
  EXPECT_EQ(nb::load_checkpoint(dir / "ck.safetensors").epoch, 2);

  TrainingRun second(99);  // other initial weights, generator and loader state: all must come back
  const nt::History resumed = second.fit(5, dir / "ck.safetensors", dir / "ck.safetensors");

  ASSERT_EQ(resumed.size(), 5u);
  for (const char* key : {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"})
    EXPECT_EQ(resumed[key], whole[key]) << key;
  expect_same_weights(*full.net, *second.net);
  EXPECT_EQ(nb::default_generator().state(), rng_after);
  EXPECT_EQ(second.train->epoch(), full.train->epoch());

  // Both runs' final checkpoints agree too.
  const nb::Checkpoint a = nb::load_checkpoint(dir / "full.safetensors");
  const nb::Checkpoint b = nb::load_checkpoint(dir / "ck.safetensors");
  EXPECT_EQ(a.epoch, 5);
  EXPECT_EQ(b.epoch, 5);
  EXPECT_EQ(a.step, 5 * 8);  // 240 examples in batches of 32
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.rng, b.rng);
  EXPECT_EQ(a.optimizer.size(), b.optimizer.size());
  for (const auto& [k, t] : a.optimizer)
    EXPECT_EQ(t.to_vector<double>(), b.optimizer.at(k).to_vector<double>()) << k;
}

// The resume test can fail: a checkpoint whose generator state is off gives other losses.
TEST(TrainingCheckpoint, TheGeneratorStateMatters) {
  TempDir dir;
  TrainingRun full(1);
  const nt::History whole = full.fit(4, "");
  TrainingRun first(1);
  EXPECT_THROW(first.fit(4, dir / "ck.safetensors", "", {crash_at(3)}), std::runtime_error);
  nb::Checkpoint ck = nb::load_checkpoint(dir / "ck.safetensors");
  ck.rng.offset += 1000;
  nb::save_checkpoint(dir / "ck.safetensors", ck);
  TrainingRun second(1);
  const nt::History resumed = second.fit(4, "", dir / "ck.safetensors");
  EXPECT_EQ(resumed["loss"][1], whole["loss"][1]);  // restored from the file
  EXPECT_NE(resumed["loss"][2], whole["loss"][2]);  // other dropout masks
}

TEST(TrainingCheckpoint, RoundTripsEveryField) {
  TempDir dir;
  nb::Checkpoint ck{.model = {{"w", nb::randn({3, 2})}},
                    .optimizer = {{"state.0.step", nb::full({}, 7.0, nb::int64)}},
                    .scheduler = {{"last_epoch", nb::full({}, 2.0, nb::int64)}},
                    .epoch = 2,
                    .step = 14,
                    .rng = {0xFFFFFFFFFFFFFFF1ull, 1234567890123ull},
                    .loader_epoch = 2,
                    .val_loader_epoch = 3,
                    .history = {{{"epoch", 1}, {"loss", 0.1 + 0.2}, {"f1", std::nan("")}}},
                    .metadata = {{"config", "{\"a\": 1}"}}};
  nb::save_checkpoint(dir / "c.safetensors", ck);
  EXPECT_TRUE(nb::is_checkpoint(dir / "c.safetensors"));
  const nb::Checkpoint back = nb::load_checkpoint(dir / "c.safetensors");
  EXPECT_EQ(back.model.at("w").to_vector<float>(), ck.model.at("w").to_vector<float>());
  EXPECT_EQ(back.optimizer.at("state.0.step").item<int64_t>(), 7);
  EXPECT_EQ(back.scheduler.at("last_epoch").item<int64_t>(), 2);
  EXPECT_EQ(back.epoch, 2);
  EXPECT_EQ(back.step, 14);
  EXPECT_EQ(back.rng, ck.rng);
  EXPECT_EQ(back.loader_epoch, 2);
  EXPECT_EQ(back.val_loader_epoch, 3);
  ASSERT_EQ(back.history.size(), 1u);
  EXPECT_EQ(back.history[0].at("loss"), 0.1 + 0.2);
  EXPECT_TRUE(std::isnan(back.history[0].at("f1")));
  EXPECT_EQ(back.metadata, ck.metadata);
  // The weights are an ordinary safetensors file.
  EXPECT_EQ(nb::load_safetensors(dir / "c.safetensors").count("model.w"), 1u);
  EXPECT_THROW(
      nb::save_checkpoint(dir / "d.safetensors", {.metadata = {{"nabla.checkpoint", "x"}}}),
      nb::ValueError);
}

TEST(TrainingCheckpoint, DamagedFilesAreIOErrorsNamingTheFile) {
  TempDir dir;
  const std::string path = dir / "ck.safetensors";
  nb::save_checkpoint(path, {.model = {{"w", nb::randn({64})}}, .epoch = 1});
  const std::string good = read_bytes(path);

  write_bytes(path, good.substr(0, good.size() / 2));  // truncated
  std::string msg = error_of<nb::IOError>([&] { nb::load_checkpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_FALSE(nb::is_checkpoint(path));

  write_bytes(path, good.substr(0, 5));  // shorter than the header length
  msg = error_of<nb::IOError>([&] { nb::load_checkpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;

  std::string flipped = good;
  flipped[flipped.size() - 3] ^= 0x10;  // one bit of the last weight
  write_bytes(path, flipped);
  msg = error_of<nb::IOError>([&] { nb::load_checkpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("corrupted"), std::string::npos) << msg;

  std::string header = good;
  header[8] = '#';  // the JSON header
  write_bytes(path, header);
  msg = error_of<nb::IOError>([&] { nb::load_checkpoint(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;

  nb::save_safetensors(path, {{"w", nb::randn({2})}});  // weights only
  msg = error_of<nb::IOError>([&] { nb::load_checkpoint(path); });
  EXPECT_NE(msg.find("not a nabla checkpoint"), std::string::npos) << msg;

  msg = error_of<nb::IOError>([&] { nb::load_checkpoint(dir / "missing.safetensors"); });
  EXPECT_NE(msg.find(dir / "missing.safetensors"), std::string::npos) << msg;
}

TEST(TrainingCheckpoint, FitRejectsACheckpointOfAnotherRun) {
  TempDir dir;
  TrainingRun small(1, 16);
  small.fit(1, dir / "ck.safetensors");
  TrainingRun wide(1, 32);  // other layer sizes
  std::string msg = error_of<nb::ShapeError>([&] { wide.fit(2, "", dir / "ck.safetensors"); });
  EXPECT_NE(msg.find(dir / "ck.safetensors"), std::string::npos) << msg;

  TrainingRun no_schedule(1);
  no_schedule.sched.reset();
  EXPECT_THROW(no_schedule.fit(2, "", dir / "ck.safetensors"), nb::ValueError);

  std::string bytes = read_bytes(dir / "ck.safetensors");
  write_bytes(dir / "ck.safetensors", bytes.substr(0, bytes.size() - 100));
  TrainingRun again(1);
  msg = error_of<nb::IOError>([&] { again.fit(2, "", dir / "ck.safetensors"); });
  EXPECT_NE(msg.find(dir / "ck.safetensors"), std::string::npos) << msg;
}
