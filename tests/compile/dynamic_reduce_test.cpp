// Reductions, losses and normalisations over dynamic (-1) dims in compiled graphs: the forward
// uses the run-time sizes (counts of means and variances), and symbolic gradients broadcast back
// to the run-time shape. Each is checked against eager mode at two batch sizes.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>

#include "compile/sample_graphs.h"

namespace nb = nabla;
namespace nn = nb::nn;

namespace {

using Fn = std::function<nb::Tensor(const nb::Tensor&)>;

void expect_close(const nb::Tensor& a, const nb::Tensor& b, const std::string& what,
                  double tol = 2e-5) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i)
    ASSERT_NEAR(x[i], y[i], tol * (1 + std::abs(y[i]))) << what << " at " << i;
}

// The run-time shape for `shape` with each -1 replaced by `n`.
nb::Shape sized(nb::Shape shape, int64_t n) {
  for (int64_t& d : shape)
    if (d < 0) d = n;
  return shape;
}

// Compiles f and the gradient of sum(f(x) * c) (c: a cotangent input shaped like f's output)
// on placeholders with dynamic dims, then checks both against eager autograd at several sizes.
void check_forward_and_gradient(const std::string& what, const nb::Shape& shape, const Fn& f,
                                std::initializer_list<int64_t> sizes = {3, 8}) {
  SCOPED_TRACE(what);
  nb::Tensor X = nb::placeholder("x", shape);
  nb::Tensor Y = f(X);
  nb::Tensor C = nb::placeholder("c", Y.shape());
  nb::Tensor G = nb::gradients(nb::sum(Y * C), {X})[0];
  EXPECT_EQ(G.shape(), shape);
  nb::Function fn = nb::compile({Y, G}, {.inputs = {X, C}});
  for (int64_t n : sizes) {
    nb::Tensor x = nb::randn(sized(shape, n)).requires_grad_();
    nb::Tensor y = f(x);
    nb::Tensor c = nb::randn(y.shape());
    (y * c).sum().backward();
    std::vector<nb::Tensor> out = fn.run({x.detach(), c});
    expect_close(out[0], y.detach(), what + " forward, size " + std::to_string(n));
    expect_close(out[1], x.grad(), what + " gradient, size " + std::to_string(n));
  }
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST(DynamicReduce, SumAndMean) {
  for (bool keep : {false, true}) {
    std::string k = keep ? " keepdims" : "";
    for (nb::Shape axes : {nb::Shape{}, nb::Shape{0}, nb::Shape{1}, nb::Shape{0, 2}}) {
      std::string a = " axes " + nb::shape_str(axes) + k;
      check_forward_and_gradient("sum" + a, {-1, 4, 3},
                                 [&](const nb::Tensor& t) { return nb::sum(t, axes, keep); });
      check_forward_and_gradient("mean" + a, {-1, 4, 3},
                                 [&](const nb::Tensor& t) { return nb::mean(t, axes, keep); });
    }
  }
  check_forward_and_gradient("Tensor::sum", {-1, 5}, [](const nb::Tensor& t) { return t.sum(); });
  check_forward_and_gradient("Tensor::mean", {-1, 5}, [](const nb::Tensor& t) { return t.mean(); });
  check_forward_and_gradient("mean over a dynamic middle dim", {2, -1, 3},
                             [](const nb::Tensor& t) { return nb::mean(t, {1}); });
}

TEST(DynamicReduce, VarianceAndStandardDeviation) {
  for (int64_t correction : {0, 1})
    for (bool keep : {false, true})
      for (nb::Shape axes : {nb::Shape{}, nb::Shape{0}, nb::Shape{1}}) {
        std::string a = " correction " + std::to_string(correction) + " axes " +
                        nb::shape_str(axes) + (keep ? " keepdims" : "");
        check_forward_and_gradient("var" + a, {-1, 5}, [&](const nb::Tensor& t) {
          return nb::var(t, axes, correction, keep);
        });
        check_forward_and_gradient("std" + a, {-1, 5}, [&](const nb::Tensor& t) {
          return nb::std(t, axes, correction, keep);
        });
      }
}

TEST(DynamicReduce, ExtremaProductsNormsAndLogSumExp) {
  for (nb::Shape axes : {nb::Shape{}, nb::Shape{0}, nb::Shape{1}}) {
    std::string a = " axes " + nb::shape_str(axes);
    check_forward_and_gradient("max" + a, {-1, 5},
                               [&](const nb::Tensor& t) { return nb::max(t, axes); });
    check_forward_and_gradient("min" + a, {-1, 5},
                               [&](const nb::Tensor& t) { return nb::min(t, axes, true); });
    check_forward_and_gradient("prod" + a, {-1, 5},
                               [&](const nb::Tensor& t) { return nb::prod(t, axes); });
    check_forward_and_gradient("logsumexp" + a, {-1, 5},
                               [&](const nb::Tensor& t) { return nb::logsumexp(t, axes); });
    for (double p : {1.0, 2.0, kInf})
      check_forward_and_gradient("norm p=" + std::to_string(p) + a, {-1, 5},
                                 [&](const nb::Tensor& t) { return nb::norm(t, p, axes); });
  }
  for (int64_t axis : {0, 1}) {
    std::string a = " axis " + std::to_string(axis);
    check_forward_and_gradient("cumsum" + a, {-1, 5},
                               [&](const nb::Tensor& t) { return nb::cumsum(t, axis); });
    check_forward_and_gradient("argmax picks" + a, {-1, 5}, [&](const nb::Tensor& t) {
      return nb::gather(t, axis, nb::argmax(t, axis, true));
    });
    check_forward_and_gradient("softmax" + a, {-1, 5},
                               [&](const nb::Tensor& t) { return nb::softmax(t, axis); });
    check_forward_and_gradient("log_softmax" + a, {-1, 5},
                               [&](const nb::Tensor& t) { return nb::log_softmax(t, axis); });
  }
}

TEST(DynamicReduce, Normalisations) {
  nb::Tensor w = nb::randn({6}), b = nb::randn({6});
  check_forward_and_gradient("layer_norm", {-1, 6},
                             [&](const nb::Tensor& t) { return nb::layer_norm(t, {6}, w, b); });
  // Batch statistics over the dynamic batch (no running stats: nothing is updated in place).
  check_forward_and_gradient("batch_norm (N, C)", {-1, 6}, [&](const nb::Tensor& t) {
    return nb::batch_norm(t, nb::Tensor(), nb::Tensor(), w, b, /*training=*/true);
  });
  check_forward_and_gradient("batch_norm (N, C, L)", {-1, 6, 4}, [&](const nb::Tensor& t) {
    return nb::batch_norm(t, nb::Tensor(), nb::Tensor(), w, b, /*training=*/true);
  });
  check_forward_and_gradient("group_norm", {-1, 6, 4},
                             [&](const nb::Tensor& t) { return nb::group_norm(t, 3, w, b); });
  check_forward_and_gradient("standardise by hand", {-1, 6}, [](const nb::Tensor& t) {
    return (t - nb::mean(t, {0}, true)) / nb::sqrt(nb::var(t, {0}, 0, true) + 1e-5);
  });
}

namespace {

// A loss of (input, target) on a dynamic batch: compiled loss and input gradient vs eager.
using Loss = std::function<nb::Tensor(const nb::Tensor&, const nb::Tensor&)>;
void check_loss(const std::string& what, const nb::Shape& in_shape, const nb::Shape& target_shape,
                nb::DType target_dtype, const Loss& loss) {
  SCOPED_TRACE(what);
  nb::Tensor X = nb::placeholder("x", in_shape),
             T = nb::placeholder("t", target_shape, target_dtype);
  nb::Tensor L = loss(X, T);
  nb::Function fn = nb::compile({L, nb::gradients(L, {X})[0]}, {.inputs = {X, T}});
  for (int64_t n : {7, 32}) {
    nb::Tensor x = nb::randn(sized(in_shape, n)).requires_grad_();
    nb::Tensor t = target_dtype == nb::int64
                       ? nb::randint(0, in_shape.back(), sized(target_shape, n), nb::int64)
                       : nb::rand(sized(target_shape, n));
    nb::Tensor l = loss(x, t);
    l.backward();
    std::vector<nb::Tensor> out = fn.run({x.detach(), t});
    expect_close(out[0], l.detach(), what + " loss, batch " + std::to_string(n));
    expect_close(out[1], x.grad(), what + " gradient, batch " + std::to_string(n));
  }
}

}  // namespace

TEST(DynamicReduce, LossesWithMeanReductionOnADynamicBatch) {
  check_loss("mse_loss", {-1, 4}, {-1, 4}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) { return nn::mse_loss(x, t); });
  check_loss("l1_loss", {-1, 4}, {-1, 4}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) { return nn::l1_loss(x, t); });
  check_loss("binary_cross_entropy_with_logits", {-1, 4}, {-1, 4}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) {
               return nn::binary_cross_entropy_with_logits(x, t);
             });
  check_loss("smooth_l1_loss", {-1, 4}, {-1, 4}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) { return nn::smooth_l1_loss(x, t); });
  check_loss("huber_loss", {-1, 4}, {-1, 4}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) { return nn::huber_loss(x, t); });
  check_loss("binary_cross_entropy", {-1, 4}, {-1, 4}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) {
               return nn::binary_cross_entropy(nb::sigmoid(x), t);
             });
  check_loss("kl_div", {-1, 4}, {-1, 4}, nb::float32, [](const nb::Tensor& x, const nb::Tensor& t) {
    return nn::kl_div(nb::log_softmax(x, 1), t);
  });
  check_loss("sum reduction", {-1, 4}, {-1, 4}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) {
               return nn::mse_loss(x, t, nn::Reduction::sum);
             });
  check_loss("cross_entropy", {-1, 5}, {-1}, nb::int64,
             [](const nb::Tensor& x, const nb::Tensor& t) { return nn::cross_entropy(x, t); });
  nb::Tensor w = nb::rand({5}) + 0.5;
  check_loss("cross_entropy weighted, smoothed", {-1, 5}, {-1}, nb::int64,
             [&](const nb::Tensor& x, const nb::Tensor& t) {
               return nn::cross_entropy(x, t, {.weight = w, .label_smoothing = 0.1});
             });
  check_loss("cross_entropy with probabilities", {-1, 5}, {-1, 5}, nb::float32,
             [](const nb::Tensor& x, const nb::Tensor& t) { return nn::cross_entropy(x, t); });
  check_loss("nll_loss", {-1, 5}, {-1}, nb::int64, [](const nb::Tensor& x, const nb::Tensor& t) {
    return nn::nll_loss(nb::log_softmax(x, 1), t);
  });
  check_loss("cross_entropy (N, C, L)", {-1, 5, 3}, {-1, 3}, nb::int64,
             [](const nb::Tensor& x, const nb::Tensor& t) { return nn::cross_entropy(x, t); });
}

