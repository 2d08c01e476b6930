// The subcommands of `nabla` (docs/cli.md). Each returns the process exit code and throws
// nabla errors (ConfigError, IOError...) that main() prints.
#pragma once
#include <cstdint>
#include <string>

namespace nabla::cli {

struct TrainArgs {
  std::string config;  // train: the config file; resume: the checkpoint
  int epochs = 0;      // 0: the config's (train) or the saved run's (resume)
  int64_t limit = 0;   // 0: all examples; else the first `limit` of each split
  std::string
      out;  // output directory; empty: runs/<config name> (train), the checkpoint's (resume)
  bool quiet = false;
};
int train_command(const TrainArgs& args);
int resume_command(const TrainArgs& args);

struct EvalArgs {
  std::string model, data;
  std::string labels;        // IDX labels when `data` is an IDX images file
  bool train_split = false;  // Fashion-MNIST directory: the training split
  int64_t limit = 0;
  int64_t batch_size = 500;
  std::string report;  // JSON output, optional
};
int eval_command(const EvalArgs& args);

struct PredictArgs {
  std::string model, input;
  int64_t top = 1;
  int64_t limit = 0;
  std::string json;  // JSON output, optional
};
int predict_command(const PredictArgs& args);

int info_command(const std::string& model);

struct VizArgs {
  std::string input;  // a model, checkpoint or config, or a function saved by nb::save_function
  std::string out;    // empty: DOT to stdout; *.svg: through Graphviz's dot; else DOT text
};
int viz_command(const VizArgs& args);

}  // namespace nabla::cli
