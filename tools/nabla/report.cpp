#include "report.h"

#include <cmath>
#include <iomanip>

#include "io/atomic_file.h"
#include "nabla/autograd.h"

namespace nabla::cli {

Scores score(nn::Module& model, const train::LossFn& loss, data::DataLoader& loader,
             const std::vector<std::string>& metrics) {
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  std::vector<std::unique_ptr<train::Metric>> ms;
  for (const auto& m : metrics) ms.push_back(train::make_metric(m));
  Scores s;
  double loss_sum = 0;
  for (auto& batch : loader) {
    const Tensor out = model.forward(batch.inputs);
    const int64_t n = batch.inputs.size(0);
    if (loss) loss_sum += loss(out, batch.targets).item<double>() * double(n);
    for (auto& m : ms) m->update(out, batch.targets);
    if (out.ndim() == 2 && out.size(1) > 1 && !is_floating(batch.targets.dtype())) {
      if (!s.confusion) s.confusion = std::make_unique<train::ConfusionMatrix>(out.size(1));
      s.confusion->update(out, batch.targets);
    }
    s.examples += n;
  }
  model.train(was_training);
  if (s.examples == 0) throw ValueError("no examples to score");
  if (loss) s.values["loss"] = loss_sum / double(s.examples);
  for (auto& m : ms) s.values[m->name()] = m->result();
  return s;
}

nlohmann::json scores_json(const Scores& s, const std::vector<std::string>& classes) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : s.values)
    j[k] = std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
  j["examples"] = s.examples;
  if (s.confusion) {
    const int64_t n = s.confusion->num_classes();
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t t = 0; t < n; ++t) {
      std::vector<int64_t> row;
      for (int64_t p = 0; p < n; ++p) row.push_back(s.confusion->count(t, p));
      rows.push_back(row);
    }
    j["confusion_matrix"] = rows;  // rows: true class, columns: predicted class
    nlohmann::json per_class = nlohmann::json::array();
    for (int64_t c = 0; c < n; ++c)
      per_class.push_back(
          {{"class", std::size_t(c) < classes.size() ? classes[std::size_t(c)] : std::to_string(c)},
           {"precision", s.confusion->precision(c)},
           {"recall", s.confusion->recall(c)},
           {"f1", s.confusion->f1(c)}});
    j["per_class"] = per_class;
  }
  return j;
}

void print_scores(const Scores& s, const std::vector<std::string>& classes, std::ostream& out) {
  out << "examples: " << s.examples << "\n";
  for (const auto& [k, v] : s.values) out << k << ": " << std::setprecision(6) << v << "\n";
  if (s.confusion) {
    out << "confusion matrix (rows: true class, columns: predicted)\n";
    out << s.confusion->to_string(classes.size() == std::size_t(s.confusion->num_classes())
                                      ? classes
                                      : std::vector<std::string>{});
  }
}

void write_json(const std::string& path, const nlohmann::json& json) {
  const std::string text = json.dump(2) + "\n";
  write_file_atomically(path, {text});
}

}  // namespace nabla::cli
