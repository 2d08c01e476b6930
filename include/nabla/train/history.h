// What fit() returns: one row of logs per epoch ("epoch", "loss", metrics, "val_loss",
// "val_<metric>", "lr", "seconds", "samples_per_s").
#pragma once
#include <map>
#include <string>
#include <vector>

namespace nabla::train {

// Named values of one batch or epoch.
using Logs = std::map<std::string, double>;

class History {
 public:
  // Adds a row. Keys not seen before become new columns (earlier rows have no value for
  // them), ordered as: epoch, loss, other training values, val_loss, other val_* values, lr,
  // seconds, samples_per_s; alphabetically within a group.
  void append(const Logs& row);

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<Logs>& rows() const { return rows_; }
  bool contains(const std::string& key) const;
  // One value per epoch (NaN where missing); ValueError naming the key and the columns.
  std::vector<double> operator[](const std::string& key) const;
  // The last epoch's value of `key`.
  double last(const std::string& key) const;

  // CSV: a header of the columns, then one line per epoch; numbers with up to 10 significant
  // digits, integers (epoch) without a decimal point, missing values as empty fields.
  std::string to_csv() const;
  // JSON: {"epoch": [1, 2], "loss": [...], ...} in column order; NaN as null.
  std::string to_json() const;
  // Both written atomically (temp file, fsync, rename); IOError naming the file.
  void save_csv(const std::string& path) const;
  void save_json(const std::string& path) const;

 private:
  std::vector<std::string> columns_;
  std::vector<Logs> rows_;
};

}  // namespace nabla::train
