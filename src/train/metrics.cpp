#include "nabla/train/metrics.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "nabla/autograd.h"
#include "nabla/error.h"

namespace nabla::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> values(const Tensor& t) {
  NoGradGuard no_grad;
  return t.detach().to_vector<double>();
}

void check_batch(const std::string& op, const Tensor& output, const Tensor& target) {
  if (!output.defined() || !target.defined())
    throw ValueError("[" + op + "] needs both an output and a target tensor");
  if (output.ndim() == 0 || target.ndim() == 0 || output.size(0) != target.size(0))
    throw ShapeError("[" + op + "] output " + shape_str(output.shape()) + " and target " +
                     shape_str(target.shape()) + " do not have the same batch size");
}

// Predicted and target classes of a classification batch (see metrics.h).
struct Labels {
  std::vector<int64_t> pred, truth;
  int64_t num_classes = 0;
};

Labels classify(const std::string& op, const Tensor& output, const Tensor& target) {
  check_batch(op, output, target);
  const int64_t n = output.size(0);
  Labels l;
  l.pred.resize(n);
  l.truth.resize(n);
  const bool binary = output.ndim() == 1 || (output.ndim() == 2 && output.size(1) == 1);
  if (!binary && output.ndim() != 2)
    throw ShapeError("[" + op + "] expects outputs of shape (N, C), (N,) or (N, 1), got " +
                     shape_str(output.shape()));
  const std::vector<double> out = values(output);
  const std::vector<double> tgt = values(target);
  if (binary) {
    if (target.numel() != n)
      throw ShapeError("[" + op + "] binary output " + shape_str(output.shape()) +
                       " needs a target of shape (N,) or (N, 1), got " + shape_str(target.shape()));
    l.num_classes = 2;
    for (int64_t i = 0; i < n; ++i) {
      l.pred[i] = out[i] > 0.5;
      l.truth[i] = tgt[i] > 0.5;
    }
    return l;
  }
  const int64_t c = output.size(1);
  l.num_classes = c;
  auto argmax_row = [c](const double* row) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j)
      if (row[j] > row[best]) best = j;
    return best;
  };
  for (int64_t i = 0; i < n; ++i) l.pred[i] = argmax_row(&out[i * c]);
  if (target.shape() == output.shape()) {  // one-hot or probability rows
    for (int64_t i = 0; i < n; ++i) l.truth[i] = argmax_row(&tgt[i * c]);
    return l;
  }
  if (target.numel() != n)
    throw ShapeError("[" + op + "] output " + shape_str(output.shape()) +
                     " needs targets of shape (N,), (N, 1) or (N, C), got " +
                     shape_str(target.shape()));
  for (int64_t i = 0; i < n; ++i) {
    const double v = tgt[i];
    if (!(v >= 0 && v < double(c)) || v != std::floor(v))
      throw IndexError("[" + op + "] target class " + std::to_string(v) + " of example " +
                       std::to_string(i) + " is not in [0, " + std::to_string(c) + ")");
    l.truth[i] = int64_t(v);
  }
  return l;
}

double ratio(int64_t a, int64_t b) { return b == 0 ? kNaN : double(a) / double(b); }

}  // namespace

std::unique_ptr<Metric> make_metric(const std::string& name) {
  if (name == "accuracy" || name == "acc") return std::make_unique<Accuracy>();
  if (name == "precision") return std::make_unique<MacroAverage>(MacroAverage::Kind::precision);
  if (name == "recall") return std::make_unique<MacroAverage>(MacroAverage::Kind::recall);
  if (name == "f1") return std::make_unique<MacroAverage>(MacroAverage::Kind::f1);
  if (name == "mae") return std::make_unique<MeanError>(false);
  if (name == "mse") return std::make_unique<MeanError>(true);
  const std::string pre = "top", post = "_accuracy";
  if (name.size() > pre.size() + post.size() && name.starts_with(pre) && name.ends_with(post)) {
    const std::string digits = name.substr(pre.size(), name.size() - pre.size() - post.size());
    if (digits.size() <= 9 && digits.find_first_not_of("0123456789") == std::string::npos &&
        std::stoll(digits) > 0)
      return std::make_unique<TopKAccuracy>(std::stoll(digits));
  }
  throw ValueError("[metrics] unknown metric '" + name +
                   "'; known: accuracy, topK_accuracy (e.g. top5_accuracy), precision, recall, "
                   "f1, mae, mse");
}