TEST(DynamicReduce, GradientOfASumIsShapedLikeEachCallsInput) {
  nb::Tensor X = nb::placeholder("x", {-1, 3});
  nb::Function f = nb::compile(nb::gradients(nb::sum(X), {X})[0]);
  for (int64_t n : {1, 4, 9}) {
    nb::Tensor g = f({{"x", nb::randn({n, 3})}});
    EXPECT_EQ(g.shape(), (nb::Shape{n, 3}));
    EXPECT_EQ(g.to_vector<float>(), std::vector<float>(std::size_t(n * 3), 1.0f));
  }
  // Broadcasting to a dynamic dim needs broadcast_like: broadcast_to names the fix.
  EXPECT_THROW(nb::sum(X, {0}, true).broadcast_to(X.shape()), nb::ShapeError);
  nb::Tensor b = nb::broadcast_like(nb::sum(X, {0}, true), X);
  EXPECT_EQ(b.shape(), X.shape());
  nb::Tensor v = nb::randn({5, 3});
  expect_close(nb::compile(b)({{"x", v}}), nb::sum(v, {0}, true).broadcast_to({5, 3}),
               "broadcast_like");
  EXPECT_THROW(nb::broadcast_like(nb::ones({2}), X), nb::ShapeError);
}

namespace {

constexpr double kLr = 0.1;

}  // namespace

