// A MODEL file: the weights (safetensors) with the config that builds the network, the
// input shape and the class names in its metadata, so one file is enough to use it.
#pragma once
#include <string>
#include <vector>

#include "config.h"

namespace nabla::cli {

struct LoadedModel {
  Config config;
  Model model;
  Shape input_shape;  // per example
  std::vector<std::string> classes;
  std::vector<Shape> output_shapes;  // per layer, batch 1
};

// Metadata keys.
inline constexpr const char* kConfigKey = "nabla.config";
inline constexpr const char* kInputShapeKey = "nabla.input_shape";
inline constexpr const char* kClassesKey = "nabla.classes";

std::map<std::string, std::string> model_metadata(const Config& config, const Shape& input_shape,
                                                  const std::vector<std::string>& classes);
void save_model(const std::string& path, const nn::Module& net, const Config& config,
                const Shape& input_shape, const std::vector<std::string>& classes);

// Reads a MODEL file (weights + metadata), a checkpoint written by `nabla train`, or a config
// (.json: freshly initialised weights; the input shape from "input_shape" or the data).
// IOError/ConfigError naming the file.
LoadedModel load_model(const std::string& path);

}  // namespace nabla::cli
