// Training checkpoints: everything a run needs to continue as if it had never stopped.
//
//   nb::Checkpoint ck{.model = net.state_dict(), .optimizer = opt.state_dict(),
//                     .scheduler = sched.state_dict(), .epoch = 3, .step = 2814,
//                     .rng = nb::default_generator().state(), .loader_epoch = 3};
//   nb::save_checkpoint("run/checkpoint.safetensors", ck);
//   nb::Checkpoint back = nb::load_checkpoint("run/checkpoint.safetensors");
//
// train::fit() writes and reads them itself (FitOptions::checkpoint, ::resume_from).
//
// The file is a safetensors file (so any safetensors reader sees the weights): tensors
// "model.<key>", "optimizer.<key>" and "scheduler.<key>"; the scalars, the history so far and
// a CRC-32 of all tensor bytes in its "__metadata__" under "nabla.checkpoint" (JSON), and the
// caller's own metadata under its own keys. Written atomically (temp file, fsync, rename).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nabla/io/safetensors.h"
#include "nabla/random.h"

namespace nabla {

struct Checkpoint {
  TensorMap model;               // nn::Module::state_dict()
  TensorMap optimizer;           // optim::Optimizer::state_dict()
  TensorMap scheduler;           // optim::LRScheduler::state_dict(); empty without a schedule
  int64_t epoch = 0;             // epochs completed
  int64_t step = 0;              // optimizer steps taken
  GeneratorState rng;            // default_generator() when the checkpoint was taken
  int64_t loader_epoch = 0;      // the training DataLoader's next epoch (its shuffle order)
  int64_t val_loader_epoch = 0;  // the validation DataLoader's next epoch
  // One map of log values per completed epoch (train::History rows); NaN survives.
  std::vector<std::map<std::string, double>> history;
  // The caller's own strings (e.g. the command line's config); keys must not start with
  // "nabla.checkpoint".
  std::map<std::string, std::string> metadata;
};

// IOError naming the file when it cannot be written; ValueError for a tensor without values
// or a reserved metadata key.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);

// IOError naming the file when it is missing, truncated, corrupted (its bytes do not match
// the stored CRC-32), or not a nabla checkpoint.
Checkpoint load_checkpoint(const std::string& path);

// Whether `path` reads as a safetensors file whose metadata marks it as a checkpoint (no
// checksum check; false for unreadable files).
bool is_checkpoint(const std::string& path);

}  // namespace nabla
