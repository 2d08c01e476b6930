// nabla viz: the graph of a model (traced with a placeholder input) or of a compiled function
// file, as Graphviz DOT, or as SVG through the `dot` program when it is installed.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "io/atomic_file.h"
#include "model_file.h"
#include "nabla/compile.h"
#include "nabla/error.h"
#include "nabla/io/safetensors.h"

namespace nabla::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A MODEL, checkpoint or config: one example of the input shape as a placeholder through
// the network in eval mode; the ops build the graph instead of computing.
std::string model_dot(const std::string& path) {
  LoadedModel lm = load_model(path);
  lm.model.net->eval();
  Shape in{1};
  for (int64_t d : lm.input_shape) in.push_back(d);
  const Tensor x = placeholder("input", in);
  return to_dot({lm.model.net->forward(x)});
}

bool is_model_file(const std::string& path) {
  if (ends_with(path, ".json")) return true;
  try {
    return load_safetensors_metadata(path).count(kConfigKey) > 0;
  } catch (const Error&) {
    return false;  // not safetensors: a function file
  }
}

bool have_graphviz() { return std::system("command -v dot > /dev/null 2>&1") == 0; }

}  // namespace

int viz_command(const VizArgs& args) {
  if (!std::filesystem::exists(args.input)) throw IOError("viz: " + args.input + ": no such file");
  const std::string dot =
      is_model_file(args.input) ? model_dot(args.input) : load_function(args.input).to_dot();
  if (args.out.empty()) {
    std::cout << dot;
    return 0;
  }
  if (!ends_with(args.out, ".svg")) {
    write_file_atomically(args.out, {dot});
    std::cout << "wrote " << args.out << "\n";
    return 0;
  }
  if (!have_graphviz())
    throw IOError("viz: " + args.out +
                  ": writing SVG needs Graphviz's `dot` (apt-get install "
                  "graphviz); write .dot instead");
  // dot writes to a temp name that is renamed once complete, so no half-written SVG remains.
  const std::string dot_file = args.out + ".tmp.dot", svg_tmp = args.out + ".tmp";
  write_file_atomically(dot_file, {dot});
  const std::string cmd = "dot -Tsvg '" + dot_file + "' -o '" + svg_tmp + "'";
  const int rc = std::system(cmd.c_str());
  std::filesystem::remove(dot_file);
  if (rc != 0) {
    std::filesystem::remove(svg_tmp);
    throw IOError("viz: " + args.out + ": `dot -Tsvg` failed (exit status " + std::to_string(rc) +
                  ")");
  }
  std::filesystem::rename(svg_tmp, args.out);
  std::cout << "wrote " << args.out << "\n";
  return 0;
}

}  // namespace nabla::cli
