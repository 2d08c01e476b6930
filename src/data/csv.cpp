// CSV reader: an RFC 4180 field splitter, then typed columns.
#include "nabla/data/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "data/file_bytes.h"
#include "nabla/ops/creation.h"

namespace nabla::data {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The whole (trimmed) field as a number, or nothing.
std::optional<double> to_number(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Calls fn(row) for each non-blank row, as it is parsed (a whole file's rows are never held).
template <class Fn>
void for_each_row(const std::string& text, char delimiter, const std::string& name, Fn&& fn) {
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
    throw ValueError("CSV: " + name + ": the delimiter cannot be a quote or a line break");
  CsvRow row{1, {}};
  std::string field;
  int64_t line = 1;
  bool row_has_content = false;  // false on a blank line: it is skipped
  size_t i = 0, n = text.size();
  auto end_row = [&] {
    if (row_has_content) {
      row.fields.push_back(std::move(field));
      fn(row);
    }
    field.clear();
    row.fields.clear();
    row.line = line;
    row_has_content = false;
  };
  while (i < n) {
    char c = text[i];
    if (c == '"' && trim(field).empty()) {
      // A quoted field: runs to the matching quote, "" standing for one quote.
      int64_t start_line = line;
      field.clear();
      row_has_content = true;
      ++i;
      for (;;) {
        if (i >= n)
          throw IOError("CSV: " + name + ": line " + std::to_string(start_line) +
                        ": quoted field is not closed before the end of the file");
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      // Only spaces may follow the closing quote before the delimiter or line end.
      while (i < n && (text[i] == ' ' || text[i] == '\t') && text[i] != delimiter) ++i;
      if (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r')
        throw IOError("CSV: " + name + ": line " + std::to_string(line) +
                      ": unexpected character after the closing quote of a field");
      continue;
    }
    if (c == delimiter) {
      row.fields.push_back(std::move(field));
      field.clear();
      row_has_content = true;
      ++i;
    } else if (c == '\n' || c == '\r') {
      ++line;
      i += (c == '\r' && i + 1 < n && text[i + 1] == '\n') ? 2 : 1;
      end_row();
    } else {
      if (c != ' ' && c != '\t') row_has_content = true;
      field += c;
      ++i;
    }
  }
  end_row();
}

}  // namespace

std::vector<CsvRow> parse_csv(const std::string& text, char delimiter, const std::string& name) {
  std::vector<CsvRow> rows;
  for_each_row(text, delimiter, name, [&](const CsvRow& row) { rows.push_back(row); });
  return rows;
}

struct CsvDataset::Parsed {
  Tensor inputs, targets;
  std::vector<std::string> features, classes;
  std::string target;
};

CsvDataset::CsvDataset(const std::string& path, const CsvOptions& options)
    : CsvDataset(parse(path, options)) {}

CsvDataset::CsvDataset(Parsed p)
    : TensorDataset(p.inputs, p.targets),
      feature_names_(std::move(p.features)),
      classes_(std::move(p.classes)),
      target_name_(std::move(p.target)) {}

int64_t CsvDataset::class_id(const std::string& label) const {
  for (size_t i = 0; i < classes_.size(); ++i)
    if (classes_[i] == label) return int64_t(i);
  throw ValueError("[CsvDataset] " + quoted(label) + " is not one of the " +
                   std::to_string(classes_.size()) + " classes of column " + quoted(target_name_));
}

CsvDataset::Parsed CsvDataset::parse(const std::string& path, const CsvOptions& o) {
  auto where = [&](int64_t line, const std::string& column) {
    return "CSV: " + path + ": line " + std::to_string(line) + ", column " + quoted(column);
  };
  auto is_missing = [&](const std::string& field) {
    std::string_view t = trim(field);
    return std::find(o.missing_markers.begin(), o.missing_markers.end(), t) !=
           o.missing_markers.end();
  };

  std::vector<std::string> names;
  std::optional<size_t> target;
  std::vector<size_t> features;
  // The first row names the columns and picks the ones read.
  auto set_columns = [&](const CsvRow& row) {
    for (size_t c = 0; c < row.fields.size(); ++c)
      names.push_back(o.header ? std::string(trim(row.fields[c])) : std::to_string(c));
    auto column = [&](const std::string& name) -> size_t {
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        std::string all;
        for (const std::string& s : names) all += (all.empty() ? "" : ", ") + quoted(s);
        throw ValueError("CSV: " + path + ": no column named " + quoted(name) +
                         " (columns: " + all + ")");
      }
      return size_t(it - names.begin());
    };
    if (!o.target.empty()) target = column(o.target);
    if (o.features.empty()) {
      for (size_t c = 0; c < names.size(); ++c)
        if (c != target) features.push_back(c);
    }
    for (const std::string& f : o.features) {
      features.push_back(column(f));
      if (features.back() == target)
        throw ValueError("CSV: " + path + ": column " + quoted(f) +
                         " is both the target and a feature");
    }
  };

  std::vector<float> x;             // features of the rows kept, row-major
  std::vector<std::string> labels;  // their target fields
  std::vector<int64_t> label_lines;
  bool first = true;
  auto add_row = [&](const CsvRow& row) {
    if (first) {
      first = false;
      set_columns(row);
      if (o.header) return;
    }
    if (row.fields.size() != names.size())
      throw IOError("CSV: " + path + ": line " + std::to_string(row.line) + " has " +
                    std::to_string(row.fields.size()) + " fields, expected " +
                    std::to_string(names.size()) +
                    (o.header ? " (as the header)" : " (as the first row)"));
    if (o.missing == CsvMissing::drop) {
      bool any = target && is_missing(row.fields[*target]);
      for (size_t c : features) any = any || is_missing(row.fields[c]);
      if (any) return;
    }
    if (target && is_missing(row.fields[*target]))
      throw ValueError(where(row.line, names[*target]) + ": the target is missing");
    for (size_t c : features) {
      const std::string& f = row.fields[c];
      if (is_missing(f)) {
        if (o.missing == CsvMissing::error)
          throw ValueError(where(row.line, names[c]) +
                           ": missing value (set CsvOptions::missing to fill or drop)");
        x.push_back(float(o.fill_value));
        continue;
      }
      std::optional<double> v = to_number(f);
      if (!v)
        throw ValueError(where(row.line, names[c]) + ": expected a number, got " + quoted(f) +
                         " (choose numeric columns with CsvOptions::features)");
      x.push_back(float(*v));
    }
    if (target) {
      labels.emplace_back(trim(row.fields[*target]));
      label_lines.push_back(row.line);
    }
  };
  for_each_row(detail::read_file_bytes(path, "CSV"), o.delimiter, path, add_row);
  if (first) throw IOError("CSV: " + path + ": the file holds no rows");

  Parsed p;
  auto nf = int64_t(features.size());
  int64_t n = nf ? int64_t(x.size()) / nf : int64_t(labels.size());
  p.inputs = tensor(x, Shape{n, nf});
  for (size_t c : features) p.features.push_back(names[c]);
  if (!target) return p;
  p.target = names[*target];
  if (o.target_type == CsvTarget::regression) {
    std::vector<float> y;
    for (size_t r = 0; r < labels.size(); ++r) {
      std::optional<double> v = to_number(labels[r]);
      if (!v)
        throw ValueError(where(label_lines[r], p.target) + ": expected a number, got " +
                         quoted(labels[r]) + " (regression target)");
      y.push_back(float(*v));
    }
    p.targets = tensor(y, Shape{n});
    return p;
  }
  // Classes: sorted numerically when all labels are numbers, else as strings.
  bool numeric = true;
  for (const std::string& l : labels) {
    std::optional<double> v = to_number(l);
    numeric = numeric && v && std::isfinite(*v);  // NaN would break the sort's ordering
  }
  std::vector<std::string> classes = labels;
  if (numeric)
    std::sort(classes.begin(), classes.end(), [](const std::string& a, const std::string& b) {
      double x = *to_number(a), y = *to_number(b);
      return x < y || (x == y && a < b);
    });
  else
    std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  std::map<std::string, int64_t> ids;
  for (size_t i = 0; i < classes.size(); ++i) ids[classes[i]] = int64_t(i);
  std::vector<int64_t> y;
  for (const std::string& l : labels) y.push_back(ids[l]);
  p.targets = tensor(y, Shape{n});
  p.classes = std::move(classes);
  return p;
}

}  // namespace nabla::data
