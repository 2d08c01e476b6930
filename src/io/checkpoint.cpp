#include "nabla/io/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "nabla/error.h"

namespace nabla {
namespace {

using json = nlohmann::json;

constexpr const char* kKey = "nabla.checkpoint";
constexpr int kFormat = 1;
constexpr const char* kParts[] = {"model.", "optimizer.", "scheduler."};

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw IOError("checkpoint: " + path + ": " + what);
}

// CRC-32 of every tensor's bytes in key order: catches bit flips in the data, which the
// safetensors header cannot.
uint32_t checksum(const TensorMap& tensors) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& [name, t] : tensors) {
    const Tensor c = t.contiguous();
    const auto* p = static_cast<const Bytef*>(c.raw_data());
    std::size_t left = std::size_t(c.numel()) * itemsize(c.dtype());
    while (left > 0) {  // crc32 takes a uInt length
      const uInt n = uInt(std::min<std::size_t>(left, 1u << 30));
      crc = crc32(crc, p, n);
      p += n;
      left -= n;
    }
  }
  return uint32_t(crc);
}

json history_json(const std::vector<std::map<std::string, double>>& rows) {
  json out = json::array();
  for (const auto& row : rows) {
    json r = json::object();
    for (const auto& [k, v] : row) r[k] = std::isnan(v) ? json(nullptr) : json(v);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& ck) {
  TensorMap all;
  const TensorMap* parts[] = {&ck.model, &ck.optimizer, &ck.scheduler};
  for (int i = 0; i < 3; ++i)
    for (const auto& [k, t] : *parts[i]) {
      if (!t.defined() || !t.is_concrete())
        throw ValueError(std::string("[save_checkpoint] tensor '") + kParts[i] + k +
                         "' has no values");
      all.emplace(kParts[i] + k, t);
    }
  std::map<std::string, std::string> meta;
  for (const auto& [k, v] : ck.metadata) {
    if (k.rfind(kKey, 0) == 0)
      throw ValueError("[save_checkpoint] metadata key '" + k + "' is reserved");
    meta[k] = v;
  }
  const json info = {{"format", kFormat},
                     {"epoch", ck.epoch},
                     {"step", ck.step},
                     {"rng_seed", ck.rng.seed},
                     {"rng_offset", ck.rng.offset},
                     {"loader_epoch", ck.loader_epoch},
                     {"val_loader_epoch", ck.val_loader_epoch},
                     {"history", history_json(ck.history)},
                     {"crc32", checksum(all)}};
  meta[kKey] = info.dump();
  save_safetensors(path, all, meta);
}

Checkpoint load_checkpoint(const std::string& path) {
  TensorMap all;
  std::map<std::string, std::string> meta;
  try {
    all = load_safetensors(path);
    meta = load_safetensors_metadata(path);
  } catch (const IOError& e) {
    throw IOError(std::string("checkpoint: ") + e.what());  // already names the file
  }
  auto it = meta.find(kKey);
  if (it == meta.end())
    bad(path, "not a nabla checkpoint (no '" + std::string(kKey) + "' metadata)");
  Checkpoint ck;
  try {
    const json info = json::parse(it->second);
    if (info.at("format").get<int>() != kFormat)
      bad(path, "checkpoint format " + info.at("format").dump() + " is not supported (expected " +
                    std::to_string(kFormat) + ")");
    if (info.at("crc32").get<uint32_t>() != checksum(all))
      bad(path, "corrupted: the tensor data does not match the stored CRC-32");
    ck.epoch = info.at("epoch").get<int64_t>();
    ck.step = info.at("step").get<int64_t>();
    ck.rng = {info.at("rng_seed").get<uint64_t>(), info.at("rng_offset").get<uint64_t>()};
    ck.loader_epoch = info.at("loader_epoch").get<int64_t>();
    ck.val_loader_epoch = info.at("val_loader_epoch").get<int64_t>();
    for (const auto& r : info.at("history")) {
      std::map<std::string, double> row;
      for (const auto& [k, v] : r.items())
        row[k] = v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
      ck.history.push_back(std::move(row));
    }
  } catch (const json::exception& e) {
    bad(path, std::string("malformed '") + kKey + "' metadata: " + e.what());
  }
  for (auto& [k, v] : meta)
    if (k != kKey) ck.metadata.emplace(k, std::move(v));
  TensorMap* parts[] = {&ck.model, &ck.optimizer, &ck.scheduler};
  for (auto& [name, t] : all) {
    bool placed = false;
    for (int i = 0; i < 3 && !placed; ++i)
      if (name.rfind(kParts[i], 0) == 0) {
        parts[i]->emplace(name.substr(std::string_view(kParts[i]).size()), t);
        placed = true;
      }
    if (!placed)
      bad(path, "unexpected tensor '" + name + "' (not model.*, optimizer.* or scheduler.*)");
  }
  return ck;
}

bool is_checkpoint(const std::string& path) {
  try {
    return load_safetensors_metadata(path).count(kKey) > 0;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace nabla
