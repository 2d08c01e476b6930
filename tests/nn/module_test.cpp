#include <gtest/gtest.h>

#include <filesystem>

#include <nabla/nabla.h>
#include <nabla/nn/module.h>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {
// y = x * w + b, elementwise: enough to exercise the Module machinery.
class Scale : public nn::Module {
 public:
  explicit Scale(int64_t n) {
    w_ = register_parameter("weight", nb::ones({n}));
    b_ = register_parameter("bias", nb::zeros({n}));
    register_buffer("calls", nb::zeros({1}, nb::int64));
  }
  nb::Tensor forward(const nb::Tensor& x) override { return x * w_ + b_; }
  std::string describe() const override { return "Scale"; }

 private:
  nb::Tensor w_, b_;
};
}  // namespace

TEST(Module, NamesParametersBuffersAndChildren) {
  nn::Sequential net(Scale(3), Scale(3));
  auto names = net.named_parameters();
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0].first, "0.weight");
  EXPECT_EQ(names[3].first, "1.bias");
  EXPECT_EQ(net.num_parameters(), 12);
  EXPECT_EQ(net.state_dict().count("1.calls"), 1u);
  for (auto& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  net.eval();
  EXPECT_FALSE(net[1].is_training());
  net.train();
  EXPECT_TRUE(net[0].is_training());
}

TEST(Module, ForwardBackwardThroughSequential) {
  nn::Sequential net(Scale(2), Scale(2));
  auto y = net.forward(nb::tensor(std::vector<float>{1, 2})).sum();
  y.backward();
  EXPECT_EQ(net.parameters()[0].grad().to_vector<float>(), (std::vector<float>{1, 2}));
  net.zero_grad();
  EXPECT_FALSE(net.parameters()[0].grad().defined());
}

TEST(Module, StateDictRoundTripAndStrictErrors) {
  nn::Sequential a(Scale(2)), b(Scale(2));
  {
    nb::NoGradGuard off;
    a.parameters()[0].fill_(5);
  }
  auto path = (std::filesystem::temp_directory_path() / "nabla_module_test.safetensors").string();
  nb::save_safetensors(path, a.state_dict());
  b.load_state_dict(nb::load_safetensors(path));
  EXPECT_EQ(b.parameters()[0].to_vector<float>(), (std::vector<float>{5, 5}));

  auto sd = a.state_dict();
  sd.erase("0.bias");
  sd["0.extra"] = nb::ones({1});
  try {
    b.load_state_dict(sd);
    FAIL();
  } catch (const nb::ValueError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("missing keys: 0.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected keys: 0.extra"), std::string::npos) << m;
  }
  auto wrong = a.state_dict();
  wrong["0.weight"] = nb::ones({3});
  EXPECT_THROW(b.load_state_dict(wrong), nb::ShapeError);
  b.load_state_dict(sd, /*strict=*/false);  // loads what matches
}

TEST(Module, ToDtypeKeepsHandles) {
  Scale s(2);
  auto w = s.parameters()[0];
  s.to(nb::float64);
  EXPECT_EQ(w.dtype(), nb::float64);
  EXPECT_EQ(s.forward(nb::ones({2}, nb::float64)).dtype(), nb::float64);
  EXPECT_THROW(s.to(nb::int32), nb::DTypeError);
}

TEST(Module, SummaryListsLayers) {
  nn::Sequential net(Scale(4), Scale(4));
  std::string s = net.summary({2, 4});
  EXPECT_NE(s.find("0: Scale"), std::string::npos) << s;
  EXPECT_NE(s.find("(2, 4)"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 16"), std::string::npos) << s;
}
