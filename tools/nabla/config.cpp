#include "config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "nabla/autograd.h"
#include "nabla/data/idx.h"
#include "nabla/nn/loss.h"
#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/reduce.h"

namespace nabla::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

// The "type" of an entry given as a string or an object, lower-cased ("Adam" -> "adam").
std::string type_of(const JsonNode& n) {
  if (n.is_string()) return lower(n.string());
  return lower(n.at("type").string());
}

[[noreturn]] void unknown_type(const JsonNode& n, const std::string& what, const std::string& type,
                               const std::vector<std::string>& known) {
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  (n.is_string() ? n : n.at("type"))
      .fail("unknown " + what + " '" + type + "' (known: " + list + ")");
}

// Arguments of a string-or-object entry (a string has none).
Args args_of(const JsonNode& n) {
  static const json none = json::object();
  return Args(n.is_string() ? JsonNode(none, n.file(), n.path()) : n);
}

// Targets for losses that compare values: class indices become one-hot rows.
Tensor as_values(const Tensor& output, const Tensor& target) {
  if (is_floating(target.dtype()) || output.ndim() != 2) return target;
  return one_hot(target, output.size(1)).astype(output.dtype());
}

train::LossFn parse_loss(const JsonNode& n, std::string& name) {
  name = type_of(n);
  Args a = args_of(n);
  train::LossFn fn;
  if (name == "cross_entropy") {
    nn::CrossEntropyOptions o;
    o.label_smoothing = a.number("label_smoothing", 0.0);
    fn = [o](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t, o); };
  } else if (name == "nll") {
    fn = [](const Tensor& y, const Tensor& t) { return nn::nll_loss(y, t); };
  } else if (name == "mse") {
    fn = [](const Tensor& y, const Tensor& t) { return nn::mse_loss(y, as_values(y, t)); };
  } else if (name == "l1") {
    fn = [](const Tensor& y, const Tensor& t) { return nn::l1_loss(y, as_values(y, t)); };
  } else if (name == "smooth_l1") {
    const double beta = a.number("beta", 1.0);
    fn = [beta](const Tensor& y, const Tensor& t) {
      return nn::smooth_l1_loss(y, as_values(y, t), beta);
    };
  } else if (name == "huber") {
    const double delta = a.number("delta", 1.0);
    fn = [delta](const Tensor& y, const Tensor& t) {
      return nn::huber_loss(y, as_values(y, t), delta);
    };
  } else {
    unknown_type(n, "loss", name, {"cross_entropy", "nll", "mse", "l1", "smooth_l1", "huber"});
  }
  a.check_all_used();
  return fn;
}

using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

OptimizerFactory parse_optimizer(const JsonNode& n) {
  const std::string type = type_of(n);
  Args a = args_of(n);
  OptimizerFactory f;
  if (type == "sgd") {
    optim::SGDOptions o{.lr = a.number("lr", 0.01),
                        .momentum = a.number("momentum", 0),
                        .dampening = a.number("dampening", 0),
                        .weight_decay = a.number("weight_decay", 0),
                        .nesterov = a.boolean("nesterov", false)};
    f = [o](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(std::move(p), o); };
  } else if (type == "adam" || type == "adamw") {
    const bool w = type == "adamw";
    optim::AdamOptions o{.lr = a.number("lr", 1e-3),
                         .weight_decay = a.number("weight_decay", w ? 1e-2 : 0)};
    if (a.has("betas")) {
      const JsonNode b = a.node().at("betas");
      const auto e = b.elements();
      if (e.size() != 2) b.fail("expects 2 numbers, got " + std::to_string(e.size()));
      o.beta1 = e[0].number();
      o.beta2 = e[1].number();
    }
    o.eps = a.number("eps", 1e-8);
    o.amsgrad = a.boolean("amsgrad", false);
    f = [o, w](std::vector<Tensor> p) -> std::unique_ptr<optim::Optimizer> {
      if (w) return std::make_unique<optim::AdamW>(std::move(p), o);
      return std::make_unique<optim::Adam>(std::move(p), o);
    };
  } else if (type == "adagrad") {
    optim::AdagradOptions o{.lr = a.number("lr", 1e-2),
                            .lr_decay = a.number("lr_decay", 0),
                            .weight_decay = a.number("weight_decay", 0),
                            .initial_accumulator_value = a.number("initial_accumulator_value", 0),
                            .eps = a.number("eps", 1e-10)};
    f = [o](std::vector<Tensor> p) { return std::make_unique<optim::Adagrad>(std::move(p), o); };
  } else if (type == "rmsprop") {
    optim::RMSpropOptions o{.lr = a.number("lr", 1e-2),
                            .alpha = a.number("alpha", 0.99),
                            .eps = a.number("eps", 1e-8),
                            .weight_decay = a.number("weight_decay", 0),
                            .momentum = a.number("momentum", 0),
                            .centered = a.boolean("centered", false)};
    f = [o](std::vector<Tensor> p) { return std::make_unique<optim::RMSprop>(std::move(p), o); };
  } else if (type == "adadelta") {
    optim::AdadeltaOptions o{.lr = a.number("lr", 1.0),
                             .rho = a.number("rho", 0.9),
                             .eps = a.number("eps", 1e-6),
                             .weight_decay = a.number("weight_decay", 0)};
    f = [o](std::vector<Tensor> p) { return std::make_unique<optim::Adadelta>(std::move(p), o); };
  } else {
    unknown_type(n, "optimizer", type, {"sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta"});
  }
  a.check_all_used();
  return f;
}