void Accuracy::update(const Tensor& output, const Tensor& target) {
  const Labels l = classify("accuracy", output, target);
  for (std::size_t i = 0; i < l.pred.size(); ++i) correct_ += l.pred[i] == l.truth[i];
  total_ += int64_t(l.pred.size());
}
double Accuracy::result() const { return ratio(correct_, total_); }

TopKAccuracy::TopKAccuracy(int64_t k) : k_(k) {
  if (k < 1) throw ValueError("[top_k_accuracy] k must be at least 1, got " + std::to_string(k));
}

void TopKAccuracy::update(const Tensor& output, const Tensor& target) {
  const std::string op = name();
  if (output.defined() && output.ndim() != 2)
    throw ShapeError("[" + op + "] expects outputs of shape (N, C), got " +
                     shape_str(output.shape()));
  const Labels l = classify(op, output, target);
  const std::vector<double> out = values(output);
  const int64_t c = l.num_classes;
  for (std::size_t i = 0; i < l.truth.size(); ++i) {
    const double* row = &out[i * c];
    const double score = row[l.truth[i]];
    int64_t above = 0;
    for (int64_t j = 0; j < c; ++j) above += row[j] > score;
    correct_ += above < k_;
  }
  total_ += int64_t(l.truth.size());
}
double TopKAccuracy::result() const { return ratio(correct_, total_); }

ConfusionMatrix::ConfusionMatrix(int64_t num_classes) : n_(num_classes) {
  if (num_classes < 1)
    throw ValueError("[confusion_matrix] num_classes must be at least 1, got " +
                     std::to_string(num_classes));
  counts_.assign(n_ * n_, 0);
}

void ConfusionMatrix::update(const Tensor& output, const Tensor& target) {
  const Labels l = classify("confusion_matrix", output, target);
  if (l.num_classes != n_)
    throw ShapeError("[confusion_matrix] output " + shape_str(output.shape()) + " has " +
                     std::to_string(l.num_classes) + " classes, the matrix " + std::to_string(n_));
  for (std::size_t i = 0; i < l.pred.size(); ++i) ++counts_[l.truth[i] * n_ + l.pred[i]];
}

void ConfusionMatrix::add(int64_t t, int64_t p, int64_t n) {
  count(t, p);  // checks the classes
  counts_[t * n_ + p] += n;
}

void ConfusionMatrix::reset() { counts_.assign(n_ * n_, 0); }

int64_t ConfusionMatrix::count(int64_t t, int64_t p) const {
  if (t < 0 || t >= n_ || p < 0 || p >= n_)
    throw IndexError("[confusion_matrix] class (" + std::to_string(t) + ", " + std::to_string(p) +
                     ") is not in [0, " + std::to_string(n_) + ")");
  return counts_[t * n_ + p];
}

int64_t ConfusionMatrix::total() const {
  int64_t s = 0;
  for (int64_t v : counts_) s += v;
  return s;
}

double ConfusionMatrix::result() const {
  int64_t diag = 0;
  for (int64_t c = 0; c < n_; ++c) diag += counts_[c * n_ + c];
  return ratio(diag, total());
}

double ConfusionMatrix::precision(int64_t c) const {
  int64_t predicted = 0;
  for (int64_t t = 0; t < n_; ++t) predicted += count(t, c);
  return predicted == 0 ? 0.0 : double(count(c, c)) / double(predicted);
}

