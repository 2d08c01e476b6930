// CSV files as datasets: numeric feature columns and an optional target column.
//
//   nd::CsvDataset iris("iris.csv", {.target = "species"});
//   iris.inputs();          // float32 (150, 4)
//   iris.targets();         // int64 (150): ids into iris.classes()
//   iris.classes();         // {"setosa", "versicolor", "virginica"} (sorted)
//   iris.feature_names();   // {"sepal_length", ...}
//
// The format is RFC 4180: fields separated by `delimiter`; a field in double quotes may hold
// delimiters, line breaks and doubled quotes (""). Blank lines are skipped; \r\n works.
#pragma once
#include <string>
#include <vector>

#include "nabla/data/dataset.h"

namespace nabla::data {

enum class CsvTarget {
  classes,     // int64 class ids; labels map to ids through the sorted vocabulary classes()
  regression,  // float32 values
};

enum class CsvMissing {
  error,  // ValueError naming the line and the column
  fill,   // replace a missing feature by fill_value (a missing target is still an error)
  drop,   // skip rows with any missing value among the columns read
};

struct CsvOptions {
  char delimiter = ',';
  bool header = true;  // without one, columns are named "0", "1", ...
  // The target column's name; empty for unlabelled data (targets() undefined).
  std::string target;
  CsvTarget target_type = CsvTarget::classes;
  // Feature columns in this order; empty: every column but the target.
  std::vector<std::string> features;
  CsvMissing missing = CsvMissing::error;
  double fill_value = 0;
  // Fields (after trimming spaces) that count as missing.
  std::vector<std::string> missing_markers = {"", "NA", "N/A", "NaN", "nan", "null"};
};

// Errors: IOError for a file that cannot be read or is malformed (a row with the wrong number
// of fields, an unterminated quote, no header); ValueError for options naming no column, a
// feature that is not a number, or a missing value under CsvMissing::error. Messages name the
// file, the line and the column: `CSV: iris.csv: line 7, column "petal_width": expected a
// number, got "abc"`.
class CsvDataset : public TensorDataset {
 public:
  explicit CsvDataset(const std::string& path, const CsvOptions& options = {});

  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const std::string& target_name() const { return target_name_; }
  // Class labels in id order (CsvTarget::classes): sorted numerically when every label is a
  // number (so labels 0..K-1 keep their values as ids), otherwise as strings.
  const std::vector<std::string>& classes() const { return classes_; }
  // The id of a class label; ValueError when it is not one.
  int64_t class_id(const std::string& label) const;

 private:
  struct Parsed;
  static Parsed parse(const std::string& path, const CsvOptions& options);
  CsvDataset(Parsed parsed);
  std::vector<std::string> feature_names_, classes_;
  std::string target_name_;
};

// Splits CSV text into rows of fields (what CsvDataset reads); `line` of each row is the
// 1-based line on which it starts. IOError naming `name` for an unterminated quote.
struct CsvRow {
  int64_t line;
  std::vector<std::string> fields;
};
std::vector<CsvRow> parse_csv(const std::string& text, char delimiter = ',',
                              const std::string& name = "<text>");

}  // namespace nabla::data