// Forward, symbolic gradients and an SGD update compiled once for any batch size: each call,
// whatever its batch, moves the parameters exactly as eager nn + optim::SGD do.
TEST(DynamicReduce, CompiledTrainingStepOnADynamicBatchMatchesEager) {
  nb::manual_seed(5);
  nn::Sequential net(nn::Linear(12, 16), nn::ReLU(), nn::Linear(16, 4));
  std::vector<nb::Tensor> params;
  for (const nb::Tensor& p : net.parameters()) params.push_back(p.detach().clone());
  nb::optim::SGD opt(net.parameters(), {.lr = kLr});

  nb::Tensor X = nb::placeholder("x", {-1, 12}), Y = nb::placeholder("y", {-1}, nb::int64);
  std::vector<nb::Tensor> P, inputs{X, Y};
  for (std::size_t i = 0; i < params.size(); ++i)
    P.push_back(nb::placeholder("p" + std::to_string(i), params[i].shape()));
  inputs.insert(inputs.end(), P.begin(), P.end());
  nb::Tensor loss = nn::cross_entropy(nb::testing::mlp_forward(X, P), Y);
  std::vector<nb::Tensor> g = nb::gradients(loss, P), outs{loss};
  for (std::size_t i = 0; i < P.size(); ++i) outs.push_back(P[i] - g[i] * float(kLr));
  nb::Function step = nb::compile(outs, {.inputs = inputs});

  for (int64_t batch : {7, 32, 7}) {
    nb::Tensor x = nb::randn({batch, 12}), y = nb::randint(0, 4, {batch}, nb::int64);
    nb::Tensor eager_loss = nn::cross_entropy(net.forward(x), y);
    opt.zero_grad();
    eager_loss.backward();
    opt.step();

    std::vector<nb::Tensor> in{x, y};
    in.insert(in.end(), params.begin(), params.end());
    std::vector<nb::Tensor> out = step.run(in);
    std::string at = "batch " + std::to_string(batch);
    expect_close(out[0], eager_loss.detach(), "loss, " + at);
    std::vector<nb::Tensor> eager = net.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      EXPECT_NE(out[1 + i].to_vector<float>(), params[i].to_vector<float>()) << "moved, " << at;
      params[i] = out[1 + i];
      expect_close(params[i], eager[i].detach(), "parameter " + std::to_string(i) + ", " + at);
    }
  }
}

