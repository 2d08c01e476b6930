// Scores of a model on a data set (loss, metrics, confusion matrix) and their JSON form.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nabla/data/loader.h"
#include "nabla/nn/module.h"
#include "nabla/train/fit.h"
#include "nabla/train/metrics.h"

namespace nabla::cli {

struct Scores {
  std::map<std::string, double> values;               // "loss" and each metric
  std::unique_ptr<train::ConfusionMatrix> confusion;  // null unless outputs are (N, C) scores
  int64_t examples = 0;
};

// One pass in eval mode without gradients.
Scores score(nn::Module& model, const train::LossFn& loss, data::DataLoader& loader,
             const std::vector<std::string>& metrics);

nlohmann::json scores_json(const Scores& s, const std::vector<std::string>& classes);
// Prints the values and the confusion matrix (with class names when given).
void print_scores(const Scores& s, const std::vector<std::string>& classes, std::ostream& out);

// `json` written atomically to `path` (IOError naming the file).
void write_json(const std::string& path, const nlohmann::json& json);

}  // namespace nabla::cli
