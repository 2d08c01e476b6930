// nn::ModuleList and nn::ModuleDict: PyTorch's parameter names, editing, iteration, errors,
// state dict round trips and summary().
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <cctype>
#include <fstream>

namespace nb = nabla;
namespace nn = nabla::nn;

namespace {

std::vector<std::string> names(const nn::Module& m) {
  std::vector<std::string> out;
  for (auto& [n, t] : m.named_parameters()) out.push_back(n);
  return out;
}

// A model that keeps its blocks in a ModuleList and its heads in a ModuleDict, as PyTorch
// models do.
class TwoHeads : public nn::Module {
 public:
  TwoHeads() {
    for (int i = 0; i < 2; ++i) blocks->append(nn::Linear(4, 4));
    heads->insert("cls", nn::Linear(4, 3)).insert("reg", nn::Linear(4, 1));
  }
  nb::Tensor forward(const nb::Tensor& x) override {
    nb::Tensor h = x;
    for (nn::Module& block : *blocks) h = nb::relu(block(h));
    return nb::concat({heads->at("cls")(h), heads->at("reg")(h)}, 1);
  }
  std::string describe() const override { return "TwoHeads"; }
  std::shared_ptr<nn::ModuleList> blocks = register_module("blocks", nn::ModuleList());
  std::shared_ptr<nn::ModuleDict> heads = register_module("heads", nn::ModuleDict());
};

}  // namespace

TEST(ModuleList, NamesLikePyTorchAndEdits) {
  nn::ModuleList list(nn::Linear(2, 3), nn::ReLU(), nn::Linear(3, 1));
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(names(list), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  list.append(nn::Linear(1, 1, false));
  EXPECT_EQ(names(list).back(), "3.weight");
  // Insert renumbers what follows; the moved layer keeps its tensors.
  nb::Tensor w2 = list.get<nn::Linear>(2).weight;
  list.insert(1, nn::Linear(3, 3));
  EXPECT_EQ(list.size(), 5u);
  EXPECT_EQ(names(list), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                                   "3.weight", "3.bias", "4.weight"}));
  EXPECT_EQ(list.get<nn::Linear>(3).weight.node(), w2.node());
  list.insert(-1, nn::Identity());  // before the last, as Python's list.insert
  EXPECT_EQ(list[-2].describe(), "Identity");
  list.insert(int64_t(list.size()), nn::Tanh());  // at the end
  EXPECT_EQ(list.at(-1).describe(), "Tanh");
  EXPECT_THROW(list.at(7), nb::IndexError);
  EXPECT_THROW(list.at(-8), nb::IndexError);
  EXPECT_THROW(list.insert(9, nn::ReLU()), nb::IndexError);
  EXPECT_THROW(list.get<nn::Linear>(2), nb::ValueError);  // a ReLU
  EXPECT_THROW(list.append(std::shared_ptr<nn::Module>()), nb::ValueError);
  std::vector<std::string> seen;
  for (nn::Module& m : list) seen.push_back(m.describe());
  EXPECT_EQ(seen.size(), list.size());
  EXPECT_EQ(seen[0], "Linear(in=2, out=3)");
  nn::ModuleList other(nn::Linear(1, 2));
  other.extend(other);
  EXPECT_EQ(names(other), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
  EXPECT_EQ(other.parameters().size(), 2u);  // the same layer twice counts once
}

TEST(ModuleList, ForwardChainsAndSummaryWorks) {
  nn::ModuleList list(nn::Linear(6, 4), nn::ReLU(), nn::Linear(4, 2));
  EXPECT_EQ(list.forward(nb::randn({5, 6})).shape(), (nb::Shape{5, 2}));
  std::string s = list.summary({1, 6});
  EXPECT_NE(s.find("0: Linear(in=6, out=4)"), std::string::npos) << s;
  EXPECT_NE(s.find("(1, 2)"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 38"), std::string::npos) << s;
}

TEST(ModuleDict, NamesLikePyTorchAndEdits) {
  nn::ModuleDict d;
  d.insert("encoder", nn::Linear(3, 2))
      .insert("act", nn::ReLU())
      .insert("decoder", nn::Linear(2, 3));
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"encoder", "act", "decoder"}));  // insertion order
  EXPECT_EQ(names(d), (std::vector<std::string>{"encoder.weight", "encoder.bias", "decoder.weight",
                                                "decoder.bias"}));
  EXPECT_TRUE(d.contains("act"));
  EXPECT_EQ(d["decoder"].describe(), "Linear(in=2, out=3)");
  // Replacing keeps the position.
  d.insert("encoder", nn::Linear(3, 2, false));
  EXPECT_EQ(d.keys().front(), "encoder");
  EXPECT_FALSE(d.get<nn::Linear>("encoder").bias.defined());
  auto act = d.pop("act");
  EXPECT_EQ(act->describe(), "ReLU");
  EXPECT_EQ(d.size(), 2u);
  EXPECT_THROW(d.at("act"), nb::IndexError);
  EXPECT_THROW(d.pop("act"), nb::IndexError);
  EXPECT_THROW(d.insert("a.b", nn::ReLU()), nb::ValueError);
  EXPECT_THROW(d.insert("", nn::ReLU()), nb::ValueError);
  EXPECT_THROW(d.get<nn::ReLU>("encoder"), nb::ValueError);
  EXPECT_THROW(d.forward(nb::ones({1, 3})), nb::ValueError);
  std::vector<std::string> keys;
  for (auto& [name, m] : d) keys.push_back(name + "=" + m->describe());
  EXPECT_EQ(keys, (std::vector<std::string>{"encoder=Linear(in=3, out=2)",
                                            "decoder=Linear(in=2, out=3)"}));
  try {
    d.at("missing");
  } catch (const nb::IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("encoder, decoder"), std::string::npos) << e.what();
  }
}

