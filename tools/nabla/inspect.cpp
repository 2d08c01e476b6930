// `nabla eval`, `nabla predict` and `nabla info`: using a trained MODEL file.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "image.h"
#include "model_file.h"
#include "nabla/autograd.h"
#include "nabla/data/idx.h"
#include "nabla/data/loader.h"
#include "nabla/ops/join.h"
#include "nabla/ops/reduce.h"
#include "nabla/ops/unary.h"
#include "report.h"

namespace nabla::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Shape per_example(const Tensor& batch) {
  return Shape(batch.shape().begin() + 1, batch.shape().end());
}

void check_examples(const std::string& what, const Tensor& inputs, const Shape& expected) {
  if (inputs.ndim() < 1 || per_example(inputs) != expected)
    throw ShapeError(what + ": examples have shape " +
                     (inputs.ndim() ? shape_str(per_example(inputs)) : "()") +
                     " but the model expects " + shape_str(expected));
}

Tensor first(const Tensor& t, int64_t limit) {
  return limit > 0 && t.size(0) > limit ? t.slice(0, 0, limit).contiguous() : t;
}

// Runs the model over `inputs` in batches, in eval mode without gradients.
Tensor outputs_of(nn::Module& net, const Tensor& inputs, int64_t batch) {
  NoGradGuard no_grad;
  net.eval();
  std::vector<Tensor> outs;
  for (int64_t i = 0; i < inputs.size(0); i += batch)
    outs.push_back(net.forward(inputs.slice(0, i, std::min(inputs.size(0), i + batch))));
  return outs.size() == 1 ? outs[0] : concat(outs, 0);
}

std::string class_name(const std::vector<std::string>& classes, int64_t c) {
  return std::size_t(c) < classes.size() ? classes[std::size_t(c)] : std::to_string(c);
}

std::string with_commas(double v) {
  std::string s = std::to_string(int64_t(std::llround(v)));
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
  return s;
}

}  // namespace

int eval_command(const EvalArgs& a) {
  LoadedModel lm = load_model(a.model);
  Tensor x, y;
  if (a.data == "fashion-mnist" || fs::is_directory(a.data)) {
    const data::FashionMNIST f(a.data == "fashion-mnist" ? data::kFashionMNISTDir : a.data,
                               a.train_split);
    x = f.inputs();
    y = f.targets();
  } else {
    if (a.labels.empty())
      throw ValueError(a.data + ": an IDX images file needs --labels LABELS.idx");
    x = images_from_idx(data::read_idx(a.data));
    y = labels_from_idx(data::read_idx(a.labels));
    if (x.size(0) != y.size(0))
      throw ShapeError(a.labels + ": " + std::to_string(y.size(0)) + " labels for " +
                       std::to_string(x.size(0)) + " images in " + a.data);
  }
  x = first(x, a.limit);
  y = first(y, a.limit);
  check_examples(a.data, x, lm.input_shape);
  data::DataLoader loader(data::TensorDataset(x, y), {.batch_size = a.batch_size});
  const Scores s = score(*lm.model.net, lm.config.loss, loader, lm.config.metrics);
  print_scores(s, lm.classes, std::cout);
  if (!a.report.empty()) {
    json j = scores_json(s, lm.classes);
    j["model"] = a.model;
    j["data"] = a.data;
    write_json(a.report, j);
  }
  return 0;
}