using ScheduleFactory = std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)>;

ScheduleFactory parse_schedule(const JsonNode& n, int epochs) {
  const std::string type = type_of(n);
  Args a = args_of(n);
  ScheduleFactory f;
  if (type == "step") {
    const int64_t step = a.integer("step_size");
    const double gamma = a.number("gamma", 0.1);
    f = [=](optim::Optimizer& o) { return std::make_unique<optim::StepLR>(o, step, gamma); };
  } else if (type == "multistep") {
    const Shape m = a.shape("milestones");
    const double gamma = a.number("gamma", 0.1);
    f = [=](optim::Optimizer& o) {
      return std::make_unique<optim::MultiStepLR>(o, std::vector<int64_t>(m.begin(), m.end()),
                                                  gamma);
    };
  } else if (type == "exponential") {
    const double gamma = a.number("gamma");
    f = [=](optim::Optimizer& o) { return std::make_unique<optim::ExponentialLR>(o, gamma); };
  } else if (type == "cosine") {
    const int64_t t_max = a.integer("t_max", epochs);
    const double eta_min = a.number("eta_min", 0);
    f = [=](optim::Optimizer& o) {
      return std::make_unique<optim::CosineAnnealingLR>(o, t_max, eta_min);
    };
  } else if (type == "cosine_warm_restarts") {
    const int64_t t_0 = a.integer("t_0"), t_mult = a.integer("t_mult", 1);
    const double eta_min = a.number("eta_min", 0);
    f = [=](optim::Optimizer& o) {
      return std::make_unique<optim::CosineAnnealingWarmRestarts>(o, t_0, t_mult, eta_min);
    };
  } else if (type == "linear") {
    const double start = a.number("start_factor", 1.0 / 3), end = a.number("end_factor", 1.0);
    const int64_t total = a.integer("total_iters", 5);
    f = [=](optim::Optimizer& o) {
      return std::make_unique<optim::LinearLR>(o, start, end, total);
    };
  } else {
    unknown_type(n, "schedule", type,
                 {"step", "multistep", "exponential", "cosine", "cosine_warm_restarts", "linear"});
  }
  a.check_all_used();
  return f;
}

// Checks that `node` names an existing file; returns its path.
std::string existing_file(const JsonNode& node) {
  const std::string p = node.string();
  if (!fs::is_regular_file(p)) node.fail("file not found: " + p);
  return p;
}

