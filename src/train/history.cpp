#include "nabla/train/history.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "nabla/error.h"

namespace nabla::train {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string number(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

int column_group(const std::string& key) {
  if (key == "epoch") return 0;
  if (key == "loss") return 1;
  if (key == "val_loss") return 3;
  if (key.starts_with("val_")) return 4;
  if (key == "lr") return 5;
  if (key == "seconds") return 6;
  if (key == "samples_per_s") return 7;
  if (key == "data_wait_s") return 8;
  return 2;
}

}  // namespace

void History::append(const Logs& row) {
  for (const auto& [k, v] : row)
    if (!contains(k)) columns_.push_back(k);
  std::stable_sort(columns_.begin(), columns_.end(),
                   [](const std::string& a, const std::string& b) {
                     const int ga = column_group(a), gb = column_group(b);
                     return ga != gb ? ga < gb : a < b;
                   });
  rows_.push_back(row);
}

bool History::contains(const std::string& key) const {
  return std::find(columns_.begin(), columns_.end(), key) != columns_.end();
}

std::vector<double> History::operator[](const std::string& key) const {
  if (!contains(key)) {
    std::string names;
    for (const std::string& c : columns_) names += (names.empty() ? "" : ", ") + c;
    throw ValueError("[History] no column '" + key + "'; columns: " + names);
  }
  std::vector<double> out;
  out.reserve(rows_.size());
  for (const Logs& r : rows_) {
    auto it = r.find(key);
    out.push_back(it == r.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
  }
  return out;
}

double History::last(const std::string& key) const {
  std::vector<double> col = (*this)[key];
  if (col.empty()) throw ValueError("[History] is empty");
  return col.back();
}

std::string History::to_csv() const {
  std::string s;
  for (std::size_t i = 0; i < columns_.size(); ++i) s += (i ? "," : "") + csv_field(columns_[i]);
  s += '\n';
  for (const Logs& r : rows_) {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      auto it = r.find(columns_[i]);
      s += (i ? "," : "") + (it == r.end() ? std::string() : number(it->second));
    }
    s += '\n';
  }
  return s;
}

std::string History::to_json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const std::string& c : columns_) {
    nlohmann::ordered_json col = nlohmann::ordered_json::array();
    for (double v : (*this)[c]) {
      if (!std::isfinite(v))
        col.push_back(nullptr);
      else if (v == std::floor(v) && std::abs(v) < 9.0e15)
        col.push_back(int64_t(v));
      else
        col.push_back(v);
    }
    j[c] = std::move(col);
  }
  return j.dump(2) + "\n";
}

void History::save_csv(const std::string& path) const { write_file_atomically(path, {to_csv()}); }
void History::save_json(const std::string& path) const { write_file_atomically(path, {to_json()}); }

}  // namespace nabla::train
