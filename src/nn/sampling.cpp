#include "nabla/nn/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/ops/creation.h"

namespace nabla::nn {
namespace {

struct Rows {
  std::vector<double> values;  // row-major (rows, width)
  int64_t rows = 0, width = 0;
  Shape out_shape;
};

Rows read_rows(const Tensor& logits, const char* op) {
  if (!logits.defined()) throw ValueError(std::string("[") + op + "] logits are undefined");
  if (!is_floating(logits.dtype()))
    throw DTypeError(std::string("[") + op + "] logits must be floating point, got " +
                     std::string(dtype_name(logits.dtype())));
  const Shape& shape = logits.shape();
  if (shape.empty())
    throw ShapeError(std::string("[") + op +
                     "] logits must have a vocabulary axis, got a 0-d tensor");
  Rows r;
  r.width = shape.back();
  if (r.width == 0)
    throw ShapeError(std::string("[") + op + "] logits " + shape_str(shape) +
                     " have an empty vocabulary axis");
  r.out_shape = Shape(shape.begin(), shape.end() - 1);
  r.rows = 1;
  for (int64_t d : r.out_shape) r.rows *= d;
  NoGradGuard no_grad;
  r.values = logits.detach().to_vector<double>();
  for (double v : r.values)
    if (std::isnan(v)) throw ValueError(std::string("[") + op + "] logits contain NaN");
  return r;
}

}  // namespace

Tensor greedy_sample(const Tensor& logits) {
  Rows r = read_rows(logits, "greedy_sample");
  std::vector<int64_t> out(size_t(r.rows));
  for (int64_t i = 0; i < r.rows; ++i) {
    const double* row = r.values.data() + i * r.width;
    out[size_t(i)] = std::max_element(row, row + r.width) - row;
  }
  return tensor(out, r.out_shape);
}

Tensor sample_logits(const Tensor& logits, const SamplingOptions& options, Generator* gen) {
  const double t = options.temperature;
  if (!(t > 0) || !std::isfinite(t))
    throw ValueError("[sample_logits] temperature must be positive and finite, got " +
                     std::to_string(t));
  if (options.top_k < 0)
    throw ValueError("[sample_logits] top_k must be >= 0, got " + std::to_string(options.top_k));
  Rows r = read_rows(logits, "sample_logits");
  std::vector<double> u;
  {
    NoGradGuard no_grad;
    u = rand({r.rows}, float64, gen).to_vector<double>();
  }
  const int64_t k = options.top_k == 0 ? r.width : std::min(options.top_k, r.width);
  std::vector<int64_t> order(size_t(r.width));
  std::vector<double> weight(static_cast<size_t>(k));
  std::vector<int64_t> out(size_t(r.rows));
  for (int64_t i = 0; i < r.rows; ++i) {
    const double* row = r.values.data() + i * r.width;
    std::iota(order.begin(), order.end(), int64_t(0));
    if (k < r.width)
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
    double top = -INFINITY;
    for (int64_t j = 0; j < k; ++j) top = std::max(top, row[order[size_t(j)]]);
    if (top == -INFINITY)
      throw ValueError("[sample_logits] every kept logit of row " + std::to_string(i) + " is -inf");
    double total = 0;
    for (int64_t j = 0; j < k; ++j) {
      // Shifting by the largest logit keeps exp() finite for any temperature.
      double w = top == INFINITY ? double(row[order[size_t(j)]] == INFINITY)
                                 : std::exp((row[order[size_t(j)]] - top) / t);
      weight[size_t(j)] = w;
      total += w;
    }
    double target = u[size_t(i)] * total, acc = 0;
    int64_t pick = -1;
    for (int64_t j = 0; j < k; ++j) {
      if (weight[size_t(j)] == 0) continue;
      pick = j;  // the last index with weight, should rounding leave target above acc
      acc += weight[size_t(j)];
      if (target < acc) break;
    }
    out[size_t(i)] = order[size_t(pick)];
  }
  return tensor(out, r.out_shape);
}

}  // namespace nabla::nn
