// The `nabla` command line, run as a program on a 512-image subset of Fashion-MNIST: train,
// eval, predict, info, resume, and configs that must fail before training with an error
// naming the key at fault.
#include <gtest/gtest.h>
#include <nabla/nabla.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kData = "/usr/share/datasets/fashion-mnist";

struct Result {
  int rc;
  std::string out;  // stdout and stderr
};

Result nabla_cli(const std::string& args) {
  const std::string cmd = std::string(NABLA_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(kData) / "train-images-idx3-ubyte.gz"))
      GTEST_SKIP() << "Fashion-MNIST is not installed (dataset-fashion-mnist)";
    dir_ = fs::temp_directory_path() /
           ("nabla_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A small MLP with dropout (so the random generator matters on resume).
  static json tiny_config() {
    return json::parse(R"({
      "data": {"dataset": "fashion-mnist"},
      "model": ["Flatten",
                {"type": "Linear", "in_features": 784, "out_features": 32},
                "ReLU",
                {"type": "Dropout", "p": 0.2},
                {"type": "Linear", "in_features": 32, "out_features": 10}],
      "loss": "cross_entropy",
      "optimizer": {"type": "adam", "lr": 0.003},
      "schedule": {"type": "step", "step_size": 1, "gamma": 0.5},
      "epochs": 3,
      "batch_size": 64,
      "seed": 7
    })");
  }
  std::string write_config(const std::string& name, const json& config) const {
    std::ofstream(path(name)) << config.dump(2);
    return path(name);
  }
  static json read_json(const std::string& p) {
    std::ifstream f(p);
    return json::parse(f);
  }

  fs::path dir_;
};

// An uncompressed IDX file of uint8 values.
void write_idx(const std::string& path, const std::vector<int32_t>& dims,
               const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary);
  const unsigned char magic[4] = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  f.write(reinterpret_cast<const char*>(magic), 4);
  for (int32_t d : dims) {
    const unsigned char be[4] = {static_cast<unsigned char>(d >> 24),
                                 static_cast<unsigned char>(d >> 16),
                                 static_cast<unsigned char>(d >> 8), static_cast<unsigned char>(d)};
    f.write(reinterpret_cast<const char*>(be), 4);
  }
  f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

// The first n test images of Fashion-MNIST as raw bytes (n * 784).
std::vector<uint8_t> test_images(int64_t n) {
  nabla::data::FashionMNIST test(kData, false);
  std::vector<float> px = test.inputs().slice(0, 0, n).to_vector<float>();
  std::vector<uint8_t> out(px.size());
  for (std::size_t i = 0; i < px.size(); ++i) out[i] = uint8_t(px[i] * 255.f + 0.5f);
  return out;
}

// A 24-bit BMP (bottom-up rows padded to 4 bytes) of a grey 28x28 image.
void write_bmp(const std::string& path, const uint8_t* grey) {
  const int w = 28, h = 28, row = (w * 3 + 3) / 4 * 4, size = 54 + row * h;
  std::vector<unsigned char> b(std::size_t(size), 0);
  auto put32 = [&](int at, int v) {
    for (int i = 0; i < 4; ++i) b[std::size_t(at + i)] = static_cast<unsigned char>(v >> (8 * i));
  };
  b[0] = 'B', b[1] = 'M';
  put32(2, size), put32(10, 54), put32(14, 40), put32(18, w), put32(22, h);
  b[26] = 1, b[28] = 24;
  put32(34, row * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        b[std::size_t(54 + (h - 1 - y) * row + x * 3 + c)] = grey[y * w + x];
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), size);
}

}  // namespace

