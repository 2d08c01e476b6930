// Metrics computed on the CPU from a model's outputs and the targets, batch by batch:
// update() accumulates, result() reads the value over everything seen since reset().
//
//   auto acc = nb::train::make_metric("accuracy");
//   for (auto& b : loader) acc->update(model(b.inputs), b.targets);
//   double a = acc->result();
//
// Classification outputs are either scores of shape (N, C) (logits or probabilities; the
// prediction is the argmax of each row) with targets of class indices (N,) or (N, 1) or
// one-hot/probability rows (N, C); or probabilities of shape (N,) or (N, 1) for a binary
// problem (the prediction is output > 0.5, and so is the label for targets given as
// probabilities). An output whose batch differs from the target's is a ShapeError; a class
// index outside [0, C) is an IndexError.
#pragma once
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::train {

class Metric {
 public:
  virtual ~Metric() = default;
  // The key of its value in logs and history ("accuracy", "top5_accuracy"...).
  virtual std::string name() const = 0;
  virtual void update(const Tensor& output, const Tensor& target) = 0;
  virtual double result() const = 0;  // NaN before the first example
  virtual void reset() = 0;
};

// By name: "accuracy", "topK_accuracy" (e.g. "top5_accuracy"), "precision", "recall", "f1"
// (macro averages), "mae", "mse". ValueError naming an unknown name and the known ones.
std::unique_ptr<Metric> make_metric(const std::string& name);

// Fraction of examples whose predicted class is the target class.
class Accuracy : public Metric {
 public:
  std::string name() const override { return "accuracy"; }
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override;
  void reset() override { correct_ = total_ = 0; }

 private:
  int64_t correct_ = 0, total_ = 0;
};

// Fraction of examples whose target class is among the k highest scores of (N, C) outputs
// (ties counted in the target's favour).
class TopKAccuracy : public Metric {
 public:
  explicit TopKAccuracy(int64_t k);
  std::string name() const override { return "top" + std::to_string(k_) + "_accuracy"; }
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override;
  void reset() override { correct_ = total_ = 0; }

 private:
  int64_t k_;
  int64_t correct_ = 0, total_ = 0;
};

// Counts of (target class, predicted class) pairs: row = target, column = prediction.
class ConfusionMatrix : public Metric {
 public:
  // ValueError unless num_classes >= 1. Binary outputs (N,) or (N, 1) need num_classes == 2.
  explicit ConfusionMatrix(int64_t num_classes);
  std::string name() const override { return "confusion_matrix"; }
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override;  // accuracy: the trace over the total
  void reset() override;

  int64_t num_classes() const { return n_; }
  int64_t count(int64_t target_class, int64_t predicted_class) const;
  // Counts `n` more examples of target_class predicted as predicted_class.
  void add(int64_t target_class, int64_t predicted_class, int64_t n = 1);
  int64_t total() const;
  // Per class, 0 when the denominator is 0 (as scikit-learn's zero_division=0).
  double precision(int64_t c) const;
  double recall(int64_t c) const;
  double f1(int64_t c) const;
  // Whether class c occurs among the targets or the predictions seen.
  bool seen(int64_t c) const;
  // A table with a header row of predicted classes and one row per target class; `labels`
  // (num_classes names) replaces the class numbers.
  std::string to_string(const std::vector<std::string>& labels = {}) const;

 private:
  int64_t n_;
  std::vector<int64_t> counts_;  // n_ * n_, row-major
};
std::ostream& operator<<(std::ostream& os, const ConfusionMatrix& m);

// Macro averages over the classes that occur among the targets or the predictions (as
// scikit-learn's average="macro"); the number of classes comes from the first batch.
class MacroAverage : public Metric {
 public:
  enum class Kind { precision, recall, f1 };
  explicit MacroAverage(Kind kind) : kind_(kind) {}
  std::string name() const override;
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override;
  void reset() override { matrix_.reset(); }

 private:
  Kind kind_;
  std::unique_ptr<ConfusionMatrix> matrix_;
};

// Mean absolute and mean squared error over all elements; output and target must have the
// same batch and the same number of elements.
class MeanError : public Metric {
 public:
  explicit MeanError(bool squared) : squared_(squared) {}
  std::string name() const override { return squared_ ? "mse" : "mae"; }
  void update(const Tensor& output, const Tensor& target) override;
  double result() const override;
  void reset() override { sum_ = 0, count_ = 0; }

 private:
  bool squared_;
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace nabla::train
