// nabla: train, evaluate, inspect and use models from the command line (docs/cli.md).
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "json_node.h"
#include "nabla/error.h"

int main(int argc, char** argv) {
  namespace cli = nabla::cli;
  CLI::App app{"nabla: train, evaluate and inspect neural networks (docs/cli.md)", "nabla"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "nabla 0.1.0");

  cli::TrainArgs train;
  auto* t = app.add_subcommand("train", "Train the model a JSON config describes");
  t->add_option("config", train.config, "The config (docs/cli.md)")->required();
  t->add_option("--epochs", train.epochs, "Epochs to train (default: the config's)")
      ->check(CLI::PositiveNumber);
  t->add_option("--limit", train.limit, "Use only the first N examples of each split")
      ->check(CLI::PositiveNumber);
  t->add_option("--out", train.out, "Output directory (default: runs/<config name>)");
  t->add_flag("--quiet,-q", train.quiet, "No progress or summary");

  cli::TrainArgs resume;
  auto* r =
      app.add_subcommand("resume", "Continue training from a checkpoint written by `nabla train`");
  r->add_option("checkpoint", resume.config, "The checkpoint (DIR/checkpoint.safetensors)")
      ->required();
  r->add_option("--epochs", resume.epochs, "Total epochs (default: the interrupted run's)")
      ->check(CLI::PositiveNumber);
  r->add_option("--out", resume.out, "Output directory (default: the checkpoint's)");
  r->add_flag("--quiet,-q", resume.quiet, "No progress or summary");

  cli::EvalArgs eval;
  auto* e =
      app.add_subcommand("eval", "Loss, metrics and confusion matrix of a model on labelled data");
  e->add_option("model", eval.model, "A model written by `nabla train` (or a checkpoint)")
      ->required();
  e->add_option(
       "data", eval.data,
       "A Fashion-MNIST/MNIST directory, \"fashion-mnist\", or an IDX images file (with --labels)")
      ->required();
  e->add_option("--labels", eval.labels, "IDX labels for an IDX images file");
  e->add_flag("--train-split", eval.train_split,
              "Use a directory's training split instead of its test split");
  e->add_option("--limit", eval.limit, "Use only the first N examples")->check(CLI::PositiveNumber);
  e->add_option("--batch-size", eval.batch_size, "Examples per forward pass")
      ->check(CLI::PositiveNumber);
  e->add_option("--report", eval.report, "Also write the scores as JSON to this file");

  cli::PredictArgs predict;
  auto* p =
      app.add_subcommand("predict", "Classes (or outputs) of a model for an IDX file or an image");
  p->add_option("model", predict.model, "A model written by `nabla train` (or a checkpoint)")
      ->required();
  p->add_option("input", predict.input, "An IDX file of examples, or a PNG/JPEG/BMP image")
      ->required();
  p->add_option("--top", predict.top, "Show the K most likely classes")->check(CLI::PositiveNumber);
  p->add_option("--limit", predict.limit, "Use only the first N examples")
      ->check(CLI::PositiveNumber);
  p->add_option("--json", predict.json, "Also write the predictions as JSON to this file");

  std::string info_model;
  auto* i = app.add_subcommand(
      "info", "Layers, output shapes, parameters and FLOPs of a model or a config");
  i->add_option("model", info_model, "A model, a checkpoint, or a config (.json)")->required();

  cli::VizArgs viz;
  auto* v = app.add_subcommand(
      "viz", "The graph of a model or of a saved compiled function, as Graphviz DOT or SVG");
  v->add_option("input", viz.input, "A model, a checkpoint, a config (.json) or a function file")
      ->required();
  v->add_option("--out,-o", viz.out, "Output file: .svg (needs graphviz) or DOT text");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*t) return cli::train_command(train);
    if (*r) return cli::resume_command(resume);
    if (*e) return cli::eval_command(eval);
    if (*p) return cli::predict_command(predict);
    if (*i) return cli::info_command(info_model);
    if (*v) return cli::viz_command(viz);
  } catch (const std::exception& ex) {
    std::cerr << "nabla: error: " << ex.what() << "\n";
    return 1;
  }
  return 0;
}