// nb::jit keys its cache on shapes: a new batch size traces again, and means use its count.
TEST(DynamicReduce, JitRetracesForANewBatchSize) {
  auto f = nb::jit([](const nb::Tensor& t) { return nb::var(t, {0}) + nb::mean(t); });
  for (int64_t n : {3, 10}) {
    nb::Tensor v = nb::randn({n, 4});
    expect_close(f(v), nb::var(v, {0}) + nb::mean(v), "jit batch " + std::to_string(n));
  }
  EXPECT_EQ(f.cache_size(), 2u);
}

TEST(DynamicReduce, ViewsConvolutionsAndPoolsOnADynamicBatch) {
  check_forward_and_gradient("slice", {-1, 6},
                             [](const nb::Tensor& t) { return t.slice(1, 1, 5, 2); });
  check_forward_and_gradient("select", {-1, 6, 2},
                             [](const nb::Tensor& t) { return t.select(1, 3); });
  check_forward_and_gradient("flatten", {-1, 3, 4},
                             [](const nb::Tensor& t) { return t.flatten(); });
  check_forward_and_gradient("flatten(1)", {-1, 3, 4},
                             [](const nb::Tensor& t) { return t.flatten(1) * 2; });
  check_forward_and_gradient("unsqueeze, squeeze", {-1, 3}, [](const nb::Tensor& t) {
    return nb::exp(t.unsqueeze(1)).squeeze(1);
  });
  check_forward_and_gradient("reshape (3, -1)", {-1, 3}, [](const nb::Tensor& t) {
    return t.reshape({3, -1}) * 2;
  });
  check_forward_and_gradient("concat along a fixed dim", {-1, 3}, [](const nb::Tensor& t) {
    return nb::concat({t, nb::exp(t)}, 1);
  });
  nb::Tensor w = nb::randn({4, 2, 3, 3}), b = nb::randn({4});
  check_forward_and_gradient("conv2d", {-1, 2, 6, 6}, [&](const nb::Tensor& t) {
    return nb::conv2d(t, w, b, {.padding = {1, 1}});
  });
  check_forward_and_gradient("max_pool2d", {-1, 2, 6, 6}, [](const nb::Tensor& t) {
    return nb::max_pool2d(t, {2, 2});
  });
  check_forward_and_gradient("avg_pool2d", {-1, 2, 6, 6}, [](const nb::Tensor& t) {
    return nb::avg_pool2d(t, {2, 2});
  });
  check_forward_and_gradient("adaptive_max_pool2d", {-1, 2, 6, 6}, [](const nb::Tensor& t) {
    return nb::adaptive_max_pool2d(t, {2, 3});
  });
  nb::Tensor w1 = nb::randn({3, 2, 3});
  check_forward_and_gradient("conv1d, max_pool1d", {-1, 2, 8}, [&](const nb::Tensor& t) {
    return nb::max_pool1d(nb::conv1d(t, w1), 2);
  });
  check_forward_and_gradient("adaptive_avg_pool2d", {-1, 2, 6, 6}, [](const nb::Tensor& t) {
    return nb::adaptive_avg_pool2d(t, {1, 1});
  });
  nb::Tensor lw = nb::randn({3, 2 * 3 * 3});
  check_forward_and_gradient(
      "conv, pool, flatten, linear", {-1, 2, 6, 6}, [&](const nb::Tensor& t) {
        nb::Tensor h = nb::relu(nb::conv2d(t, w.slice(0, 0, 2), {}, {.padding = {1, 1}}));
        return nb::matmul(nb::max_pool2d(h, {2, 2}).flatten(1), lw.t());
      });
}