TEST(Containers, NestedNamesStateDictRoundTripAndTraining) {
  nb::manual_seed(0);
  TwoHeads a, b;
  EXPECT_EQ(names(a),
            (std::vector<std::string>{"blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                      "blocks.1.bias", "heads.cls.weight", "heads.cls.bias",
                                      "heads.reg.weight", "heads.reg.bias"}));
  std::string path = ::testing::TempDir() + "containers.safetensors";
  nb::save_safetensors(path, a.state_dict());
  b.load_state_dict(nb::load_safetensors(path));
  nb::Tensor x = nb::randn({3, 4});
  EXPECT_EQ(a.forward(x).to_vector<float>(), b.forward(x).to_vector<float>());
  EXPECT_EQ(a.forward(x).shape(), (nb::Shape{3, 4}));
  // Gradients reach every parameter held by the containers.
  a.forward(x).sum().backward();
  for (auto& [n, p] : a.named_parameters()) EXPECT_TRUE(p.grad().defined()) << n;
  // summary() shows the layers forward() calls, named by their paths.
  std::string s = a.summary({2, 4});
  for (const char* row : {"blocks.0: Linear(in=4, out=4)", "blocks.1: Linear",
                          "heads.cls: Linear(in=4, out=3)", "heads.reg: Linear(in=4, out=1)"})
    EXPECT_NE(s.find(row), std::string::npos) << row << "\n" << s;
  EXPECT_NE(s.find("(2, 3)"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 60"), std::string::npos) << s;
  EXPECT_TRUE(a.is_training());  // summary() restores the mode
  a.eval();
  EXPECT_FALSE(a.blocks->at(0).is_training());
  EXPECT_FALSE(a.heads->at("reg").is_training());
}

namespace docs_example {
namespace nb = nabla;
namespace nn = nabla::nn;
// --- docs/nn.md (containers)
struct Net : nn::Module {
  std::shared_ptr<nn::ModuleList> blocks = register_module("blocks", nn::ModuleList());
  std::shared_ptr<nn::ModuleDict> heads = register_module("heads", nn::ModuleDict());
  Net() {
    for (int i = 0; i < 3; ++i) blocks->append(nn::Linear(64, 64));
    heads->insert("cls", nn::Linear(64, 10)).insert("box", nn::Linear(64, 4));
  }
  nb::Tensor forward(const nb::Tensor& x) override {
    nb::Tensor h = x;
    for (nn::Module& block : *blocks) h = nb::relu(block(h));
    return nb::concat({heads->at("cls")(h), heads->at("box")(h)}, 1);
  }
  std::string describe() const override { return "Net"; }
};
// --- end of the example
}  // namespace docs_example

TEST(Containers, DocsExampleRunsAndMatchesTheDocs) {
  docs_example::Net net;
  EXPECT_EQ(net.forward(nb::randn({2, 64})).shape(), (nb::Shape{2, 14}));
  EXPECT_EQ(net.state_dict().count("blocks.2.weight") + net.state_dict().count("heads.box.bias"),
            2u);
  auto read = [](const std::string& path) {
    std::ifstream f(path);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()), out;
    for (char c : s)
      if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    return out;
  };
  std::string self = read(std::string(NABLA_SOURCE_DIR) + "/tests/nn/containers_test.cpp");
  std::string begin = "//---docs/nn.md(containers)", end = "//---endoftheexample";
  std::size_t a = self.find(begin) + begin.size(), b = self.find(end);
  ASSERT_LT(a, b);
  EXPECT_NE(read(std::string(NABLA_SOURCE_DIR) + "/docs/nn.md").find(self.substr(a, b - a)),
            std::string::npos)
      << "docs/nn.md's containers example differs from this test's copy";
}
