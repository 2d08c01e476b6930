#include "nabla/train/fit.h"

#include <chrono>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/io/checkpoint.h"
#include "nabla/ops/join.h"
#include "train/progress.h"

namespace nabla::train {
namespace {

using Clock = std::chrono::steady_clock;
using Metrics = std::vector<std::unique_ptr<Metric>>;

// Puts the model back in the mode it had, however the loop ends.
class ModeRestorer {
 public:
  explicit ModeRestorer(nn::Module& m) : m_(m), was_training_(m.is_training()) {}
  ~ModeRestorer() { m_.train(was_training_); }

 private:
  nn::Module& m_;
  bool was_training_;
};

Metrics make_metrics(const std::vector<std::string>& names) {
  Metrics out;
  for (const std::string& n : names) out.push_back(make_metric(n));
  return out;
}

int64_t examples_in(const data::Batch& b) {
  return b.inputs.defined() && b.inputs.ndim() > 0 ? b.inputs.size(0) : 1;
}

double loss_value(const char* op, const Tensor& loss) {
  if (!loss.defined() || loss.numel() != 1)
    throw ValueError(std::string("[") + op + "] the loss function must return one value, got " +
                     (loss.defined() ? "shape " + shape_str(loss.shape()) : "an undefined tensor"));
  return loss.item<double>();
}

void update_metrics(Metrics& metrics, const Tensor& output, const Tensor& target) {
  if (metrics.empty()) return;
  NoGradGuard no_grad;
  const Tensor out = output.detach();
  for (auto& m : metrics) m->update(out, target);
}

// The mean loss and metric values of one pass, in display order.
detail::Progress::Values run_evaluation(nn::Module& model, const LossFn& loss,
                                        data::DataLoader& loader, Metrics& metrics) {
  ModeRestorer restore(model);
  model.eval();
  NoGradGuard no_grad;
  for (auto& m : metrics) m->reset();
  double loss_sum = 0;
  int64_t seen = 0, batches = 0;
  for (auto& batch : loader) {
    const Tensor out = model.forward(batch.inputs);
    const int64_t n = examples_in(batch);
    if (loss) loss_sum += loss_value("evaluate", loss(out, batch.targets)) * double(n);
    update_metrics(metrics, out, batch.targets);
    seen += n;
    ++batches;
  }
  if (batches == 0) throw ValueError("[evaluate] the loader yields no batches");
  detail::Progress::Values values;
  if (loss) values.emplace_back("loss", loss_sum / double(seen));
  for (auto& m : metrics) values.emplace_back(m->name(), m->result());
  return values;
}

bool any_stop(const std::vector<std::shared_ptr<Callback>>& callbacks) {
  for (const auto& cb : callbacks)
    if (cb->stop_training) return true;
  return false;
}

// Restores the state saved in the checkpoint at `path`; returns its history.
History resume(const std::string& path, nn::Module& model, optim::Optimizer& opt,
               data::DataLoader& train, const FitOptions& o, int64_t& epoch, int64_t& step) {
  Checkpoint ck = load_checkpoint(path);
  const std::string where = "[fit] resuming from " + path + ": ";
  if (bool(o.scheduler) != !ck.scheduler.empty())
    throw ValueError(where + (o.scheduler ? "the checkpoint has no scheduler state but a scheduler was given"
                                          : "the checkpoint has scheduler state but no scheduler was given"));
  try {
    model.load_state_dict(ck.model);
    opt.load_state_dict(ck.optimizer);
    if (o.scheduler) o.scheduler->load_state_dict(ck.scheduler);
  } catch (const ValueError& e) {
    throw ValueError(where + e.what());
  } catch (const ShapeError& e) {
    throw ShapeError(where + e.what());
  }
  default_generator().set_state(ck.rng);
  train.set_epoch(ck.loader_epoch);
  if (o.validation) o.validation->set_epoch(ck.val_loader_epoch);
  epoch = ck.epoch;
  step = ck.step;
  History history;
  for (const Logs& row : ck.history) history.append(row);
  return history;
}

void save_state(const std::string& path, nn::Module& model, optim::Optimizer& opt,
                data::DataLoader& train, const FitOptions& o, int64_t epoch, int64_t step,
                const History& history) {
  save_checkpoint(path, {.model = model.state_dict(),
                         .optimizer = opt.state_dict(),
                         .scheduler = o.scheduler ? o.scheduler->state_dict() : TensorMap{},
                         .epoch = epoch,
                         .step = step,
                         .rng = default_generator().state(),
                         .loader_epoch = train.epoch(),
                         .val_loader_epoch = o.validation ? o.validation->epoch() : 0,
                         .history = history.rows(),
                         .metadata = o.checkpoint_metadata});
}

}  // namespace

History fit(nn::Module& model, const LossFn& loss, optim::Optimizer& opt, data::DataLoader& train,
            FitOptions o) {
  if (o.epochs <= 0) throw ValueError("[fit] epochs must be >= 1, got " + std::to_string(o.epochs));
  if (!loss) throw ValueError("[fit] the loss function is empty");
  for (const auto& cb : o.callbacks)
    if (!cb) throw ValueError("[fit] a callback is null");
  Metrics metrics = make_metrics(o.metrics);
  Metrics val_metrics = make_metrics(o.metrics);
  ModeRestorer restore(model);
  detail::Progress progress(o.verbose ? o.out : nullptr, detail::is_terminal(o.out), o.epochs);

  for (const auto& cb : o.callbacks) {
    cb->stop_training = false;
    cb->on_train_begin(model);
  }
  History history;
  int64_t first = 1, step = 0;
  if (!o.resume_from.empty()) {
    history = resume(o.resume_from, model, opt, train, o, first, step);
    ++first;
  }
  bool stop = false;
  for (int epoch = int(first); epoch <= o.epochs && !stop; ++epoch) {
    model.train();
    for (const auto& cb : o.callbacks) cb->on_epoch_begin(epoch);
    for (auto& m : metrics) m->reset();
    const Clock::time_point start = Clock::now();
    progress.begin_epoch(epoch, train.size(), start);
    double loss_sum = 0, data_wait = 0;
    int64_t seen = 0, batches = 0;
    Clock::time_point body_end = start;
    auto running = [&] {
      detail::Progress::Values v{{"loss", loss_sum / double(seen)}};
      for (auto& m : metrics) v.emplace_back(m->name(), m->result());
      return v;
    };
    for (auto& batch : train) {
      // Time spent waiting for the loader: what prefetching should bring near zero.
      data_wait += std::chrono::duration<double>(Clock::now() - body_end).count();
      opt.zero_grad();
      const Tensor out = model.forward(batch.inputs);
      const Tensor l = loss(out, batch.targets);
      const double lv = loss_value("fit", l);
      l.backward();
      opt.step();
      const int64_t n = examples_in(batch);
      loss_sum += lv * double(n);
      seen += n;
      ++batches;
      ++step;
      update_metrics(metrics, out, batch.targets);
      if (!o.callbacks.empty()) {
        const Logs logs{{"batch", double(batches)}, {"size", double(n)}, {"loss", lv}};
        for (const auto& cb : o.callbacks) cb->on_batch_end(batches, logs);
      }
      const Clock::time_point now = Clock::now();
      if (progress.due(batches, now)) progress.show(batches, seen, running(), now);
      if (any_stop(o.callbacks)) {
        stop = true;
        break;
      }
      body_end = Clock::now();
    }
    if (batches == 0) throw ValueError("[fit] the training loader yields no batches");
    const double train_seconds = std::chrono::duration<double>(Clock::now() - start).count();

    detail::Progress::Values shown = running();
    if (o.validation) {
      for (auto& [k, v] : run_evaluation(model, loss, *o.validation, val_metrics))
        shown.emplace_back("val_" + k, v);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Logs row{{"epoch", double(epoch)},
             {"lr", opt.lr()},
             {"seconds", seconds},
             {"samples_per_s", train_seconds > 0 ? double(seen) / train_seconds : 0.0},
             {"data_wait_s", data_wait}};
    for (const auto& [k, v] : shown) row[k] = v;
    history.append(row);
    progress.end_epoch(batches, seen, shown, train_seconds, seconds);

    for (const auto& cb : o.callbacks) cb->on_epoch_end(epoch, row);
    if (o.scheduler) o.scheduler->step();
    if (!o.checkpoint.empty()) save_state(o.checkpoint, model, opt, train, o, epoch, step, history);
    stop = stop || any_stop(o.callbacks);
  }
  for (const auto& cb : o.callbacks) cb->on_train_end(history);
  return history;
}

std::map<std::string, double> evaluate(nn::Module& model, const LossFn& loss,
                                       data::DataLoader& loader,
                                       const std::vector<std::string>& metrics) {
  Metrics ms = make_metrics(metrics);
  std::map<std::string, double> out;
  for (auto& [k, v] : run_evaluation(model, loss, loader, ms)) out[k] = v;
  return out;
}

Tensor predict(nn::Module& model, data::DataLoader& loader) {
  ModeRestorer restore(model);
  model.eval();
  NoGradGuard no_grad;
  std::vector<Tensor> outputs;
  for (auto& batch : loader) outputs.push_back(model.forward(batch.inputs));
  if (outputs.empty()) throw ValueError("[predict] the loader yields no batches");
  if (outputs.size() == 1) return outputs[0];
  for (const Tensor& t : outputs)
    if (t.ndim() == 0)
      throw ShapeError("[predict] the model returned a 0-d output; outputs are joined along dim 0");
  return concat(outputs, 0);
}

}  // namespace nabla::train