// Reductions without gradients over dynamic axes: compiled equals eager at each size.
TEST(DynamicReduce, IndexAndLogicalReductions) {
  nb::Tensor X = nb::placeholder("x", {-1, 5});
  nb::Function f = nb::compile({nb::argmax(X, 0), nb::argmin(X, 1, true), nb::argmax(X),
                                nb::any(X > 1.5, {0}), nb::all(X > -2.5)});
  for (int64_t n : {3, 8}) {
    nb::Tensor x = nb::randn({n, 5});
    std::vector<nb::Tensor> out = f.run({x});
    std::vector<nb::Tensor> want{nb::argmax(x, 0), nb::argmin(x, 1, true), nb::argmax(x),
                                 nb::any(x > 1.5, {0}), nb::all(x > -2.5)};
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(out[i].shape(), want[i].shape()) << i;
      EXPECT_EQ(out[i].to_vector<int64_t>(), want[i].astype(nb::int64).to_vector<int64_t>()) << i;
    }
  }
}

// A graph file keeps broadcast_like and count_elements: the loaded function still sizes its
// means and gradients by each call's batch.
TEST(DynamicReduce, GraphFilesKeepTheDynamicOps) {
  nb::Tensor X = nb::placeholder("x", {-1, 4});
  nb::Tensor L = nb::var(X, {0}).sum() + nb::mean(X * X);
  nb::Function f = nb::compile({L, nb::gradients(L, {X})[0]});
  auto path = std::filesystem::temp_directory_path() / "nabla_dynamic_reduce_test.nbf";
  nb::save_function(path.string(), f);
  nb::Function g = nb::load_function(path.string());
  std::filesystem::remove(path);
  for (int64_t n : {2, 9}) {
    nb::Tensor x = nb::randn({n, 4});
    std::vector<nb::Tensor> a = f.run({x}), b = g.run({x});
    expect_close(b[0], a[0], "loaded loss");
    expect_close(b[1], a[1], "loaded gradient");
    nb::Tensor xe = x.detach().requires_grad_();
    nb::Tensor le = nb::var(xe, {0}).sum() + nb::mean(xe * xe);
    le.backward();
    expect_close(b[0], le.detach(), "loss vs eager");
    expect_close(b[1], xe.grad(), "gradient vs eager");
  }
}

namespace {

// Hessian-vector products: the gradient of <grad f(x), v> built symbolically on a dynamic
// batch, against eager double backward.
void check_second_order(const std::string& what, const nb::Shape& shape, const Fn& f) {
  SCOPED_TRACE(what);
  nb::Tensor X = nb::placeholder("x", shape), V = nb::placeholder("v", shape);
  nb::Tensor G = nb::gradients(nb::sum(f(X)), {X})[0];
  nb::Tensor H = nb::gradients(nb::sum(G * V), {X})[0];
  nb::Function fn = nb::compile(H, {.inputs = {X, V}});
  for (int64_t n : {3, 8}) {
    nb::Tensor x = nb::randn(sized(shape, n)).requires_grad_(), v = nb::randn(sized(shape, n));
    nb::Tensor g = nb::gradients(nb::sum(f(x)), {x}, {}, {.create_graph = true})[0];
    nb::Tensor h = nb::gradients(nb::sum(g * v), {x})[0];
    expect_close(fn.run({x.detach(), v})[0], h, what + ", size " + std::to_string(n), 1e-4);
  }
}

}  // namespace

