#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nabla/nabla.h>
#include <nabla/io/safetensors.h>

namespace nb = nabla;
namespace fs = std::filesystem;

namespace {
std::string temp_path(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("nabla_st_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST(Safetensors, RoundTripsEveryDtypeAndViews) {
  std::string path = temp_path("rt.safetensors");
  nb::TensorMap m;
  for (int t = 0; t < nb::kNumDTypes; ++t)
    m["t" + std::to_string(t)] = nb::arange(6, nb::float32).reshape({2, 3}).astype(nb::DType(t));
  m["transposed"] = nb::arange(6, nb::float32).reshape({2, 3}).t();
  m["empty"] = nb::zeros({0, 4});
  nb::save_safetensors(path, m, {{"format", "pt"}});
  auto back = nb::load_safetensors(path);
  ASSERT_EQ(back.size(), m.size());
  for (auto& [k, v] : m) {
    EXPECT_EQ(back[k].dtype(), v.dtype()) << k;
    EXPECT_EQ(back[k].shape(), v.shape()) << k;
    EXPECT_EQ(back[k].to_vector<double>(), v.to_vector<double>()) << k;
  }
  EXPECT_EQ(nb::load_safetensors_metadata(path).at("format"), "pt");
  // Header length is 8-byte aligned, so the data is too.
  std::string bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[std::size_t(i)]);
  EXPECT_EQ(n % 8, 0u);
}

TEST(Safetensors, BadFilesGiveIOErrorsNamingTheFile) {
  std::string good = temp_path("good.safetensors");
  nb::save_safetensors(good, {{"w", nb::ones({4, 4})}});
  std::string bytes = read_bytes(good);
  auto expect_io = [&](const std::string& content, const std::string& needle) {
    std::string p = temp_path("bad.safetensors");
    write_bytes(p, content);
    try {
      nb::load_safetensors(p);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const nb::IOError& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_io(bytes.substr(0, 5), "shorter than");
  expect_io(bytes.substr(0, bytes.size() - 10), "data_offsets");  // truncated data
  std::string huge = bytes;
  huge[6] = char(0x7f);
  expect_io(huge, "runs past the end");
  std::string notjson = bytes;
  notjson[8] = '[';
  notjson[9] = '[';
  expect_io(notjson, "JSON");
  EXPECT_THROW(nb::load_safetensors(temp_path("missing.safetensors")), nb::IOError);
}

TEST(Safetensors, SaveIsAtomicAndLeavesNoTempFiles) {
  std::string path = temp_path("atomic.safetensors");
  nb::save_safetensors(path, {{"a", nb::ones({3})}});
  nb::save_safetensors(path, {{"a", nb::zeros({3})}});
  EXPECT_EQ(nb::load_safetensors(path).at("a").to_vector<float>(), (std::vector<float>{0, 0, 0}));
  for (auto& e : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_THROW(nb::save_safetensors("/nonexistent-dir/x.safetensors", {{"a", nb::ones({1})}}), nb::IOError);
}