DataSpec parse_data(const JsonNode& n) {
  DataSpec d;
  d.kind = lower(n.string("dataset", n.has("train_images") ? "idx" : "fashion_mnist"));
  if (d.kind == "fashion_mnist" || d.kind == "mnist") {
    n.only({"dataset", "dir", "shuffle", "num_workers"});
    d.kind = "fashion-mnist";
    d.dir = n.string("dir", data::kFashionMNISTDir);
    for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
      if (!fs::exists(fs::path(d.dir) / f) &&
          !fs::exists(fs::path(d.dir) / (std::string(f) + ".gz")))
        (n.has("dir") ? n.at("dir") : n).fail("no " + std::string(f) + "[.gz] in " + d.dir);
    d.classes.assign(data::FashionMNIST::kClasses.begin(), data::FashionMNIST::kClasses.end());
  } else if (d.kind == "idx") {
    n.only({"dataset", "train_images", "train_labels", "test_images", "test_labels", "classes",
            "shuffle", "num_workers"});
    d.train_images = existing_file(n.at("train_images"));
    d.train_labels = existing_file(n.at("train_labels"));
    if (n.has("test_images") != n.has("test_labels"))
      n.fail("test_images and test_labels go together");
    if (n.has("test_images")) {
      d.test_images = existing_file(n.at("test_images"));
      d.test_labels = existing_file(n.at("test_labels"));
    }
    if (n.has("classes")) d.classes = n.at("classes").strings();
  } else {
    n.at("dataset").fail("unknown dataset '" + d.kind + "' (known: fashion-mnist, mnist, idx)");
  }
  d.shuffle = n.boolean("shuffle", true);
  d.num_workers = int(n.integer("num_workers", 0));
  if (d.num_workers < 0) n.at("num_workers").fail("must be >= 0");
  return d;
}

}  // namespace

Config parse_config(const std::string& text, const std::string& source) {
  Config c;
  c.source = source;
  try {
    c.json = std::make_shared<const json>(json::parse(text));
  } catch (const json::exception& e) {
    throw ConfigError(source + ": not valid JSON: " + e.what());
  }
  const JsonNode root = c.root();
  root.only({"name", "description", "model", "input_shape", "data", "loss", "optimizer", "schedule",
             "epochs", "batch_size", "seed", "metrics", "validate"});
  if (root.at("model").elements().empty()) root.at("model").fail("the model has no layers");
  if (root.has("input_shape")) {
    c.input_shape = root.at("input_shape").shape();
    for (int64_t d : *c.input_shape)
      if (d <= 0)
        root.at("input_shape").fail("dims must be positive, got " + shape_str(*c.input_shape));
  }
  c.data = parse_data(root.at("data"));
  c.epochs = int(root.integer("epochs", 1));
  if (c.epochs < 1) root.at("epochs").fail("must be >= 1, got " + std::to_string(c.epochs));
  c.batch_size = root.integer("batch_size", 64);
  if (c.batch_size < 1)
    root.at("batch_size").fail("must be >= 1, got " + std::to_string(c.batch_size));
  const int64_t seed = root.integer("seed", 0);
  if (seed < 0) root.at("seed").fail("must be >= 0");
  c.seed = uint64_t(seed);
  if (root.has("metrics")) c.metrics = root.at("metrics").strings();
  for (std::size_t i = 0; i < c.metrics.size(); ++i) try {
      train::make_metric(c.metrics[i]);
    } catch (const Error& e) {
      root.at("metrics").elements()[i].fail(e.what());
    }
  c.validate = root.boolean("validate", true);
  c.loss = parse_loss(
      root.has("loss") ? root.at("loss") : JsonNode(json("cross_entropy"), source, "loss"),
      c.loss_name);
  c.optimizer = parse_optimizer(root.at("optimizer"));
  if (root.has("schedule") && !root.at("schedule").is_null())
    c.schedule = parse_schedule(root.at("schedule"), c.epochs);
  return c;
}

Config read_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw ConfigError(path + ": cannot open the config file");
  return parse_config(std::string(std::istreambuf_iterator<char>(f), {}), path);
}

Model build_model(const Config& c) {
  Model m;
  m.net = std::make_shared<nn::Sequential>();
  for (const JsonNode& entry : c.root().at("model").elements()) {
    Layer layer = make_layer(entry);
    const std::string type = entry.is_string() ? entry.string() : entry.at("type").string();
    m.net->push_back(layer.module);
    m.paths.push_back(entry.path() + " (" + type + ")");
    m.layers.push_back(std::move(layer));
  }
  return m;
}

std::vector<Shape> check_shapes(Model& m, const Config& c, const Shape& input) {
  NoGradGuard no_grad;
  const bool was_training = m.net->is_training();
  m.net->eval();
  Shape batched{1};
  for (int64_t d : input) batched.push_back(d);
  Tensor x = zeros(batched);
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const JsonNode at = c.root().renamed(m.paths[i]);
    if (m.layers[i].check) {
      const std::string why = m.layers[i].check(x.shape());
      if (!why.empty()) at.fail(why);
    }
    try {
      x = m.layers[i].module->forward(x);
    } catch (const Error& e) {
      at.fail(std::string("input ") + shape_str(x.shape()) + ": " + e.what());
    }
    shapes.push_back(x.shape());
  }
  m.net->train(was_training);
  return shapes;
}

