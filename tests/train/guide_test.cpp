// The example of docs/training.md, run as written.
#include <gtest/gtest.h>

#include "train/common.h"

namespace nb = nabla;

namespace {
// --- docs/training.md (class)
// Any nn::Module works; this one is y = x W + b (nn::Linear does the same).
class Affine : public nb::nn::Module {
 public:
  Affine(int64_t in, int64_t out) {
    w_ = register_parameter("weight", nb::randn({in, out}) * 0.1);
    b_ = register_parameter("bias", nb::zeros({out}));
  }
  nb::Tensor forward(const nb::Tensor& x) override { return nb::matmul(x, w_) + b_; }
  std::string describe() const override { return "Affine"; }

 private:
  nb::Tensor w_, b_;
};
// --- end of the class
}  // namespace

TEST(TrainingGuide, ExampleRuns) {
  train_test::TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path);
  std::ostringstream progress;
  std::streambuf* old = std::cout.rdbuf(progress.rdbuf());
  {
    // --- docs/training.md (body)
    namespace nt = nb::train;
    namespace nd = nb::data;
    nb::manual_seed(0);
    nb::Tensor x = nb::randn({512, 4});  // 512 examples
    nb::Tensor y = nb::matmul(x, nb::tensor(std::vector<float>{1, -2, 0.5f, 3}, {4, 1}));
    nd::DataLoader train(nd::TensorDataset(x.slice(0, 0, 448), y.slice(0, 0, 448)),
                         {.batch_size = 32, .shuffle = true});
    nd::DataLoader val(nd::TensorDataset(x.slice(0, 448, 512), y.slice(0, 448, 512)),
                       {.batch_size = 64});

    Affine model(4, 1);
    nb::optim::Adam opt(model.parameters(), {.lr = 0.05});
    nb::optim::StepLR schedule(opt, /*step_size=*/10, /*gamma=*/0.5);
    auto mse = [](const nb::Tensor& out, const nb::Tensor& target) {
      return ((out - target) * (out - target)).mean();  // or nn::cross_entropy, ...
    };
    nt::History history = nt::fit(
        model, mse, opt, train,
        {.epochs = 30,
         .validation = &val,
         .callbacks = {std::make_shared<nt::EarlyStopping>(
                           nt::EarlyStoppingOptions{.monitor = "val_loss", .patience = 3}),
                       std::make_shared<nt::ModelCheckpoint>(
                           "best.safetensors", nt::CheckpointOptions{.save_best_only = true})},
         .metrics = {"mae"},
         .scheduler = &schedule});
    history.save_csv("history.csv");  // epoch,loss,mae,val_loss,val_mae,lr,seconds,samples_per_s,data_wait_s
    std::map<std::string, double> scores = nt::evaluate(model, mse, val, {"mae", "mse"});
    nb::Tensor predictions = nt::predict(model, val);  // (64, 1)
    model.load_state_dict(nb::load_safetensors("best.safetensors"));
    // --- end of the example
    std::cout.rdbuf(old);
    EXPECT_LT(history.last("val_loss"), 0.01);
    EXPECT_LT(history.last("val_loss"), 1e-3 * history["val_loss"].front());
    EXPECT_NEAR(scores.at("mse"), scores.at("loss"), 1e-6);
    EXPECT_EQ(predictions.shape(), (nb::Shape{64, 1}));
    EXPECT_TRUE(train_test::read_text("history.csv")
                    .starts_with("epoch,loss,mae,val_loss,val_mae,lr,seconds,samples_per_s,data_wait_s\n1,"));
    EXPECT_DOUBLE_EQ(history["lr"][10], 0.025);
  }
  std::cout.rdbuf(old);
  std::filesystem::current_path(cwd);
  EXPECT_NE(progress.str().find("epoch 1/30"), std::string::npos);
}

// The example in docs/training.md is this file's code (compared without whitespace).
TEST(TrainingGuide, DocMatchesThisTest) {
  auto squeeze = [](const std::string& s) {
    std::string out;
    for (char c : s)
      if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    return out;
  };
  auto between = [](const std::string& text, const std::string& from, const std::string& to) {
    const std::size_t b = text.find(from), e = text.find(to, b + from.size());
    EXPECT_NE(b, std::string::npos) << from;
    EXPECT_NE(e, std::string::npos) << to;
    return b == std::string::npos || e == std::string::npos
               ? std::string()
               : text.substr(b + from.size(), e - b - from.size());
  };
  const std::string self =
      train_test::read_text(std::string(NABLA_SOURCE_DIR) + "/tests/train/guide_test.cpp");
  const std::string doc =
      train_test::read_text(std::string(NABLA_SOURCE_DIR) + "/docs/training.md");
  const std::string code =
      between(self, "// --- docs/training.md (class)", "// --- end of the class") +
      between(self, "// --- docs/training.md (body)", "// --- end of the example");
  EXPECT_EQ(squeeze(between(doc, "```cpp", "```")), squeeze(code));
}
