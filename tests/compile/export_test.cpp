// DOT pictures and graph files (save_function / load_function).
#include <gtest/gtest.h>
#include <nabla/nabla.h>

#include <filesystem>
#include <fstream>

namespace nb = nabla;
namespace fs = std::filesystem;

namespace {
fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("nabla_compile_" + name);
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}
}  // namespace

TEST(Dot, DrawsInputsOpsAndOutputs) {
  auto A = nb::placeholder("A", {10});
  auto B = nb::placeholder("B", {10});
  auto D = B * A + nb::constant(1.0f);
  std::string dot = nb::to_dot({D});
  EXPECT_EQ(dot.rfind("digraph nabla {", 0), 0u) << dot;
  EXPECT_NE(dot.find("label=\"A\\n(10,) float32\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"mul\\n(10,) float32\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("constant 1"), std::string::npos) << dot;
  EXPECT_NE(dot.find("output 0"), std::string::npos) << dot;
  EXPECT_EQ(dot.back(), '\n');
  nb::Function f = nb::compile(nb::sum(D, {0}, true));
  std::string fdot = f.to_dot();
  EXPECT_NE(fdot.find("sum\\naxes=(0,)\\nkeepdims=true"), std::string::npos) << fdot;
  EXPECT_THROW(nb::Function().to_dot(), nb::ValueError);
  EXPECT_THROW(nb::to_dot({}), nb::ValueError);
}

TEST(GraphFile, RoundTripRunsTheSame) {
  auto x = nb::placeholder("x", {-1, 3});
  auto w = nb::placeholder("w", {3, 2});
  nb::Tensor bias = nb::tensor(std::vector<float>{0.5f, -1.0f}, {2});  // captured: saved by value
  auto y = nb::softmax(nb::matmul(nb::tanh(x), w) + bias, 1) * nb::constant(2.0f);
  nb::Tensor rnd;
  {
    nb::RecordRandomGuard record;
    rnd = nb::rand({4}, nb::float64) * 3.0;
  }
  nb::Function f = nb::compile({y, rnd}, {.inputs = {x, w}});
  fs::path p = temp_file("roundtrip.nbf");
  nb::save_function(p.string(), f);
  nb::Function g = nb::load_function(p.string());
  EXPECT_EQ(g.input_names(), f.input_names());
  EXPECT_EQ(g.input_shapes(), f.input_shapes());
  EXPECT_EQ(g.input_dtypes(), f.input_dtypes());
  EXPECT_EQ(g.num_ops(), f.num_ops());
  nb::Tensor xv = nb::randn({5, 3}), wv = nb::randn({3, 2});
  nb::manual_seed(9);
  auto a = f.run({xv, wv});
  nb::manual_seed(9);
  auto b = g.run({xv, wv});
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(a[0].to_vector<float>(), b[0].to_vector<float>());
  EXPECT_EQ(a[1].to_vector<double>(), b[1].to_vector<double>());  // same random stream
  EXPECT_EQ(f.to_dot(), g.to_dot());
  // Saving again gives the same bytes.
  fs::path q = temp_file("roundtrip2.nbf");
  nb::save_function(q.string(), g);
  std::ifstream fa(p, std::ios::binary), fb(q, std::ios::binary);
  std::string sa((std::istreambuf_iterator<char>(fa)), {}),
      sb((std::istreambuf_iterator<char>(fb)), {});
  EXPECT_EQ(sa, sb);
  fs::remove(p);
  fs::remove(q);
}

TEST(GraphFile, BadFilesThrowIOError) {
  EXPECT_THROW(nb::load_function("/nonexistent/dir/f.nbf"), nb::IOError);
  fs::path p = temp_file("bad.nbf");
  write_bytes(p, "abc");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);
  write_bytes(p, std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10));  // length past the end
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);

  auto with_header = [&](const std::string& json) {
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[std::size_t(i)] = char((json.size() >> (8 * i)) & 0xff);
    write_bytes(p, len + json);
  };
  with_header("{not json");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);
  with_header(R"({"format": "other", "version": 1})");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);
  with_header(
      R"({"format": "nabla.function", "version": 99, "nodes": [], "inputs": [], "outputs": []})");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);
  with_header(R"({"format": "nabla.function", "version": 1, "inputs": [], "outputs": [0],
                 "nodes": [{"kind": "op", "op": "no_such_op", "inputs": [], "attrs": [], "shape": [], "dtype": "float32"}]})");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);
  with_header(R"({"format": "nabla.function", "version": 1, "inputs": [], "outputs": [0],
                 "nodes": [{"kind": "op", "op": "exp", "inputs": [0], "attrs": [], "shape": [], "dtype": "float32"}]})");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);  // reads itself
  with_header(R"({"format": "nabla.function", "version": 1, "inputs": [], "outputs": [0],
                 "nodes": [{"kind": "constant", "shape": [4], "dtype": "float32", "data_offsets": [0, 16]}]})");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);  // no data
  with_header(
      R"({"format": "nabla.function", "version": 1, "inputs": [], "outputs": [3], "nodes": []})");
  EXPECT_THROW(nb::load_function(p.string()), nb::IOError);
  fs::remove(p);
  EXPECT_THROW(
      nb::save_function("/nonexistent/dir/f.nbf", nb::compile(nb::placeholder("x", {1}) * 2)),
      nb::IOError);
}