train::LossFn make_loss(const Config& c, const Tensor& output, const Tensor& target) {
  try {
    NoGradGuard no_grad;
    const Tensor l = c.loss(output, target);
    if (l.numel() != 1)
      throw ValueError("returns shape " + shape_str(l.shape()) + ", not one value");
  } catch (const Error& e) {
    const JsonNode n = c.root().has("loss") ? c.root().at("loss") : c.root().renamed("loss");
    n.renamed(n.path() + " (" + c.loss_name + ")")
        .fail("does not fit the model's output " + shape_str(output.shape()) + " and targets " +
              shape_str(target.shape()) + " " + std::string(dtype_name(target.dtype())) + ": " +
              e.what());
  }
  return c.loss;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Config& c, nn::Module& model) {
  try {
    return c.optimizer(model.parameters());
  } catch (const Error& e) {
    c.root().at("optimizer").fail(e.what());
  }
}

std::unique_ptr<optim::LRScheduler> make_schedule(const Config& c, optim::Optimizer& opt) {
  if (!c.schedule) return nullptr;
  try {
    return c.schedule(opt);
  } catch (const Error& e) {
    c.root().at("schedule").fail(e.what());
  }
}

std::optional<Shape> declared_input_shape(const Config& c) {
  if (c.input_shape) return c.input_shape;
  if (c.data.kind == "fashion-mnist") return Shape{1, 28, 28};
  return std::nullopt;
}

Tensor images_from_idx(const Tensor& raw) {
  Tensor x = raw.dtype() == uint8 ? raw.astype(float32) / 255.0f : raw.astype(float32);
  if (x.ndim() == 3) x = x.unsqueeze(1);
  return x.contiguous();
}

Tensor labels_from_idx(const Tensor& raw) {
  return raw.reshape({raw.numel()}).astype(int64).contiguous();
}

Data load_data(const Config& c, int64_t limit, bool train_split) {
  Data d;
  d.classes = c.data.classes;
  const JsonNode n = c.root().at("data");
  auto cut = [limit](Tensor t) {
    return limit > 0 && t.size(0) > limit ? t.slice(0, 0, limit).contiguous() : t;
  };
  auto read = [&](const std::string& key, const std::string& path) {
    try {
      return data::read_idx(path);
    } catch (const Error& e) {
      n.at(key).fail(e.what());
    }
  };
  auto pair = [&](const std::string& ik, const std::string& lk, const std::string& ip,
                  const std::string& lp) {
    Tensor x = images_from_idx(read(ik, ip)), y = labels_from_idx(read(lk, lp));
    if (x.ndim() < 2)
      n.at(ik).fail("expects examples along the first dim, got shape " + shape_str(x.shape()));
    if (x.size(0) != y.size(0))
      n.at(lk).fail(std::to_string(y.size(0)) + " labels for " + std::to_string(x.size(0)) +
                    " images");
    return std::make_shared<data::TensorDataset>(cut(x), cut(y));
  };
  if (c.data.kind == "fashion-mnist") {
    auto load = [&](bool train) {
      try {
        const data::FashionMNIST f(c.data.dir, train);
        return std::make_shared<data::TensorDataset>(cut(f.inputs()), cut(f.targets()));
      } catch (const Error& e) {
        n.fail(e.what());
      }
    };
    if (train_split) d.train = load(true);
    d.test = load(false);
  } else {
    if (train_split)
      d.train = pair("train_images", "train_labels", c.data.train_images, c.data.train_labels);
    if (!c.data.test_images.empty())
      d.test = pair("test_images", "test_labels", c.data.test_images, c.data.test_labels);
  }
  const auto& any = d.train ? d.train : d.test;
  if (any) d.input_shape = Shape(any->inputs().shape().begin() + 1, any->inputs().shape().end());
  if (c.input_shape && any && *c.input_shape != d.input_shape)
    c.root()
        .at("input_shape")
        .fail(shape_str(*c.input_shape) + " does not match the data's examples " +
              shape_str(d.input_shape));
  return d;
}

}  // namespace nabla::cli
