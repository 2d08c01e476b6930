// One sweep over every layer module (nn/layers.h, nn/norm.h, nn/containers.h, nn/recurrent.h): for
// each, the output shape, a float64 gradient check of the input and every parameter against central
// differences, and a state_dict round trip through a safetensors file into a fresh module.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

using Inputs = std::vector<nb::Tensor>;

struct LayerCase {
  std::string name;
  std::function<std::shared_ptr<nn::Module>()> make;
  std::vector<nb::Shape> inputs;
  nb::Shape expected;
  bool int_input = false;  // int64 indices in [0, 10) (Embedding): no input gradient
  bool distinct = false;   // inputs on a shuffled grid: no ties for max pools
  bool eval = false;       // every check in eval mode
  // How to call the module; default m(x).
  std::function<nb::Tensor(nn::Module&, const Inputs&)> call = nullptr;
};

template <class M, class... A>
std::function<std::shared_ptr<nn::Module>()> make(A... args) {
  return [=] { return std::make_shared<M>(args...); };
}

void PrintTo(const LayerCase& c, std::ostream* os) { *os << c.name; }

// Moves every parameter off its initial value (LayerNorm's ones and zeros would otherwise make
// a fresh module equal to a loaded one, and hide gradients that only show with other values).
void perturb(nn::Module& m) {
  nb::NoGradGuard off;
  for (auto& [name, p] : m.named_parameters()) p.copy_(p + nb::randn_like(p) * 0.3);
}

nb::Tensor run(const LayerCase& c, nn::Module& m, const Inputs& xs) {
  return c.call ? c.call(m, xs) : m(xs.at(0));
}

int64_t numel(const nb::Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t(1), std::multiplies<int64_t>());
}

Inputs make_inputs(const LayerCase& c, nb::DType dtype, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs xs;
  for (const nb::Shape& s : c.inputs) {
    int64_t n = numel(s);
    std::vector<double> v(n);
    if (c.int_input) {
      for (auto& e : v) e = double(rng() % 10);
      xs.push_back(nb::tensor(v, s).astype(nb::int64));
      continue;
    }
    if (c.distinct) {
      std::iota(v.begin(), v.end(), 0.0);
      std::shuffle(v.begin(), v.end(), rng);
      for (auto& e : v) e = (e - n / 2.0) * 0.1;
    } else {
      std::normal_distribution<double> normal;
      for (auto& e : v) e = normal(rng);
    }
    xs.push_back(nb::tensor(v, s).astype(dtype));
  }
  return xs;
}

// A model calling the modules of a ModuleDict by name (a ModuleDict has no forward).
class DictNet : public nn::Module {
 public:
  DictNet() {
    dict->insert("proj", nn::Linear(3, 4));
    dict->insert("act", nn::Tanh());
  }
  nb::Tensor forward(const nb::Tensor& x) override { return dict->at("act")(dict->at("proj")(x)); }
  std::string describe() const override { return "DictNet"; }
  std::shared_ptr<nn::ModuleDict> dict = register_module("dict", nn::ModuleDict());
};

nb::Tensor call_bilinear(nn::Module& m, const Inputs& xs) {
  return dynamic_cast<nn::Bilinear&>(m)(xs.at(0), xs.at(1));
}

