// A training config (docs/cli.md): reading and checking it, and building what it describes.
// Every problem is a ConfigError naming the file and the key at fault, raised before training.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "json_node.h"
#include "layers.h"
#include "nabla/data/dataset.h"
#include "nabla/nn/module.h"
#include "nabla/optim/optimizer.h"
#include "nabla/optim/schedule.h"
#include "nabla/train/fit.h"

namespace nabla::cli {

struct DataSpec {
  std::string kind;                                                  // "fashion-mnist" or "idx"
  std::string dir;                                                   // fashion-mnist
  std::string train_images, train_labels, test_images, test_labels;  // idx; test optional
  std::vector<std::string> classes;
  bool shuffle = true;
  int num_workers = 0;
};

struct Config {
  std::shared_ptr<const nlohmann::json> json;  // as read; nodes below point into it
  std::string source;                          // the file name in messages
  std::optional<Shape> input_shape;            // per example; from the data when absent
  DataSpec data;
  int epochs = 1;
  int64_t batch_size = 64;
  uint64_t seed = 0;
  std::vector<std::string> metrics{"accuracy"};
  bool validate = true;
  // Built from "loss", "optimizer" and "schedule" while parsing (so unknown keys and wrong
  // types show up at once); the make_* functions below call them.
  std::string loss_name;
  train::LossFn loss;
  std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)> optimizer;
  std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)> schedule;  // may be empty

  JsonNode root() const { return JsonNode(*json, source); }
};

// Parses and checks every key (types, known names, data files present). `source` names
// the config in messages.
Config parse_config(const std::string& text, const std::string& source);
Config read_config(const std::string& path);

// The model and, per layer, its factory's extras and its config path ("model[3] (Linear)").
struct Model {
  std::shared_ptr<nn::Sequential> net;
  std::vector<Layer> layers;
  std::vector<std::string> paths;
};
Model build_model(const Config& config);

// A forward pass in eval mode without gradients over one example of `input` (per example)
// through each layer in turn: the output shape of each (batch 1 first). ConfigError naming
// the layer whose input does not fit.
std::vector<Shape> check_shapes(Model& model, const Config& config, const Shape& input);

// The loss, checked on `output` and `target` (ConfigError naming "loss" when they do not fit).
train::LossFn make_loss(const Config& config, const Tensor& output, const Tensor& target);
std::unique_ptr<optim::Optimizer> make_optimizer(const Config& config, nn::Module& model);
// nullptr when the config has no schedule.
std::unique_ptr<optim::LRScheduler> make_schedule(const Config& config, optim::Optimizer& opt);

struct Data {
  std::shared_ptr<data::TensorDataset> train, test;  // test: null when the config has none
  Shape input_shape;                                 // per example
  std::vector<std::string> classes;
};
// Reads the data; `limit` > 0 keeps the first `limit` examples of each split. Reader
// errors are ConfigErrors naming the key of the file.
Data load_data(const Config& config, int64_t limit, bool train_split = true);

// The per-example input shape known without reading the data: "input_shape", or
// (1, 28, 28) for Fashion-MNIST. Lets shape errors show before the data loads.
std::optional<Shape> declared_input_shape(const Config& config);

// Images as float32 (uint8 scaled to [0, 1]) with a channel dim for (N, H, W); labels int64.
Tensor images_from_idx(const Tensor& raw);
Tensor labels_from_idx(const Tensor& raw);

}  // namespace nabla::cli