int predict_command(const PredictArgs& a) {
  LoadedModel lm = load_model(a.model);
  Tensor x;
  if (is_image_file(a.input)) {
    if (lm.input_shape.size() != 3)
      throw ShapeError(a.input + ": the model expects examples of shape " +
                       shape_str(lm.input_shape) + ", not (C, H, W) images");
    x = read_image(a.input, int(lm.input_shape[0]));
  } else {
    x = images_from_idx(data::read_idx(a.input));
  }
  x = first(x, a.limit);
  check_examples(a.input, x, lm.input_shape);
  Tensor out = outputs_of(*lm.model.net, x, 500);
  const std::string& loss = lm.config.loss_name;
  const bool classify = out.ndim() == 2 && out.size(1) > 1;
  json results = json::array();
  if (classify) {
    const Tensor prob = loss == "cross_entropy" ? softmax(out, 1) : loss == "nll" ? exp(out) : out;
    const std::vector<float> p = prob.astype(float32).to_vector<float>();
    const int64_t n = out.size(0), c = out.size(1), k = std::min(std::max<int64_t>(a.top, 1), c);
    const char* what = loss == "cross_entropy" || loss == "nll" ? "probability" : "score";
    std::cout << "index\tclass\tname\t" << what << "\n";
    for (int64_t i = 0; i < n; ++i) {
      std::vector<int64_t> order(static_cast<std::size_t>(c));
      for (int64_t j = 0; j < c; ++j) order[std::size_t(j)] = j;
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t l, int64_t r) {
        return p[std::size_t(i * c + l)] > p[std::size_t(i * c + r)];
      });
      json top = json::array();
      for (int64_t j = 0; j < k; ++j) {
        const int64_t cls = order[std::size_t(j)];
        const float v = p[std::size_t(i * c + cls)];
        std::cout << (j == 0 ? std::to_string(i) : "") << "\t" << cls << "\t"
                  << class_name(lm.classes, cls) << "\t" << std::fixed << std::setprecision(4) << v
                  << "\n";
        top.push_back({{"class", cls}, {"name", class_name(lm.classes, cls)}, {what, v}});
      }
      results.push_back({{"index", i}, {"top", top}});
    }
  } else {
    const std::vector<float> v = out.astype(float32).to_vector<float>();
    const int64_t n = out.ndim() ? out.size(0) : 1, per = n ? int64_t(v.size()) / n : 0;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<float> row(v.begin() + i * per, v.begin() + (i + 1) * per);
      std::cout << i;
      for (float f : row) std::cout << "\t" << f;
      std::cout << "\n";
      results.push_back({{"index", i}, {"output", row}});
    }
  }
  if (!a.json.empty())
    write_json(a.json, {{"model", a.model}, {"input", a.input}, {"predictions", results}});
  return 0;
}

int info_command(const std::string& path) {
  LoadedModel lm = load_model(path);
  const Model& m = lm.model;
  std::ostringstream os;
  os << std::left << std::setw(5) << "#" << std::setw(36) << "layer" << std::setw(20)
     << "output shape" << std::right << std::setw(12) << "params" << std::setw(16) << "FLOPs"
     << "\n";
  os << std::string(89, '-') << "\n";
  Shape in{1};
  for (int64_t d : lm.input_shape) in.push_back(d);
  double total_flops = 0;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const nn::Module& layer = *m.layers[i].module;
    const Shape& out = lm.output_shapes[i];
    const double flops = m.layers[i].flops ? m.layers[i].flops(in, out) : 0;
    total_flops += flops;
    Shape shown(out.begin() + 1, out.end());
    os << std::left << std::setw(5) << i << std::setw(36) << layer.describe().substr(0, 35)
       << std::setw(20) << shape_str(shown) << std::right << std::setw(12)
       << with_commas(double(layer.num_parameters())) << std::setw(16) << with_commas(flops)
       << "\n";
    in = out;
  }
  os << std::string(89, '-') << "\n";
  os << "input shape: " << shape_str(lm.input_shape) << " (per example)\n";
  os << "parameters: " << with_commas(double(m.net->num_parameters())) << "\n";
  os << "FLOPs per example: " << with_commas(total_flops)
     << " (forward; a multiply-add counts 2; Linear and conv layers)\n";
  if (!lm.classes.empty()) {
    std::string names;
    for (const auto& c : lm.classes) names += (names.empty() ? "" : ", ") + c;
    os << "classes: " << names << "\n";
  }
  std::cout << os.str();
  return 0;
}

}  // namespace nabla::cli