std::vector<LayerCase> cases() {
  using CO = nn::ConvOptions;
  using TO = nn::ConvTransposeOptions;
  return {
      {.name = "Linear", .make = make<nn::Linear>(3, 4), .inputs = {{2, 3}}, .expected = {2, 4}},
      {.name = "LinearNoBias",
       .make = make<nn::Linear>(3, 4, false),
       .inputs = {{2, 3}},
       .expected = {2, 4}},
      {.name = "Bilinear",
       .make = make<nn::Bilinear>(3, 2, 4),
       .inputs = {{5, 3}, {5, 2}},
       .expected = {5, 4},
       .call = call_bilinear},
      {.name = "Conv1d",
       .make = make<nn::Conv1d>(2, 3, 3, CO{.padding = 1}),
       .inputs = {{2, 2, 5}},
       .expected = {2, 3, 5}},
      {.name = "Conv1dStridedGrouped",
       .make = make<nn::Conv1d>(2, 4, 3, CO{.stride = 2, .padding = 1, .groups = 2}),
       .inputs = {{1, 2, 5}},
       .expected = {1, 4, 3}},
      {.name = "Conv2d",
       .make = make<nn::Conv2d>(2, 3, 3, CO{.padding = 1}),
       .inputs = {{1, 2, 4, 4}},
       .expected = {1, 3, 4, 4}},
      {.name = "Conv2dStridedDilated",
       .make = make<nn::Conv2d>(2, 2, 2, CO{.stride = 2, .dilation = 2, .bias = false}),
       .inputs = {{1, 2, 5, 6}},
       .expected = {1, 2, 2, 2}},
      {.name = "Conv3d",
       .make = make<nn::Conv3d>(1, 2, 2),
       .inputs = {{1, 1, 3, 3, 3}},
       .expected = {1, 2, 2, 2, 2}},
      {.name = "ConvTranspose1d",
       .make =
           make<nn::ConvTranspose1d>(2, 3, 3, TO{.stride = 2, .padding = 1, .output_padding = 1}),
       .inputs = {{1, 2, 3}},
       .expected = {1, 3, 6}},
      {.name = "ConvTranspose2d",
       .make = make<nn::ConvTranspose2d>(2, 2, 3, TO{.stride = 2}),
       .inputs = {{1, 2, 2, 2}},
       .expected = {1, 2, 5, 5}},
      {.name = "MaxPool1d",
       .make = make<nn::MaxPool1d>(2),
       .inputs = {{1, 2, 6}},
       .expected = {1, 2, 3},
       .distinct = true},
      {.name = "MaxPool2d",
       .make = make<nn::MaxPool2d>(2),
       .inputs = {{1, 2, 4, 4}},
       .expected = {1, 2, 2, 2},
       .distinct = true},
      {.name = "MaxPool2dPadded",
       .make = make<nn::MaxPool2d>(3, 2, 1),
       .inputs = {{1, 1, 5, 5}},
       .expected = {1, 1, 3, 3},
       .distinct = true},
      {.name = "MaxPool3d",
       .make = make<nn::MaxPool3d>(2),
       .inputs = {{1, 1, 4, 4, 4}},
       .expected = {1, 1, 2, 2, 2},
       .distinct = true},
      {.name = "AvgPool1d",
       .make = make<nn::AvgPool1d>(3, 2, 1),
       .inputs = {{1, 2, 5}},
       .expected = {1, 2, 3}},
      {.name = "AvgPool1dExcludePad",
       .make = make<nn::AvgPool1d>(3, 2, 1, false),
       .inputs = {{1, 2, 5}},
       .expected = {1, 2, 3}},
      {.name = "AvgPool2d",
       .make = make<nn::AvgPool2d>(2),
       .inputs = {{1, 2, 4, 4}},
       .expected = {1, 2, 2, 2}},
      {.name = "AvgPool3d",
       .make = make<nn::AvgPool3d>(2),
       .inputs = {{1, 1, 4, 4, 4}},
       .expected = {1, 1, 2, 2, 2}},
      {.name = "AdaptiveAvgPool1d",
       .make = make<nn::AdaptiveAvgPool1d>(3),
       .inputs = {{1, 2, 7}},
       .expected = {1, 2, 3}},
      {.name = "AdaptiveAvgPool2d",
       .make = make<nn::AdaptiveAvgPool2d>(nb::Shape{2, 3}),
       .inputs = {{1, 2, 5, 7}},
       .expected = {1, 2, 2, 3}},
      {.name = "AdaptiveMaxPool1d",
       .make = make<nn::AdaptiveMaxPool1d>(3),
       .inputs = {{1, 2, 7}},
       .expected = {1, 2, 3},
       .distinct = true},
      {.name = "AdaptiveMaxPool2d",
       .make = make<nn::AdaptiveMaxPool2d>(nb::Shape{2, 2}),
       .inputs = {{1, 2, 5, 5}},
       .expected = {1, 2, 2, 2},
       .distinct = true},
      {.name = "UpsampleNearest",
       .make = make<nn::Upsample>(nb::UpsampleOptions{.scale_factor = {2}}),
       .inputs = {{1, 2, 3, 3}},
       .expected = {1, 2, 6, 6}},
      {.name = "UpsampleBilinearSize",
       .make = make<nn::Upsample>(nb::UpsampleOptions{.size = {5, 4}}, std::string("bilinear")),
       .inputs = {{1, 1, 3, 3}},
       .expected = {1, 1, 5, 4}},
      {.name = "UpsampleBilinearAlignCorners",
       .make = make<nn::Upsample>(nb::UpsampleOptions{.scale_factor = {2}, .align_corners = true},
                                  std::string("bilinear")),
       .inputs = {{1, 1, 3, 3}},
       .expected = {1, 1, 6, 6}},
      {.name = "UpsampleLinear",
       .make = make<nn::Upsample>(nb::UpsampleOptions{.scale_factor = {2}}, std::string("linear")),
       .inputs = {{1, 2, 4}},
       .expected = {1, 2, 8}},
      {.name = "UpsampleTrilinear",
       .make =
           make<nn::Upsample>(nb::UpsampleOptions{.scale_factor = {2}}, std::string("trilinear")),
       .inputs = {{1, 1, 2, 2, 2}},
       .expected = {1, 1, 4, 4, 4}},
      {.name = "BatchNorm1d",
       .make = make<nn::BatchNorm1d>(3),
       .inputs = {{4, 3}},
       .expected = {4, 3}},
      {.name = "BatchNorm1d3d",
       .make = make<nn::BatchNorm1d>(3),
       .inputs = {{2, 3, 4}},
       .expected = {2, 3, 4}},
      {.name = "BatchNorm2d",
       .make = make<nn::BatchNorm2d>(2),
       .inputs = {{3, 2, 2, 3}},
       .expected = {3, 2, 2, 3}},
      {.name = "BatchNorm2dEval",
       .make = make<nn::BatchNorm2d>(2),
       .inputs = {{3, 2, 2, 3}},
       .expected = {3, 2, 2, 3},
       .eval = true},
      {.name = "LayerNorm",
       .make = make<nn::LayerNorm>(nb::Shape{4}),
       .inputs = {{3, 4}},
       .expected = {3, 4}},
      {.name = "LayerNorm2dShape",
       .make = make<nn::LayerNorm>(nb::Shape{2, 3}),
       .inputs = {{2, 2, 3}},
       .expected = {2, 2, 3}},
      {.name = "GroupNorm",
       .make = make<nn::GroupNorm>(2, 4),
       .inputs = {{2, 4, 3}},
       .expected = {2, 4, 3}},
      {.name = "Flatten", .make = make<nn::Flatten>(), .inputs = {{2, 3, 4}}, .expected = {2, 12}},
      {.name = "FlattenMiddle",
       .make = make<nn::Flatten>(1, 2),
       .inputs = {{2, 3, 2, 2}},
       .expected = {2, 6, 2}},
      {.name = "Unflatten",
       .make = make<nn::Unflatten>(1, nb::Shape{2, 3}),
       .inputs = {{4, 6}},
       .expected = {4, 2, 3}},
      {.name = "DropoutP0", .make = make<nn::Dropout>(0.0), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "DropoutEval",
       .make = make<nn::Dropout>(0.5),
       .inputs = {{3, 4}},
       .expected = {3, 4},
       .eval = true},
      {.name = "Embedding",
       .make = make<nn::Embedding>(10, 3),
       .inputs = {{2, 4}},
       .expected = {2, 4, 3},
       .int_input = true},
      {.name = "Identity", .make = make<nn::Identity>(), .inputs = {{2, 3}}, .expected = {2, 3}},
      {.name = "Lambda",
       .make =
           [] {
             return std::make_shared<nn::Lambda>("square",
                                                 [](const nb::Tensor& x) { return x * x; });
           },
       .inputs = {{2, 3}},
       .expected = {2, 3}},
      {.name = "Sequential",
       .make =
           [] {
             return std::make_shared<nn::Sequential>(nn::Linear(3, 4), nn::Tanh(),
                                                     nn::Linear(4, 2));
           },
       .inputs = {{2, 3}},
       .expected = {2, 2}},
      {.name = "ModuleList",
       .make =
           [] {
             return std::make_shared<nn::ModuleList>(nn::Linear(3, 4), nn::Sigmoid(),
                                                     nn::Linear(4, 2));
           },
       .inputs = {{2, 3}},
       .expected = {2, 2}},
      {.name = "ModuleDict", .make = make<DictNet>(), .inputs = {{2, 3}}, .expected = {2, 4}},
      {.name = "LSTMBidirectional2Layers",
       .make = make<nn::LSTM>(3, 4, nn::RecurrentOptions{.num_layers = 2, .bidirectional = true}),
       .inputs = {{4, 2, 3}},
       .expected = {4, 2, 8}},
      {.name = "GRUBatchFirst",
       .make = make<nn::GRU>(3, 4, nn::RecurrentOptions{.batch_first = true}),
       .inputs = {{2, 4, 3}},
       .expected = {2, 4, 4}},
      {.name = "RNNRelu",
       .make = make<nn::RNN>(3, 4, nn::RecurrentOptions{.nonlinearity = "relu"}),
       .inputs = {{4, 2, 3}},
       .expected = {4, 2, 4}},
      {.name = "LSTMCell",
       .make = make<nn::LSTMCell>(3, 4),
       .inputs = {{2, 3}},
       .expected = {2, 4}},
      {.name = "GRUCell", .make = make<nn::GRUCell>(3, 4), .inputs = {{2, 3}}, .expected = {2, 4}},
      {.name = "RNNCell", .make = make<nn::RNNCell>(3, 4), .inputs = {{2, 3}}, .expected = {2, 4}},
      {.name = "ReLU", .make = make<nn::ReLU>(), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "Sigmoid", .make = make<nn::Sigmoid>(), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "Tanh", .make = make<nn::Tanh>(), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "SELU", .make = make<nn::SELU>(), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "SiLU", .make = make<nn::SiLU>(), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "Mish", .make = make<nn::Mish>(), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "LeakyReLU",
       .make = make<nn::LeakyReLU>(0.1),
       .inputs = {{3, 4}},
       .expected = {3, 4}},
      {.name = "ELU", .make = make<nn::ELU>(0.7), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "GELU", .make = make<nn::GELU>(), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "GELUTanh",
       .make = make<nn::GELU>(std::string("tanh")),
       .inputs = {{3, 4}},
       .expected = {3, 4}},
      {.name = "Softplus",
       .make = make<nn::Softplus>(2.0, 1.0),
       .inputs = {{3, 4}},
       .expected = {3, 4}},
      {.name = "Hardtanh",
       .make = make<nn::Hardtanh>(-0.5, 0.8),
       .inputs = {{3, 4}},
       .expected = {3, 4}},
      {.name = "Softmax", .make = make<nn::Softmax>(1), .inputs = {{3, 4}}, .expected = {3, 4}},
      {.name = "LogSoftmax",
       .make = make<nn::LogSoftmax>(-1),
       .inputs = {{3, 4}},
       .expected = {3, 4}},
  };
}

