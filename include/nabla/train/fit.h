// Keras-style training loops over any nn::Module:
//
//   auto history = nb::train::fit(model, loss_fn, opt, train_loader,
//                                 {.epochs = 5, .validation = &test_loader,
//                                  .metrics = {"accuracy"}});
//   auto scores = nb::train::evaluate(model, loss_fn, test_loader, {"accuracy"});
//   nb::Tensor outputs = nb::train::predict(model, test_loader);
//
// fit() runs the model in train() mode; evaluate() and predict() in eval() mode without
// recording gradients. Each restores the mode the model had before.
#pragma once
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nabla/data/loader.h"
#include "nabla/nn/module.h"
#include "nabla/optim/optimizer.h"
#include "nabla/optim/schedule.h"
#include "nabla/train/callbacks.h"
#include "nabla/train/history.h"
#include "nabla/train/metrics.h"

namespace nabla::train {

// The loss of one batch: a tensor of one element (any shape), e.g. ((y - t) * (y - t)).mean().
using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

struct FitOptions {
  int epochs = 1;
  data::DataLoader* validation = nullptr;  // evaluated after each epoch: val_loss, val_<metric>
  std::vector<std::shared_ptr<Callback>> callbacks;
  std::vector<std::string> metrics;         // names for make_metric
  optim::LRScheduler* scheduler = nullptr;  // stepped once after each epoch
  bool verbose = true;
  // Progress goes here. On std::cout attached to a terminal it is one updating line per
  // epoch; otherwise plain lines, about every 10% of an epoch and one summary per epoch.
  std::ostream* out = &std::cout;
  // Checkpoints (nabla/io/checkpoint.h). When set, the whole training state (model,
  // optimizer, scheduler, epoch, step, the default random generator, the loaders' epochs,
  // the history) is written here after each epoch, replacing the previous one atomically.
  std::string checkpoint;
  std::map<std::string, std::string> checkpoint_metadata;  // stored in each checkpoint
  // Continues the run saved in this checkpoint: restores that state, then trains the epochs
  // after the saved one up to `epochs`, and returns the whole history (saved rows first).
  // Built with the same model, optimizer, scheduler, loaders and options, an interrupted
  // run resumed this way reports the same losses, bit for bit, as an uninterrupted one.
  // Callbacks start afresh. Not restored: the state of custom datasets beyond their epoch.
  std::string resume_from;
};

// Trains for `epochs` passes over `train` (fewer if a callback stops it). Each batch:
// zero_grad, forward, loss, backward, step. ValueError for epochs <= 0, an unknown metric,
// a loss that is not one value, a loader that yields no batch, or a checkpoint to resume
// from that does not fit the model, optimizer or scheduler; IOError for an unreadable one.
History fit(nn::Module& model, const LossFn& loss, optim::Optimizer& opt, data::DataLoader& train,
            FitOptions options = {});

// The mean loss (weighted by batch size) under the key "loss" (skipped when `loss` is empty)
// and each metric over one pass of `loader`.
std::map<std::string, double> evaluate(nn::Module& model, const LossFn& loss,
                                       data::DataLoader& loader,
                                       const std::vector<std::string>& metrics = {});

// The model's outputs for one pass of `loader`, joined along the first dim.
Tensor predict(nn::Module& model, data::DataLoader& loader);

}  // namespace nabla::train
