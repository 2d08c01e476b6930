// Graphs and comparisons that several compiler tests share.
#pragma once
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <vector>

#include "compile/graph.h"

namespace nabla::testing {

// Linear layers as nn::Linear computes them (x W^T + b), ReLU between; p = {W1, b1, W2, b2, ...}.
inline Tensor mlp_forward(const Tensor& x, const std::vector<Tensor>& p) {
  Tensor h = x;
  for (std::size_t l = 0; l < p.size(); l += 2) {
    h = matmul(h, p[l].t()) + p[l + 1];
    if (l + 2 < p.size()) h = relu(h);
  }
  return h;
}

// A small CNN training step: conv 3x3 (6 maps) + ReLU + 2x2 max pool + linear 216 -> 10 on a
// 4 x 1 x 12 x 12 batch, cross-entropy; outputs the loss and the gradients of W, B, F. Inputs
// x, y, w, b, f; sample_cnn_inputs() gives values for them.
inline Function compile_small_cnn_step() {
  auto X = placeholder("x", {4, 1, 12, 12});
  auto Y = placeholder("y", {4}, int64);
  auto W = placeholder("w", {6, 1, 3, 3}), B = placeholder("b", {6});
  auto F = placeholder("f", {6 * 6 * 6, 10});
  auto h = max_pool2d(relu(conv2d(X, W, B, {.padding = {1, 1}})), {2, 2});
  Tensor loss = nn::cross_entropy(matmul(h.reshape({4, 216}), F), Y);
  std::vector<Tensor> outs = gradients(loss, {W, B, F});
  outs.insert(outs.begin(), loss);
  return compile(outs, {.inputs = {X, Y, W, B, F}});
}
inline std::vector<Tensor> sample_cnn_inputs() {
  return {randn({4, 1, 12, 12}), randint(0, 10, {4}, int64), randn({6, 1, 3, 3}), randn({6}),
          randn({216, 10})};
}

// How many values differ by more than tol * (1 + |b|) (0: exactly); NaN equals NaN.
inline std::size_t count_differing(const std::vector<double>& a, const std::vector<double>& b,
                                   double tol = 0) {
  std::size_t n = 0;
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k)
    n += !(std::abs(a[k] - b[k]) <= tol * (1 + std::abs(b[k])) ||
           (std::isnan(a[k]) && std::isnan(b[k])));
  return n + (a.size() > b.size() ? a.size() - b.size() : b.size() - a.size());
}

// Runs g fused and op by op and expects the same outputs: equal shapes and dtypes, values within
// tol * (1 + |op-by-op value|) (tol 0: exactly), the first difference named.
inline void expect_fused_matches_op_by_op(const compile_detail::Graph& g,
                                          const std::vector<Tensor>& inputs, double tol = 0) {
  auto fused = compile_detail::execute(*compile_detail::make_plan(g, true), inputs);
  auto plain = compile_detail::execute(*compile_detail::make_plan(g, false), inputs);
  ASSERT_EQ(fused.size(), plain.size());
  for (std::size_t i = 0; i < fused.size(); ++i) {
    ASSERT_EQ(fused[i].shape(), plain[i].shape());
    ASSERT_EQ(fused[i].dtype(), plain[i].dtype());
    std::vector<double> a = fused[i].to_vector<double>(), b = plain[i].to_vector<double>();
    const std::size_t differ = count_differing(a, b, tol);
    for (std::size_t k = 0; k < a.size() && differ; ++k)
      if (count_differing({a[k]}, {b[k]}, tol)) {
        ADD_FAILURE() << "output " << i << " first differs at " << k << ": " << a[k] << " vs "
                      << b[k];
        break;
      }
    EXPECT_EQ(differ, 0u) << "output " << i << " of " << a.size() << " values";
  }
}

}  // namespace nabla::testing
