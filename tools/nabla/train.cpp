// `nabla train` and `nabla resume`.
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "config.h"
#include "model_file.h"
#include "nabla/autograd.h"
#include "nabla/data/loader.h"
#include "nabla/io/checkpoint.h"
#include "nabla/random.h"
#include "report.h"

namespace nabla::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kRunKey = "nabla.run";  // checkpoint metadata: how the run was started

struct Run {
  int epochs;
  int64_t limit;
  std::string out;
  std::string resume_from;
  bool quiet;
};

int run(const Config& c, const Run& r) {
  const Clock::time_point start = Clock::now();
  manual_seed(c.seed);
  Model m = build_model(c);
  if (auto shape = declared_input_shape(c)) check_shapes(m, c, *shape);
  Data d = load_data(c, r.limit);
  const std::vector<Shape> shapes = check_shapes(m, c, d.input_shape);
  Tensor sample_out;
  {
    NoGradGuard no_grad;
    m.net->eval();
    sample_out =
        m.net->forward(d.train->inputs().slice(0, 0, std::min<int64_t>(2, d.train->size())));
    m.net->train();
  }
  const train::LossFn loss =
      make_loss(c, sample_out, d.train->targets().slice(0, 0, sample_out.size(0)));
  auto opt = make_optimizer(c, *m.net);
  auto sched = make_schedule(c, *opt);
  data::DataLoader train_loader(d.train, {.batch_size = c.batch_size,
                                          .shuffle = c.data.shuffle,
                                          .seed = c.seed,
                                          .num_workers = c.data.num_workers});
  std::unique_ptr<data::DataLoader> test_loader;
  if (d.test)
    test_loader =
        std::make_unique<data::DataLoader>(d.test, data::LoaderOptions{.batch_size = 500});

  fs::create_directories(r.out);
  const std::string checkpoint = (fs::path(r.out) / "checkpoint.safetensors").string();
  const std::string model_path = (fs::path(r.out) / "model.safetensors").string();
  const std::string report_path = (fs::path(r.out) / "report.json").string();
  auto meta = model_metadata(c, d.input_shape, d.classes);
  meta[kRunKey] = json{{"epochs", r.epochs}, {"limit", r.limit}}.dump();

  std::ostream& out = std::cout;
  if (!r.quiet) {
    out << "training " << d.train->size() << " examples of shape " << shape_str(d.input_shape)
        << ", " << m.net->num_parameters() << " parameters, output " << shape_str(shapes.back())
        << "\n";
    if (!r.resume_from.empty()) out << "resuming from " << r.resume_from << "\n";
  }
  const train::History h = train::fit(*m.net, loss, *opt, train_loader,
                                      {.epochs = r.epochs,
                                       .validation = c.validate ? test_loader.get() : nullptr,
                                       .callbacks = {},
                                       .metrics = c.metrics,
                                       .scheduler = sched.get(),
                                       .verbose = !r.quiet,
                                       .out = &std::cout,
                                       .checkpoint = checkpoint,
                                       .checkpoint_metadata = meta,
                                       .resume_from = r.resume_from});
  save_model(model_path, *m.net, c, d.input_shape, d.classes);

  json report = {{"config", *c.json},
                 {"epochs", r.epochs},
                 {"train_examples", d.train->size()},
                 {"parameters", m.net->num_parameters()},
                 {"history", json::parse(h.to_json())}};
  double examples = 0, seconds = 0;
  for (const auto& row : h.rows())
    if (row.count("samples_per_s") && row.at("samples_per_s") > 0) {
      examples += double(d.train->size());
      seconds += double(d.train->size()) / row.at("samples_per_s");
    }
  report["samples_per_s"] = seconds > 0 ? examples / seconds : 0.0;
  if (test_loader) {
    const Scores s = score(*m.net, loss, *test_loader, c.metrics);
    report["test"] = scores_json(s, d.classes);
    if (!r.quiet) {
      out << "\ntest set\n";
      print_scores(s, d.classes, out);
    }
  }
  report["wall_seconds"] = std::chrono::duration<double>(Clock::now() - start).count();
  write_json(report_path, report);
  if (!r.quiet)
    out << "\nwrote " << model_path << ", " << checkpoint << ", " << report_path << " ("
        << std::fixed << std::setprecision(1) << report["wall_seconds"].get<double>() << " s)\n";
  return 0;
}

}  // namespace

int train_command(const TrainArgs& a) {
  const Config c = read_config(a.config);
  std::string out = a.out;
  if (out.empty()) out = (fs::path("runs") / fs::path(a.config).stem()).string();
  return run(c, {a.epochs > 0 ? a.epochs : c.epochs, a.limit, out, "", a.quiet});
}

int resume_command(const TrainArgs& a) {
  const Checkpoint ck = load_checkpoint(a.config);
  auto it = ck.metadata.find(kConfigKey);
  if (it == ck.metadata.end())
    throw IOError(a.config + ": the checkpoint holds no config (was it written by `nabla train`?)");
  const Config c = parse_config(it->second, a.config + " (" + kConfigKey + ")");
  int epochs = c.epochs;
  int64_t limit = 0;
  if (auto run_it = ck.metadata.find(kRunKey); run_it != ck.metadata.end()) {
    try {
      const json j = json::parse(run_it->second);
      epochs = j.at("epochs").get<int>();
      limit = j.at("limit").get<int64_t>();
    } catch (const json::exception& e) {
      throw IOError(a.config + ": malformed '" + kRunKey + "' metadata: " + e.what());
    }
  }
  if (a.epochs > 0) epochs = a.epochs;
  if (a.limit > 0) limit = a.limit;
  std::string out = a.out.empty() ? fs::path(a.config).parent_path().string() : a.out;
  if (out.empty()) out = ".";
  if (!a.quiet && ck.epoch >= epochs)
    std::cout << a.config << " has already trained " << ck.epoch << " of " << epochs
              << " epochs; pass --epochs to train more\n";
  return run(c, {epochs, limit, out, a.config, a.quiet});
}

}  // namespace nabla::cli
