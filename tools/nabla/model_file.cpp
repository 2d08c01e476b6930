#include "model_file.h"

#include "nabla/error.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/safetensors.h"

namespace nabla::cli {
namespace {

using json = nlohmann::json;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::map<std::string, std::string> model_metadata(const Config& config, const Shape& input_shape,
                                                  const std::vector<std::string>& classes) {
  return {
      {kConfigKey, config.json->dump(2)},
      {kInputShapeKey, json(std::vector<int64_t>(input_shape.begin(), input_shape.end())).dump()},
      {kClassesKey, json(classes).dump()}};
}

void save_model(const std::string& path, const nn::Module& net, const Config& config,
                const Shape& input_shape, const std::vector<std::string>& classes) {
  save_safetensors(path, net.state_dict(), model_metadata(config, input_shape, classes));
}

LoadedModel load_model(const std::string& path) {
  LoadedModel out;
  if (ends_with(path, ".json")) {
    out.config = read_config(path);
    out.model = build_model(out.config);
    if (auto shape = declared_input_shape(out.config)) {
      out.input_shape = *shape;
      out.classes = out.config.data.classes;
    } else {
      Data d = load_data(out.config, 1);
      out.input_shape = d.input_shape;
      out.classes = d.classes;
    }
  } else {
    std::map<std::string, std::string> meta = load_safetensors_metadata(path);
    if (!meta.count(kConfigKey) || !meta.count(kInputShapeKey))
      throw IOError(path + ": not a nabla model (no '" + std::string(kConfigKey) +
                    "' metadata; was it written by `nabla train`?)");
    out.config = parse_config(meta[kConfigKey], path + " (" + kConfigKey + ")");
    out.model = build_model(out.config);
    try {
      for (int64_t d : json::parse(meta[kInputShapeKey]).get<std::vector<int64_t>>())
        out.input_shape.push_back(d);
      if (meta.count(kClassesKey))
        out.classes = json::parse(meta[kClassesKey]).get<std::vector<std::string>>();
    } catch (const json::exception& e) {
      throw IOError(path + ": malformed model metadata: " + e.what());
    }
    if (is_checkpoint(path)) {
      out.model.net->load_state_dict(load_checkpoint(path).model);
    } else {
      out.model.net->load_state_dict(load_safetensors(path));
    }
  }
  out.output_shapes = check_shapes(out.model, out.config, out.input_shape);
  return out;
}

}  // namespace nabla::cli