class Sweep : public ::testing::TestWithParam<LayerCase> {};

TEST_P(Sweep, OutputShape) {
  const LayerCase& c = GetParam();
  auto m = c.make();
  if (c.eval) m->eval();
  nb::Tensor y = run(c, *m, make_inputs(c, nb::float32, 1));
  EXPECT_EQ(y.shape(), c.expected);
  EXPECT_EQ(y.dtype(), nb::float32);
}

TEST_P(Sweep, GradientsMatchCentralDifferences) {
  const LayerCase& c = GetParam();
  nb::manual_seed(7);
  auto m = c.make();
  if (c.eval) m->eval();
  m->to(nb::float64);
  perturb(*m);
  Inputs xs = make_inputs(c, nb::float64, 2);
  std::vector<std::pair<std::string, nb::Tensor>> leaves;
  if (!c.int_input)
    for (std::size_t i = 0; i < xs.size(); ++i)
      leaves.emplace_back("input " + std::to_string(i), xs[i].requires_grad_());
  for (auto& p : m->named_parameters()) leaves.push_back(p);
  nb::Tensor w = nb::randn(c.expected, nb::float64);
  ASSERT_EQ(run(c, *m, xs).shape(), c.expected);
  auto loss = [&] { return (run(c, *m, xs) * w).sum(); };
  m->zero_grad();
  loss().backward();
  for (auto& [name, t] : leaves) {
    ASSERT_EQ(t.dtype(), nb::float64) << name;
    ASSERT_TRUE(t.grad().defined()) << name << " got no gradient";
    auto analytic = t.grad().to_vector<double>();
    auto base = t.detach().to_vector<double>();
    int bad = 0;
    for (std::size_t i = 0; i < base.size() && bad < 3; ++i) {
      const double h = 1e-6;
      auto set = [&](double v) {
        auto vals = base;
        vals[i] = v;
        nb::NoGradGuard off;
        t.copy_(nb::tensor(vals, t.shape()));
      };
      set(base[i] + h);
      double up = loss().item<double>();
      set(base[i] - h);
      double down = loss().item<double>();
      set(base[i]);
      double numeric = (up - down) / (2 * h);
      if (std::fabs(analytic[i] - numeric) > 1e-6 * (1 + std::fabs(numeric))) {
        ++bad;
        ADD_FAILURE() << name << " element " << i << ": analytic " << analytic[i] << ", numeric "
                      << numeric;
      }
    }
  }
}

