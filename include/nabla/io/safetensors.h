// safetensors files: a little-endian u64 header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw data. Compatible with the Hugging Face format.
#pragma once
#include <map>
#include <string>

#include "nabla/tensor.h"

namespace nabla {

using TensorMap = std::map<std::string, Tensor>;

// Writes atomically (temp file, fsync, rename): a crash leaves the old file or the new one.
// `metadata` goes to the header's "__metadata__" entry.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Throws IOError naming the file and what is wrong (truncated, bad header, bad offsets...).
TensorMap load_safetensors(const std::string& path);
std::map<std::string, std::string> load_safetensors_metadata(const std::string& path);

}  // namespace nabla
