// Graph files: a compiled Function on disk. The layout follows safetensors: 8 bytes (little-
// endian length N), N bytes of JSON, then the constants' bytes. The JSON holds
//   {"format": "nabla.function", "version": 1, "inputs": [ids], "outputs": [ids],
//    "nodes": [{"kind": "input" | "constant" | "captured" | "op", "shape", "dtype", "name",
//               "op", "inputs", "attrs": [[name, type, value]...], "data_offsets": [begin, end],
//               "weak"}...]}
// with nodes in topological order. Readers refuse newer versions and check every index.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "compile/graph.h"
#include "io/atomic_file.h"
#include "ir/node.h"

namespace nabla {
using compile_detail::Graph;
using compile_detail::GraphNode;
using compile_detail::NodeKind;
using json = nlohmann::json;

namespace {

constexpr int kVersion = 1;
constexpr const char* kFormat = "nabla.function";

const char* kind_name(NodeKind k) {
  switch (k) {
    case NodeKind::input:
      return "input";
    case NodeKind::constant:
      return "constant";
    case NodeKind::captured:
      return "captured";
    case NodeKind::op:
      return "op";
  }
  return "?";
}

[[noreturn]] void bad_file(const std::string& path, const std::string& what) {
  throw IOError("[load_function] " + path + ": " + what);
}

// Attribute names are `const char*` with static storage; names read from files live here.
const char* intern(const std::string& s) {
  static std::mutex mutex;
  static auto* pool = new std::set<std::string>();
  std::lock_guard lock(mutex);
  return pool->insert(s).first->c_str();
}

json double_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

double json_double(const json& j) {
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw json::type_error::create(302, "bad float " + s, nullptr);
  }
  return j.get<double>();
}

json attr_json(const Attr& a) {
  return std::visit(
      [&](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, int64_t>)
          return json::array({a.name, "int", x});
        else if constexpr (std::is_same_v<T, double>)
          return json::array({a.name, "float", double_json(x)});
        else if constexpr (std::is_same_v<T, bool>)
          return json::array({a.name, "bool", x});
        else if constexpr (std::is_same_v<T, DType>)
          return json::array({a.name, "dtype", dtype_name(x)});
        else if constexpr (std::is_same_v<T, Shape>)
          return json::array({a.name, "shape", std::vector<int64_t>(x.begin(), x.end())});
        else
          return json::array({a.name, "string", x});
      },
      a.value);
}

DType parse_dtype(const std::string& path, const std::string& s) {
  for (int t = 0; t < kNumDTypes; ++t)
    if (dtype_name(DType(t)) == s) return DType(t);
  bad_file(path, "unknown dtype '" + s + "'");
}

Shape parse_shape(const json& j) {
  Shape s;
  for (const json& d : j) s.push_back(d.get<int64_t>());
  return s;
}

AttrValue parse_attr_value(const std::string& path, const std::string& type, const json& v) {
  if (type == "int") return v.get<int64_t>();
  if (type == "float") return json_double(v);
  if (type == "bool") return v.get<bool>();
  if (type == "dtype") return parse_dtype(path, v.get<std::string>());
  if (type == "shape") return parse_shape(v);
  if (type == "string") return v.get<std::string>();
  bad_file(path, "unknown attribute type '" + type + "'");
}

}  // namespace

void save_function(const std::string& path, const Function& f) {
  if (!f.defined()) throw ValueError("[save_function] the Function is empty (default-constructed)");
  const Graph& g = f.plan()->graph;
  json nodes = json::array();
  std::string data;
  for (const GraphNode& n : g.nodes) {
    json j = {{"kind", kind_name(n.kind)},
              {"shape", std::vector<int64_t>(n.shape.begin(), n.shape.end())},
              {"dtype", dtype_name(n.dtype)}};
    if (!n.name.empty()) j["name"] = n.name;
    if (n.kind == NodeKind::constant || n.kind == NodeKind::captured) {
      if (n.value.device().type != DeviceType::cpu)
        throw ValueError("[save_function] constants must be on the CPU, got " +
                         n.value.device().str());
      Tensor c = n.value.contiguous();
      std::size_t bytes = std::size_t(c.numel()) * itemsize(c.dtype());
      j["data_offsets"] = {data.size(), data.size() + bytes};
      j["weak"] = c.node()->weak || n.value.node()->weak;
      data.append(static_cast<const char*>(c.raw_data()), bytes);
    } else if (n.kind == NodeKind::op) {
      j["op"] = n.op->name;
      j["inputs"] = n.inputs;
      json attrs = json::array();
      for (const Attr& a : n.attrs.items()) attrs.push_back(attr_json(a));
      j["attrs"] = attrs;
    }
    nodes.push_back(std::move(j));
  }
  json header = {{"format", kFormat},
                 {"version", kVersion},
                 {"inputs", g.inputs},
                 {"outputs", g.outputs},
                 {"nodes", nodes}};
  std::string text = header.dump();
  char length[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) length[i] = char((n >> (8 * i)) & 0xff);
  write_file_atomically(path, {std::string_view(length, 8), text, data});
}