TEST_P(Sweep, StateDictRoundTripsThroughSafetensors) {
  const LayerCase& c = GetParam();
  nb::manual_seed(11);
  auto a = c.make();
  perturb(*a);
  Inputs xs = make_inputs(c, nb::float32, 3);
  run(c, *a, xs);  // in training mode: moves BatchNorm's running statistics off their defaults
  a->eval();
  nb::TensorMap sd = a->state_dict();
  std::string path = ::testing::TempDir() + "every_layer_" + c.name + ".safetensors";
  nb::save_safetensors(path, sd);
  nb::TensorMap loaded = nb::load_safetensors(path);

  auto b = c.make();  // another random initialisation
  bool differs = false;
  for (auto& [k, v] : b->state_dict())
    differs |= sd.count(k) && v.to_vector<double>() != sd.at(k).to_vector<double>();
  EXPECT_TRUE(sd.empty() || differs) << "a fresh module already equals the saved one";
  b->load_state_dict(loaded);
  b->eval();
  std::set<std::string> want, got_file, got_module;
  for (auto& [k, v] : sd) want.insert(k);
  for (auto& [k, v] : loaded) got_file.insert(k);
  for (auto& [k, v] : b->state_dict()) got_module.insert(k);
  EXPECT_EQ(got_file, want);
  EXPECT_EQ(got_module, want);
  for (auto& [k, v] : b->state_dict()) {
    EXPECT_EQ(v.dtype(), sd.at(k).dtype()) << k;
    EXPECT_EQ(v.to_vector<double>(), sd.at(k).to_vector<double>()) << k;
  }
  nb::Tensor ya = run(c, *a, xs), yb = run(c, *b, xs);
  ASSERT_EQ(ya.shape(), yb.shape());
  EXPECT_EQ(ya.to_vector<float>(), yb.to_vector<float>());  // bit for bit (no NaNs here)
}

INSTANTIATE_TEST_SUITE_P(EveryLayer, Sweep, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<LayerCase>& info) {
                           return info.param.name;
                         });

}  // namespace