TEST(DynamicReduce, SecondOrderGradients) {
  check_second_order("var over the batch", {-1, 4},
                     [](const nb::Tensor& t) { return nb::var(t, {0}); });
  check_second_order("std of all", {-1, 4}, [](const nb::Tensor& t) { return nb::std(t); });
  check_second_order("mean of squares", {-1, 4},
                     [](const nb::Tensor& t) { return nb::mean(t * t * t, {0}); });
  check_second_order("logsumexp over the batch", {-1, 4},
                     [](const nb::Tensor& t) { return nb::logsumexp(t, {0}); });
  check_second_order("softmax over the batch", {-1, 4},
                     [](const nb::Tensor& t) { return nb::softmax(t, 0) * nb::tanh(t); });
  nb::Tensor w = nb::randn({6}), b = nb::randn({6});
  check_second_order("layer_norm", {-1, 6},
                     [&](const nb::Tensor& t) { return nb::sin(nb::layer_norm(t, {6}, w, b)); });
  check_second_order("batch_norm", {-1, 6}, [&](const nb::Tensor& t) {
    return nb::sin(nb::batch_norm(t, nb::Tensor(), nb::Tensor(), w, b, true));
  });
}

// Dropout in training mode on a dynamic batch: the mask is sized when the graph runs; every
// value is dropped or scaled by 1 / (1 - p), about p of them dropped, and gradients flow through
// the same mask.
TEST(DynamicDims, DropoutInTrainingModeOnADynamicBatch) {
  nn::Dropout drop(0.25);
  drop.train();
  auto X = nb::placeholder("x", {-1, 64});
  nb::Tensor y = drop.forward(X);
  nb::Function f = nb::compile({y, nb::gradients(nb::sum(y * y), {X})[0]});
  for (int64_t batch : {7, 300}) {
    nb::Tensor x = nb::rand({batch, 64}) + 1;  // no zeros of its own
    std::vector<nb::Tensor> out = f.run({x});
    ASSERT_EQ(out[0].shape(), (nb::Shape{batch, 64}));
    std::vector<float> xv = x.to_vector<float>(), yv = out[0].to_vector<float>();
    std::vector<float> gv = out[1].to_vector<float>();
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < xv.size(); ++i) {
      if (yv[i] == 0) {
        ++dropped;
        EXPECT_EQ(gv[i], 0.0f);
      } else {
        EXPECT_FLOAT_EQ(yv[i], xv[i] / 0.75f);
        EXPECT_FLOAT_EQ(gv[i], 2 * yv[i] / 0.75f);  // d(y^2)/dx = 2 y / (1 - p)
      }
    }
    if (batch == 300) EXPECT_NEAR(double(dropped) / double(xv.size()), 0.25, 0.02);
  }
}

// A Transformer encoder layer compiled once for a dynamic batch, with an attention mask and a
// key-padding mask: outputs and gradients equal eager ones at two batch sizes (the masks'
// batch is sized at run time, the kernels broadcast them).
TEST(DynamicDims, EncoderLayerWithMasksOnADynamicBatch) {
  constexpr int64_t kSeq = 6, kModel = 16;
  nn::TransformerEncoderLayer layer(kModel, 4,
                                    {.dim_feedforward = 32, .dropout = 0.0, .batch_first = true});
  layer.eval();
  auto X = nb::placeholder("x", {-1, kSeq, kModel});
  auto P = nb::placeholder("pad", {-1, kSeq}, nb::bool_);
  nb::Tensor causal = nb::triu(nb::ones({kSeq, kSeq}), 1) * -1e9;
  nb::Tensor y = layer.forward(X, causal, P);
  nb::Function f = nb::compile({y, nb::gradients(nb::sum(y * y), {X})[0]}, {.inputs = {X, P}});
  for (int64_t batch : {2, 5}) {
    nb::Tensor x = nb::randn({batch, kSeq, kModel});
    std::vector<uint8_t> pad(std::size_t(batch * kSeq), 0);
    for (int64_t b = 0; b < batch; ++b) pad[std::size_t(b * kSeq + kSeq - 1 - b % 3)] = 1;
    nb::Tensor p = nb::tensor(pad, {batch, kSeq}).astype(nb::bool_);
    std::vector<nb::Tensor> out = f.run({x, p});
    nb::Tensor xe = x.detach().requires_grad_();
    nb::Tensor ye = layer.forward(xe, causal, p);
    nb::sum(ye * ye).backward();
    EXPECT_EQ(
        nb::testing::count_differing(out[0].to_vector<double>(), ye.to_vector<double>(), 1e-5), 0u);
    EXPECT_EQ(nb::testing::count_differing(out[1].to_vector<double>(),
                                           xe.grad().to_vector<double>(), 1e-4),
              0u);
  }
}