TEST_F(Cli, TrainThenEvalPredictInfo) {
  const std::string cfg = write_config("tiny.json", tiny_config());
  const std::string out = path("run");
  Result r = nabla_cli("train " + cfg + " --epochs 1 --limit 512 --out " + out);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("epoch 1/1"), std::string::npos) << r.out;  // the progress display
  EXPECT_NE(r.out.find("confusion matrix"), std::string::npos) << r.out;
  for (const char* f : {"model.safetensors", "checkpoint.safetensors", "report.json"})
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;

  const json report = read_json(out + "/report.json");
  EXPECT_EQ(report["history"]["loss"].size(), 1u);
  EXPECT_EQ(report["train_examples"], 512);
  EXPECT_EQ(report["parameters"], 784 * 32 + 32 + 32 * 10 + 10);
  EXPECT_GT(report["samples_per_s"].get<double>(), 0);
  EXPECT_GT(report["wall_seconds"].get<double>(), 0);
  EXPECT_EQ(report["config"], tiny_config());
  const json& test = report["test"];
  EXPECT_EQ(test["examples"], 512);
  EXPECT_GT(test["accuracy"].get<double>(), 0.3);  // chance is 0.1
  int64_t total = 0, right = 0;
  ASSERT_EQ(test["confusion_matrix"].size(), 10u);
  for (std::size_t t = 0; t < 10; ++t)
    for (std::size_t p = 0; p < 10; ++p) {
      total += test["confusion_matrix"][t][p].get<int64_t>();
      if (t == p) right += test["confusion_matrix"][t][p].get<int64_t>();
    }
  EXPECT_EQ(total, 512);
  EXPECT_DOUBLE_EQ(double(right) / 512, test["accuracy"].get<double>());

  // The model file is the weights plus the config: one file is enough.
  const auto meta = nabla::load_safetensors_metadata(out + "/model.safetensors");
  EXPECT_EQ(json::parse(meta.at("nabla.config")), tiny_config());

  // eval on the same 512 test images gives the report's test scores.
  r = nabla_cli("eval " + out + "/model.safetensors " + kData + " --limit 512 --report " +
                path("eval.json"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Ankle boot"), std::string::npos) << r.out;  // class names in the matrix
  const json ev = read_json(path("eval.json"));
  EXPECT_EQ(ev["accuracy"], test["accuracy"]);
  EXPECT_EQ(ev["confusion_matrix"], test["confusion_matrix"]);
  EXPECT_NEAR(ev["loss"].get<double>(), test["loss"].get<double>(), 1e-9);

  // eval and predict on IDX files.
  const std::vector<uint8_t> px = test_images(5);
  write_idx(path("five-images"), {5, 28, 28}, px);
  const std::vector<int64_t> truth =
      nabla::data::FashionMNIST(kData, false).targets().slice(0, 0, 5).to_vector<int64_t>();
  write_idx(path("five-labels"), {5}, std::vector<uint8_t>(truth.begin(), truth.end()));
  r = nabla_cli("eval " + out + "/model.safetensors " + path("five-images") + " --labels " +
                path("five-labels"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("examples: 5"), std::string::npos) << r.out;
  r = nabla_cli("eval " + out + "/model.safetensors " + path("five-images"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("needs --labels"), std::string::npos) << r.out;

  r = nabla_cli("predict " + out + "/model.safetensors " + path("five-images") +
                " --top 2 --json " + path("p.json"));
  ASSERT_EQ(r.rc, 0) << r.out;
  const json pred = read_json(path("p.json"))["predictions"];
  ASSERT_EQ(pred.size(), 5u);
  for (const json& p : pred) {
    ASSERT_EQ(p["top"].size(), 2u);
    EXPECT_GE(p["top"][0]["probability"].get<double>(), p["top"][1]["probability"].get<double>());
    EXPECT_EQ(p["top"][0]["name"],
              nabla::data::FashionMNIST::kClasses[p["top"][0]["class"].get<std::size_t>()]);
  }
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1 + 5 * 2)
      << r.out;  // header + 2 per image

  // predict on an image file: the same class as its IDX copy.
  write_bmp(path("first.bmp"), px.data());
  r = nabla_cli("predict " + out + "/model.safetensors " + path("first.bmp") + " --json " +
                path("img.json"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(read_json(path("img.json"))["predictions"][0]["top"][0]["class"],
            pred[0]["top"][0]["class"]);

  // A wrong input shape names both shapes.
  write_idx(path("flat"), {2, 784}, std::vector<uint8_t>(2 * 784, 0));
  r = nabla_cli("predict " + out + "/model.safetensors " + path("flat"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("examples have shape (784,) but the model expects (1, 28, 28)"),
            std::string::npos)
      << r.out;

  // info: layers, output shapes, parameters and FLOPs (2 per multiply-add, plus the bias).
  r = nabla_cli("info " + out + "/model.safetensors");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Linear(in=784, out=32)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(32,)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters: 25,450"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FLOPs per example: 50,858"), std::string::npos)
      << r.out;  // 32*1569 + 10*65

  // info also reads a config, here the CNN of examples/: conv FLOPs as in the example's net.
  r = nabla_cli(std::string("info ") + NABLA_SOURCE_DIR +
                "/examples/configs/fashion_mnist_cnn.json");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("parameters: 3,274,634"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FLOPs per example: 27,806,474"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(64, 7, 7)"), std::string::npos) << r.out;
}

// The norm, transposed-convolution, upsampling and 1-d/3-d layers are in the config table:
// an autoencoder-like net passes the shape dry run and info counts its parameters.
TEST_F(Cli, InfoOnNormTransposedAndUpsampleLayers) {
  const json config = json::parse(R"({
    "data": {"dataset": "fashion-mnist"},
    "model": [{"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3,
               "padding": 1},
              {"type": "BatchNorm2d", "num_features": 8},
              "ReLU",
              {"type": "MaxPool2d", "kernel_size": 2},
              {"type": "GroupNorm", "num_groups": 2, "num_channels": 8},
              {"type": "ConvTranspose2d", "in_channels": 8, "out_channels": 4, "kernel_size": 2,
               "stride": 2},
              {"type": "Upsample", "scale_factor": 0.5, "mode": "bilinear"},
              {"type": "Unflatten", "dim": 1, "sizes": [1, 4]},
              {"type": "AvgPool3d", "kernel_size": 2},
              {"type": "Flatten"},
              {"type": "LayerNorm", "normalized_shape": 98},
              {"type": "Linear", "in_features": 98, "out_features": 10}],
    "loss": "cross_entropy",
    "optimizer": {"type": "adam", "lr": 0.001},
    "epochs": 1
  })");
  Result r = nabla_cli("info " + write_config("mixed.json", config));
  ASSERT_EQ(r.rc, 0) << r.out;
  // conv 80 + bn 16 + gn 16 + convT 8*4*4+4=132 + ln 196 + linear 990
  EXPECT_NE(r.out.find("parameters: 1,430"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(4, 14, 14)"), std::string::npos) << r.out;  // after the transposed conv
  EXPECT_NE(r.out.find("(1, 2, 7, 7)"), std::string::npos) << r.out;  // after the 3-d pool

  json bad = config;
  bad["model"][1]["num_features"] = 6;
  r = nabla_cli("info " + write_config("bad.json", bad));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("bad.json: model[1] (BatchNorm2d): expects 6 channels, got 8"),
            std::string::npos)
      << r.out;
}

// Training 1 epoch then resuming to 2 gives the same losses, bit for bit, as 2 epochs.
TEST_F(Cli, ResumeMatchesAnUninterruptedRun) {
  const std::string cfg = write_config("tiny.json", tiny_config());
  Result r = nabla_cli("train " + cfg + " --epochs 2 --limit 512 -q --out " + path("whole"));
  ASSERT_EQ(r.rc, 0) << r.out;
  r = nabla_cli("train " + cfg + " --epochs 1 --limit 512 -q --out " + path("part"));
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(nabla::load_checkpoint(path("part/checkpoint.safetensors")).epoch, 1);
  r = nabla_cli("resume " + path("part/checkpoint.safetensors") + " --epochs 2 -q");
  ASSERT_EQ(r.rc, 0) << r.out;
  const json whole = read_json(path("whole/report.json")),
             resumed = read_json(path("part/report.json"));
  ASSERT_EQ(resumed["history"]["loss"].size(), 2u);
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy", "lr"})
    EXPECT_EQ(resumed["history"][key], whole["history"][key]) << key;
  EXPECT_EQ(resumed["test"], whole["test"]);
  EXPECT_EQ(nabla::load_checkpoint(path("part/checkpoint.safetensors")).epoch, 2);

  // A damaged checkpoint is an error naming it, not a crash.
  std::ofstream(path("bad.safetensors"), std::ios::binary) << "not a checkpoint";
  r = nabla_cli("resume " + path("bad.safetensors"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find(path("bad.safetensors")), std::string::npos) << r.out;
}

// IDX files named in the config (with class names), and a missing one.
TEST_F(Cli, TrainsOnIdxFiles) {
  const std::vector<uint8_t> px = test_images(128);
  const auto labels =
      nabla::data::FashionMNIST(kData, false).targets().slice(0, 0, 128).to_vector<int64_t>();
  write_idx(path("x.idx"), {128, 28, 28}, px);
  write_idx(path("y.idx"), {128}, std::vector<uint8_t>(labels.begin(), labels.end()));
  json c = tiny_config();
  c["data"] = {{"train_images", path("x.idx")},
               {"train_labels", path("y.idx")},
               {"test_images", path("x.idx")},
               {"test_labels", path("y.idx")},
               {"classes", {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}};
  Result r =
      nabla_cli("train " + write_config("idx.json", c) + " --epochs 2 -q --out " + path("run"));
  ASSERT_EQ(r.rc, 0) << r.out;
  const json report = read_json(path("run/report.json"));
  EXPECT_EQ(report["train_examples"], 128);
  EXPECT_EQ(report["test"]["per_class"][9]["class"], "j");

  c["data"]["train_labels"] = path("missing.idx");
  r = nabla_cli("train " + write_config("idx.json", c) + " -q --out " + path("run2"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("idx.json: data.train_labels: file not found: " + path("missing.idx")),
            std::string::npos)
      << r.out;

  write_idx(path("y.idx"), {100}, std::vector<uint8_t>(100, 0));
  c["data"]["train_labels"] = path("y.idx");
  r = nabla_cli("train " + write_config("idx.json", c) + " -q --out " + path("run2"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("data.train_labels: 100 labels for 128 images"), std::string::npos) << r.out;
}

// Each bad config fails before training (no checkpoint written) with the key at fault.
TEST_F(Cli, BadConfigsNameTheKeyAtFault) {
  struct Case {
    std::function<void(json&)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](json& c) { c["model"][1]["in_features"] = 700; },
       "bad.json: model[1] (Linear): expects 700 input features, got 784"},
      {[](json& c) { c["model"][2] = "Relu"; },
       "bad.json: model[2]: unknown layer 'Relu'; did you mean 'ReLU'?"},
      {[](json& c) { c["model"][2] = "Conv4d"; },
       "bad.json: model[2]: unknown layer 'Conv4d' (known: "},
      {[](json& c) { c["model"][1]["inputs"] = 3; },
       "bad.json: model[1] (Linear): unknown argument 'inputs' (known: bias, in_features, "
       "out_features)"},
      {[](json& c) { c["model"][1]["out_features"] = "32"; },
       "bad.json: model[1] (Linear).out_features: expects an integer, got string \"32\""},
      {[](json& c) { c["model"][3]["p"] = 1.5; },
       "bad.json: model[3] (Dropout): [Dropout] p must be in [0, 1)"},
      {[](json& c) {
         c["model"] = json::parse(
             R"([{"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3}])");
       },
       "bad.json: model[0] (Conv2d): expects 3 input channels, got 1"},
      {[](json& c) {
         c["model"].insert(c["model"].begin(), json{{"type", "MaxPool2d"}, {"kernel_size", 64}});
       },
       "bad.json: model[0] (MaxPool2d): input (1, 1, 28, 28): "},
      {[](json& c) { c["epochs"] = "five"; },
       "bad.json: epochs: expects an integer, got string \"five\""},
      {[](json& c) { c["epoch"] = 3; }, "bad.json: unknown key 'epoch' (known: "},
      {[](json& c) { c.erase("model"); }, "bad.json: missing key 'model'"},
      {[](json& c) { c["optimizer"]["type"] = "adamx"; },
       "bad.json: optimizer.type: unknown optimizer 'adamx'"},
      {[](json& c) { c["optimizer"]["lr"] = "fast"; },
       "bad.json: optimizer.lr: expects a number, got string"},
      {[](json& c) { c["optimizer"]["momentum"] = 0.9; },
       "bad.json: optimizer: unknown argument 'momentum' (known: amsgrad, betas, eps, lr, "
       "weight_decay)"},
      {[](json& c) { c["schedule"]["type"] = "cosine_restarts"; },
       "bad.json: schedule.type: unknown schedule 'cosine_restarts'"},
      {[](json& c) { c["loss"] = "hinge"; }, "bad.json: loss: unknown loss 'hinge'"},
      {[](json& c) {
         c["metrics"] = {"accuracy", "auc"};
       },
       "bad.json: metrics[1]: "},
      {[](json& c) { c["data"]["dir"] = "/nonexistent"; },
       "bad.json: data.dir: no train-images-idx3-ubyte[.gz] in /nonexistent"},
      {[](json& c) {
         c["data"] = {{"train_images", "/nonexistent/x.idx"},
                      {"train_labels", "/nonexistent/y.idx"}};
       },
       "bad.json: data.train_images: file not found: /nonexistent/x.idx"},
  };
  for (const Case& k : cases) {
    json c = tiny_config();
    k.edit(c);
    const Result r = nabla_cli("train " + write_config("bad.json", c) + " -q --out " + path("out"));
    EXPECT_EQ(r.rc, 1) << k.message;
    EXPECT_NE(r.out.find("nabla: error: " + path(k.message)), std::string::npos)
        << "expected: " << k.message << "\ngot: " << r.out;
    EXPECT_FALSE(fs::exists(path("out/checkpoint.safetensors"))) << k.message;
  }
  std::ofstream(path("broken.json")) << "{\"model\": [}";
  const Result r = nabla_cli("train " + path("broken.json"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find(path("broken.json") + ": not valid JSON"), std::string::npos) << r.out;
  EXPECT_NE(nabla_cli("train " + path("none.json")).out.find(path("none.json") + ": cannot open"),
            std::string::npos);
  EXPECT_NE(nabla_cli("frobnicate").rc, 0);
}

// viz: a model's graph (traced with a placeholder) and a saved compiled function, as DOT; SVG
// through Graphviz when it is installed, else an error that says what to install.
TEST_F(Cli, VizWritesTheGraphAsDot) {
  Result r = nabla_cli(std::string("viz ") + NABLA_SOURCE_DIR +
                       "/examples/configs/fashion_mnist_cnn.json");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.rfind("digraph nabla {", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("conv2d"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(1, 64, 7, 7) float32"), std::string::npos) << r.out;

  namespace nb = nabla;
  auto a = nb::placeholder("a", {4});
  nb::save_function(path("f.nbf"), nb::compile(nb::tanh(a) * a));
  r = nabla_cli("viz " + path("f.nbf") + " -o " + path("f.dot"));
  ASSERT_EQ(r.rc, 0) << r.out;
  std::ifstream in(path("f.dot"));
  const std::string dot((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(dot.find("tanh"), std::string::npos) << dot;
  EXPECT_NE(dot.find("mul"), std::string::npos) << dot;

  const bool graphviz = std::system("command -v dot > /dev/null 2>&1") == 0;
  r = nabla_cli("viz " + path("f.nbf") + " -o " + path("f.svg"));
  if (graphviz) {
    ASSERT_EQ(r.rc, 0) << r.out;
    EXPECT_TRUE(fs::exists(path("f.svg")));
  } else {
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("needs Graphviz"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(path("f.svg")));
  }
  r = nabla_cli("viz " + path("missing.json"));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("missing.json"), std::string::npos) << r.out;
}