double ConfusionMatrix::recall(int64_t c) const {
  int64_t actual = 0;
  for (int64_t p = 0; p < n_; ++p) actual += count(c, p);
  return actual == 0 ? 0.0 : double(count(c, c)) / double(actual);
}

double ConfusionMatrix::f1(int64_t c) const {
  const double p = precision(c), r = recall(c);
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

bool ConfusionMatrix::seen(int64_t c) const {
  for (int64_t k = 0; k < n_; ++k)
    if (count(c, k) != 0 || count(k, c) != 0) return true;
  return false;
}

std::string ConfusionMatrix::to_string(const std::vector<std::string>& labels) const {
  if (!labels.empty() && int64_t(labels.size()) != n_)
    throw ValueError("[confusion_matrix] " + std::to_string(labels.size()) + " labels for " +
                     std::to_string(n_) + " classes");
  auto label = [&](int64_t c) { return labels.empty() ? std::to_string(c) : labels[c]; };
  const std::string corner = "target\\pred";
  std::size_t w = 1, first = corner.size();
  for (int64_t c = 0; c < n_; ++c) {
    w = std::max({w, label(c).size(), std::to_string(counts_[c]).size()});
    first = std::max(first, label(c).size());
    for (int64_t p = 0; p < n_; ++p) w = std::max(w, std::to_string(counts_[c * n_ + p]).size());
  }
  auto pad = [](const std::string& s, std::size_t width) {
    return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
  };
  std::ostringstream os;
  os << pad(corner, first);
  for (int64_t p = 0; p < n_; ++p) os << "  " << pad(label(p), w);
  os << '\n';
  for (int64_t t = 0; t < n_; ++t) {
    os << pad(label(t), first);
    for (int64_t p = 0; p < n_; ++p) os << "  " << pad(std::to_string(counts_[t * n_ + p]), w);
    os << '\n';
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const ConfusionMatrix& m) { return os << m.to_string(); }

std::string MacroAverage::name() const {
  switch (kind_) {
    case Kind::precision:
      return "precision";
    case Kind::recall:
      return "recall";
    default:
      return "f1";
  }
}

void MacroAverage::update(const Tensor& output, const Tensor& target) {
  const Labels l = classify(name(), output, target);
  if (!matrix_) matrix_ = std::make_unique<ConfusionMatrix>(l.num_classes);
  if (l.num_classes != matrix_->num_classes())
    throw ShapeError("[" + name() + "] output " + shape_str(output.shape()) + " has " +
                     std::to_string(l.num_classes) + " classes, earlier batches " +
                     std::to_string(matrix_->num_classes()));
  for (std::size_t i = 0; i < l.pred.size(); ++i) matrix_->add(l.truth[i], l.pred[i]);
}

double MacroAverage::result() const {
  if (!matrix_ || matrix_->total() == 0) return kNaN;
  double sum = 0;
  int64_t classes = 0;
  for (int64_t c = 0; c < matrix_->num_classes(); ++c) {
    if (!matrix_->seen(c)) continue;
    ++classes;
    sum += kind_ == Kind::precision ? matrix_->precision(c)
           : kind_ == Kind::recall  ? matrix_->recall(c)
                                    : matrix_->f1(c);
  }
  return sum / double(classes);
}

void MeanError::update(const Tensor& output, const Tensor& target) {
  const std::string op = name();
  check_batch(op, output, target);
  if (output.numel() != target.numel())
    throw ShapeError("[" + op + "] output " + shape_str(output.shape()) + " and target " +
                     shape_str(target.shape()) + " have different numbers of elements");
  const std::vector<double> o = values(output), t = values(target);
  double s = 0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    const double d = o[i] - t[i];
    s += squared_ ? d * d : std::abs(d);
  }
  sum_ += s;
  count_ += int64_t(o.size());
}
double MeanError::result() const { return count_ == 0 ? kNaN : sum_ / double(count_); }

}  // namespace nabla::train
