#include "nabla/io/safetensors.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "nabla/ops/creation.h"

namespace nabla {
namespace {

using json = nlohmann::json;

const char* st_dtype(DType t) {
  switch (t) {
    case bool_:
      return "BOOL";
    case uint8:
      return "U8";
    case int8:
      return "I8";
    case int32:
      return "I32";
    case int64:
      return "I64";
    case float16:
      return "F16";
    case bfloat16:
      return "BF16";
    case float32:
      return "F32";
    case float64:
      return "F64";
  }
  return "?";
}

DType parse_dtype(const std::string& s, const std::string& path, const std::string& name) {
  for (int t = 0; t < kNumDTypes; ++t)
    if (s == st_dtype(DType(t))) return DType(t);
  throw IOError("safetensors: " + path + ": tensor '" + name + "' has unsupported dtype '" + s +
                "'");
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw IOError("safetensors: " + path + ": " + what);
}

struct Parsed {
  json header;
  std::string data;  // bytes after the header
};

Parsed read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) bad(path, "cannot open the file");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8)
    bad(path, "file is " + std::to_string(bytes.size()) +
                  " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[std::size_t(i)]);
  if (n > bytes.size() - 8)
    bad(path, "header length " + std::to_string(n) + " runs past the end of the file (" +
                  std::to_string(bytes.size()) + " bytes)");
  Parsed p;
  try {
    p.header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n));
  } catch (const json::exception& e) {
    bad(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!p.header.is_object()) bad(path, "header is not a JSON object");
  p.data = bytes.substr(8 + n);
  return p;
}

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (!t.defined() || !t.is_concrete())
      throw ValueError("[save_safetensors] tensor '" + name + "' has no values");
    if (name == "__metadata__")
      throw ValueError("[save_safetensors] '__metadata__' is a reserved name");
    Tensor c = t.contiguous();
    uint64_t nbytes = uint64_t(c.numel()) * itemsize(c.dtype());
    header[name] = {{"dtype", st_dtype(c.dtype())},
                    {"shape", std::vector<int64_t>(c.shape().begin(), c.shape().end())},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    contiguous.push_back(c);
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i) len[std::size_t(i)] = char((uint64_t(h.size()) >> (8 * i)) & 0xff);
  std::string data;
  data.reserve(offset);
  for (const Tensor& c : contiguous)
    data.append(static_cast<const char*>(c.raw_data()),
                std::size_t(c.numel()) * itemsize(c.dtype()));
  write_file_atomically(path, {len, h, data});
}

TensorMap load_safetensors(const std::string& path) {
  Parsed p = read_file(path);
  TensorMap out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto& [name, entry] : p.header.items()) {
    if (name == "__metadata__") continue;
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      bad(path, "entry '" + name + "' needs dtype, shape and data_offsets");
    try {
      DType t = parse_dtype(entry["dtype"].get<std::string>(), path, name);
      const json& dims = entry["shape"];
      if (!dims.is_array()) bad(path, "tensor '" + name + "' has a shape that is not a list");
      // The product of the dims (zeros counted as ones, as strides are) stays below 2^63 / 8
      // bytes, checked before each multiplication: a shape whose element count overflows
      // is refused instead of wrapping to a small size.
      Shape shape;
      const uint64_t limit = uint64_t(std::numeric_limits<int64_t>::max()) / 8;
      uint64_t span = 1;
      bool has_zero = false;
      for (const auto& d : dims) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0 ||
            (d.is_number_unsigned() && d.get<uint64_t>() > limit))
          bad(path, "tensor '" + name +
                        "' has a dimension that is not an integer in [0, 2^60): " + d.dump());
        auto v = d.get<int64_t>();
        shape.push_back(v);
        has_zero |= v == 0;
        if (v > 1 && span > limit / uint64_t(v))
          bad(path,
              "tensor '" + name + "' has too many elements: shape " + shape_str(shape) + "...");
        span *= uint64_t(std::max<int64_t>(v, 1));
      }
      const json& range = entry["data_offsets"];
      if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
          !range[1].is_number_unsigned())
        bad(path, "tensor '" + name + "' needs data_offsets of two non-negative integers, got " +
                      range.dump());
      std::array<uint64_t, 2> offs = {range[0].get<uint64_t>(), range[1].get<uint64_t>()};
      if (offs[0] > offs[1] || offs[1] > p.data.size())
        bad(path, "tensor '" + name + "' has data_offsets outside the " +
                      std::to_string(p.data.size()) + " data bytes");
      uint64_t expect = has_zero ? 0 : span * itemsize(t);
      if (offs[1] - offs[0] != expect)
        bad(path, "tensor '" + name + "' of shape " + shape_str(shape) + " needs " +
                      std::to_string(expect) + " bytes but its range holds " +
                      std::to_string(offs[1] - offs[0]));
      ranges.push_back({offs[0], offs[1]});
      Tensor x = empty(shape, t);
      if (expect) std::memcpy(x.raw_data(), p.data.data() + offs[0], expect);
      out.emplace(name, x);
    } catch (const json::exception& e) {
      bad(path, "entry '" + name + "' is malformed: " + e.what());
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) bad(path, "tensor data ranges overlap");
  return out;
}

std::map<std::string, std::string> load_safetensors_metadata(const std::string& path) {
  Parsed p = read_file(path);
  if (!p.header.contains("__metadata__")) return {};
  try {
    return p.header["__metadata__"].get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    bad(path, std::string("__metadata__ must map strings to strings: ") + e.what());
  }
}

}  // namespace nabla