Function load_function(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError("[load_function] cannot open " + path);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 8) bad_file(path, "too short to be a graph file");
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= uint64_t(uint8_t(file[std::size_t(i)])) << (8 * i);
  if (length > file.size() - 8) bad_file(path, "the header length runs past the end of the file");
  std::string_view data(file.data() + 8 + length, file.size() - 8 - length);

  Graph g;
  try {
    json h = json::parse(file.begin() + 8, file.begin() + 8 + std::ptrdiff_t(length));
    if (h.value("format", "") != kFormat) bad_file(path, "not a nabla function file");
    int version = h.at("version").get<int>();
    if (version > kVersion || version < 1)
      bad_file(path, "format version " + std::to_string(version) + " (this nabla reads up to " +
                         std::to_string(kVersion) + ")");
    for (const json& j : h.at("nodes")) {
      GraphNode n;
      std::string kind = j.at("kind").get<std::string>();
      n.shape = parse_shape(j.at("shape"));
      n.dtype = parse_dtype(path, j.at("dtype").get<std::string>());
      n.name = j.value("name", "");
      int id = int(g.nodes.size());
      if (kind == "input") {
        n.kind = NodeKind::input;
        if (n.name.empty()) bad_file(path, "input node " + std::to_string(id) + " has no name");
      } else if (kind == "constant" || kind == "captured") {
        n.kind = kind == "constant" ? NodeKind::constant : NodeKind::captured;
        auto off = j.at("data_offsets").get<std::vector<uint64_t>>();
        uint64_t bytes = uint64_t(numel_of(n.shape)) * itemsize(n.dtype);
        for (int64_t d : n.shape)
          if (d < 0) bad_file(path, "constant " + std::to_string(id) + " has a negative dim");
        if (off.size() != 2 || off[0] > off[1] || off[1] > data.size() || off[1] - off[0] != bytes)
          bad_file(path, "constant " + std::to_string(id) + " has bad data_offsets");
        Tensor t = make_empty(n.shape, n.dtype);
        if (bytes) std::memcpy(t.raw_data(), data.data() + off[0], bytes);
        t.node()->weak = j.value("weak", false);
        t.node()->constant = n.kind == NodeKind::constant;
        n.value = t;
      } else if (kind == "op") {
        n.kind = NodeKind::op;
        std::string op = j.at("op").get<std::string>();
        n.op = find_op(op);
        if (!n.op || !n.op->infer) bad_file(path, "unknown op '" + op + "'");
        for (const json& i : j.at("inputs")) {
          int in_id = i.get<int>();
          if (in_id < 0 || in_id >= id)
            bad_file(path, "node " + std::to_string(id) + " reads node " + std::to_string(in_id) +
                               ", which does not come before it");
          n.inputs.push_back(in_id);
        }
        if (n.op->arity >= 0 && std::size_t(n.op->arity) != n.inputs.size())
          bad_file(path, "op '" + op + "' takes " + std::to_string(n.op->arity) + " inputs");
        for (const json& a : j.at("attrs"))
          n.attrs.set(intern(a.at(0).get<std::string>()),
                      parse_attr_value(path, a.at(1).get<std::string>(), a.at(2)));
      } else {
        bad_file(path, "unknown node kind '" + kind + "'");
      }
      g.nodes.push_back(std::move(n));
    }
    auto ids = [&](const char* key, bool inputs) {
      std::vector<int> out;
      for (const json& i : h.at(key)) {
        int id = i.get<int>();
        if (id < 0 || std::size_t(id) >= g.nodes.size() ||
            (inputs && g.nodes[std::size_t(id)].kind != NodeKind::input))
          bad_file(path, std::string("bad node id in \"") + key + "\"");
        out.push_back(id);
      }
      return out;
    };
    g.inputs = ids("inputs", true);
    g.outputs = ids("outputs", false);
    std::set<int> distinct(g.inputs.begin(), g.inputs.end());
    auto n_inputs = std::count_if(g.nodes.begin(), g.nodes.end(),
                                  [](const GraphNode& n) { return n.kind == NodeKind::input; });
    if (distinct.size() != g.inputs.size() || std::size_t(n_inputs) != g.inputs.size())
      bad_file(path, "\"inputs\" must list every input node once");
  } catch (const json::exception& e) {
    bad_file(path, std::string("malformed header: ") + e.what());
  }
  if (g.outputs.empty()) bad_file(path, "no outputs");
  compile_detail::prepack_weights(g);  // a plan-time choice, not saved
  return Function(compile_detail::make_plan(std::move(g)));
}

}  // namespace nabla
