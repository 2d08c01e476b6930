#include "json_node.h"

#include <algorithm>

namespace nabla::cli {

std::string describe_json(const nlohmann::json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  if (v.is_null()) return "null";
  return std::string(v.type_name()) + " " + text;
}

void JsonNode::fail(const std::string& what) const {
  throw ConfigError(file_ + ": " + (path_.empty() ? "" : path_ + ": ") + what);
}

std::string JsonNode::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

JsonNode JsonNode::at(const std::string& key) const {
  if (!v_->is_object()) fail("expects an object, got " + describe_json(*v_));
  auto it = v_->find(key);
  if (it == v_->end()) fail("missing key '" + key + "'");
  return JsonNode(*it, file_, child_path(key));
}

std::vector<JsonNode> JsonNode::elements() const {
  if (!v_->is_array()) fail("expects a list, got " + describe_json(*v_));
  std::vector<JsonNode> out;
  for (std::size_t i = 0; i < v_->size(); ++i)
    out.emplace_back((*v_)[i], file_, path_ + "[" + std::to_string(i) + "]");
  return out;
}

void JsonNode::only(const std::vector<std::string>& known) const {
  if (!v_->is_object()) fail("expects an object, got " + describe_json(*v_));
  for (const auto& [k, v] : v_->items())
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      fail("unknown key '" + k + "' (known: " + list + ")");
    }
}

int64_t JsonNode::integer() const {
  if (v_->is_number_integer()) return v_->get<int64_t>();
  if (v_->is_number_float()) {
    const double d = v_->get<double>();
    if (d == double(int64_t(d))) return int64_t(d);
  }
  fail("expects an integer, got " + describe_json(*v_));
}

double JsonNode::number() const {
  if (!v_->is_number()) fail("expects a number, got " + describe_json(*v_));
  return v_->get<double>();
}

bool JsonNode::boolean() const {
  if (!v_->is_boolean()) fail("expects true or false, got " + describe_json(*v_));
  return v_->get<bool>();
}

std::string JsonNode::string() const {
  if (!v_->is_string()) fail("expects a string, got " + describe_json(*v_));
  return v_->get<std::string>();
}

Shape JsonNode::shape(int rank) const {
  Shape s;
  if (v_->is_number() && rank > 0) {
    s = Shape(std::size_t(rank), integer());
    return s;
  }
  if (!v_->is_array())
    fail("expects " + std::string(rank > 0 ? "an integer or " : "") + "a list of integers, got " +
         describe_json(*v_));
  for (const JsonNode& e : elements()) s.push_back(e.integer());
  if (rank > 0 && int(s.size()) != rank)
    fail("expects " + std::to_string(rank) + " integers, got " + std::to_string(s.size()));
  return s;
}

std::vector<std::string> JsonNode::strings() const {
  std::vector<std::string> out;
  for (const JsonNode& e : elements()) out.push_back(e.string());
  return out;
}

int64_t JsonNode::integer(const std::string& key, int64_t fallback) const {
  return has(key) ? at(key).integer() : fallback;
}
double JsonNode::number(const std::string& key, double fallback) const {
  return has(key) ? at(key).number() : fallback;
}
bool JsonNode::boolean(const std::string& key, bool fallback) const {
  return has(key) ? at(key).boolean() : fallback;
}
std::string JsonNode::string(const std::string& key, const std::string& fallback) const {
  return has(key) ? at(key).string() : fallback;
}

int64_t Args::integer(const std::string& key) {
  used_.insert(key);
  return node_.at(key).integer();
}
int64_t Args::integer(const std::string& key, int64_t fallback) {
  used_.insert(key);
  return node_.integer(key, fallback);
}
double Args::number(const std::string& key) {
  used_.insert(key);
  return node_.at(key).number();
}
double Args::number(const std::string& key, double fallback) {
  used_.insert(key);
  return node_.number(key, fallback);
}
bool Args::boolean(const std::string& key, bool fallback) {
  used_.insert(key);
  return node_.boolean(key, fallback);
}
std::string Args::string(const std::string& key, const std::string& fallback) {
  used_.insert(key);
  return node_.string(key, fallback);
}
Shape Args::shape(const std::string& key, int rank) {
  used_.insert(key);
  return node_.at(key).shape(rank);
}
bool Args::has(const std::string& key) {
  used_.insert(key);
  return node_.has(key);
}

void Args::check_all_used() const {
  if (!node_.is_object()) return;
  for (const auto& [k, v] : node_.value().items())
    if (!used_.count(k)) {
      std::string known;
      for (const auto& u : used_)
        if (u != "type") known += (known.empty() ? "" : ", ") + u;
      node_.fail("unknown argument '" + k + "'" +
                 (known.empty() ? " (it takes none)" : " (known: " + known + ")"));
    }
}

}  // namespace nabla::cli
