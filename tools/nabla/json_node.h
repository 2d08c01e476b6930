// A node of a JSON config that knows where it is ("config.json: optimizer.lr"), so every
// error names the file and the key at fault.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "nabla/error.h"
#include "nabla/shape.h"

namespace nabla::cli {

// A config that cannot be used; the message starts with "FILE: PATH: ".
class ConfigError : public ValueError {
  using ValueError::ValueError;
};

class JsonNode {
 public:
  JsonNode(const nlohmann::json& value, std::string file, std::string path = "")
      : v_(&value), file_(std::move(file)), path_(std::move(path)) {}

  // Throws ConfigError "FILE: PATH: what" (or "FILE: what" at the root).
  [[noreturn]] void fail(const std::string& what) const;

  const nlohmann::json& value() const { return *v_; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  // The same node under another path (e.g. "model[3] (Linear)").
  JsonNode renamed(std::string path) const { return JsonNode(*v_, file_, std::move(path)); }

  bool is_object() const { return v_->is_object(); }
  bool is_string() const { return v_->is_string(); }
  bool is_null() const { return v_->is_null(); }
  bool has(const std::string& key) const { return v_->is_object() && v_->contains(key); }
  // The member `key`; ConfigError when this is not an object or it is missing.
  JsonNode at(const std::string& key) const;
  // Array elements; ConfigError when this is not an array.
  std::vector<JsonNode> elements() const;
  // ConfigError naming the first key of this object that is not in `known`.
  void only(const std::vector<std::string>& known) const;

  // Typed values; ConfigError naming the expected and the actual type.
  int64_t integer() const;
  double number() const;
  bool boolean() const;
  std::string string() const;
  // An integer n (as (n) repeated `rank` times when rank > 0) or a list of integers.
  Shape shape(int rank = 0) const;
  std::vector<std::string> strings() const;

  // Members with defaults.
  int64_t integer(const std::string& key, int64_t fallback) const;
  double number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;

 private:
  std::string child_path(const std::string& key) const;
  const nlohmann::json* v_;
  std::string file_, path_;
};

// The arguments of an entry with a "type" (a layer, the optimizer, the loss...). Every
// argument read is remembered, so that any other key is reported as unknown.
class Args {
 public:
  explicit Args(JsonNode node) : node_(std::move(node)) {}
  int64_t integer(const std::string& key);  // required
  int64_t integer(const std::string& key, int64_t fallback);
  double number(const std::string& key);  // required
  double number(const std::string& key, double fallback);
  bool boolean(const std::string& key, bool fallback);
  std::string string(const std::string& key, const std::string& fallback);
  // Required: an integer (repeated `rank` times) or a list of `rank` integers.
  Shape shape(const std::string& key, int rank = 0);
  bool has(const std::string& key);
  const JsonNode& node() const { return node_; }
  [[noreturn]] void fail(const std::string& what) const { node_.fail(what); }
  // ConfigError for a key that no read asked for.
  void check_all_used() const;

 private:
  JsonNode node_;
  std::set<std::string> used_{"type"};
};

// A short description of a JSON value's type and value for messages: `string "5"`.
std::string describe_json(const nlohmann::json& v);

}  // namespace nabla::cli
