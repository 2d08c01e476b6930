// IDX reader and Fashion-MNIST: small files written here (plain and gzip'd), broken ones, and
// the real test set when the Debian package is installed.
#include "nabla/data/idx.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

namespace fs = std::filesystem;
namespace nd = nabla::data;

namespace {

std::vector<unsigned char> idx_bytes(uint8_t type, std::vector<uint32_t> dims,
                                     const std::vector<unsigned char>& data) {
  std::vector<unsigned char> b = {0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nabla_idx_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_plain(const std::string& name, const std::vector<unsigned char>& bytes) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return p;
  }
  std::string write_gz(const std::string& name, const std::vector<unsigned char>& bytes) {
    std::string p = (dir_ / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
    gzclose(f);
    return p;
  }
  std::vector<unsigned char> read_all(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  // Writes a small MNIST-like pair of files: n images of h x w and n labels.
  void write_dataset(const std::string& prefix, uint32_t n, uint32_t h, uint32_t w, bool gz,
                     uint32_t labels_n = 0) {
    if (!labels_n) labels_n = n;
    std::vector<unsigned char> pixels(size_t(n) * h * w), labels(labels_n);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 7);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = uint8_t(i % 10);
    auto write = [&](const std::string& name, const std::vector<unsigned char>& b) {
      gz ? write_gz(name + ".gz", b) : write_plain(name, b);
    };
    write(prefix + "-images-idx3-ubyte", idx_bytes(0x08, {n, h, w}, pixels));
    write(prefix + "-labels-idx1-ubyte", idx_bytes(0x08, {labels_n}, labels));
  }
  // The IOError message of read_idx(path); fails the test when nothing is thrown.
  std::string error_of(const std::string& path) {
    try {
      nd::read_idx(path);
    } catch (const nabla::IOError& e) {
      return e.what();
    }
    ADD_FAILURE() << "read_idx(" << path << ") did not throw IOError";
    return "";
  }

  fs::path dir_;
};

TEST_F(IdxTest, ReadsPlainAndGzipUint8) {
  std::vector<unsigned char> data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(250 - i);
  auto bytes = idx_bytes(0x08, {2, 3, 4}, data);
  for (const std::string& p : {write_plain("a-idx3-ubyte", bytes), write_gz("a.gz", bytes)}) {
    nabla::Tensor t = nd::read_idx(p);
    EXPECT_EQ(t.shape(), (nabla::Shape{2, 3, 4}));
    EXPECT_EQ(t.dtype(), nabla::uint8);
    std::vector<uint8_t> got = t.to_vector<uint8_t>();
    EXPECT_EQ(got, std::vector<uint8_t>(data.begin(), data.end()));
  }
}

TEST_F(IdxTest, ReadsBigEndianWiderTypes) {
  // int32 values -2 and 258, int16 -3, float32 1.5, float64 -0.25, all big-endian.
  auto i32 = idx_bytes(0x0C, {2}, {0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x00, 0x01, 0x02});
  EXPECT_EQ(nd::read_idx(write_plain("i32", i32)).to_vector<int32_t>(),
            (std::vector<int32_t>{-2, 258}));
  auto i16 = idx_bytes(0x0B, {1}, {0xFF, 0xFD});
  nabla::Tensor t16 = nd::read_idx(write_gz("i16.gz", i16));
  EXPECT_EQ(t16.dtype(), nabla::int32);
  EXPECT_EQ(t16.to_vector<int32_t>(), std::vector<int32_t>{-3});
  auto f32 = idx_bytes(0x0D, {1, 1}, {0x3F, 0xC0, 0x00, 0x00});
  nabla::Tensor tf = nd::read_idx(write_plain("f32", f32));
  EXPECT_EQ(tf.dtype(), nabla::float32);
  EXPECT_EQ(tf.to_vector<float>(), std::vector<float>{1.5f});
  auto f64 = idx_bytes(0x0E, {1}, {0xBF, 0xD0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(nd::read_idx(write_plain("f64", f64)).to_vector<double>(), std::vector<double>{-0.25});
  auto i8 = idx_bytes(0x09, {2}, {0xFF, 0x05});
  EXPECT_EQ(nd::read_idx(write_plain("i8", i8)).to_vector<int>(), (std::vector<int>{-1, 5}));
}

TEST_F(IdxTest, MissingFile) {
  std::string msg = error_of((dir_ / "nope.gz").string());
  EXPECT_NE(msg.find("nope.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
}

TEST_F(IdxTest, BadMagicAndType) {
  std::string msg = error_of(write_plain("text", {'h', 'e', 'l', 'l', 'o', '\n'}));
  EXPECT_NE(msg.find("bad magic 0x68656C6C"), std::string::npos) << msg;
  msg = error_of(write_gz("type.gz", idx_bytes(0x07, {1}, {0})));
  EXPECT_NE(msg.find("unknown element type code 0x07"), std::string::npos) << msg;
  msg = error_of(write_plain("short", {0, 0}));
  EXPECT_NE(msg.find("file ends at byte 2"), std::string::npos) << msg;
  msg = error_of(write_plain("hdr", {0, 0, 8, 3, 0, 0, 0, 5}));
  EXPECT_NE(msg.find("inside the header"), std::string::npos) << msg;
}

TEST_F(IdxTest, TruncatedDataNamesHeaderAndByte) {
  auto bytes = idx_bytes(0x08, {10000, 28, 28}, std::vector<unsigned char>(896, 1));
  for (const std::string& p : {write_plain("t10k-images-idx3-ubyte", bytes),
                               write_gz("t10k-images-idx3-ubyte.gz", bytes)}) {
    std::string msg = error_of(p);
    EXPECT_NE(msg.find("IDX: " + p + ": header says 10000 images of 28x28"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("file ends at byte 912"), std::string::npos) << msg;
  }
  auto labels = idx_bytes(0x08, {5}, {1, 2, 3});
  std::string msg = error_of(write_plain("labels", labels));
  EXPECT_NE(msg.find("header says 5 items"), std::string::npos) << msg;
  msg = error_of(write_plain("huge", idx_bytes(0x08, {1u << 20, 1u << 19}, {1, 2, 3})));
  EXPECT_NE(msg.find("file ends at byte 15"), std::string::npos) << msg;
  // A gzip'd header claiming 4 GiB: the size is not known up front; the read fails cleanly
  // (or the allocation does, where memory is not overcommitted).
  msg = error_of(write_gz("huge.gz", idx_bytes(0x08, {1u << 16, 1u << 16}, {1, 2, 3})));
  EXPECT_TRUE(msg.find("header says dims (65536, 65536) (4294967308 bytes) but file ends at "
                       "byte 15") != std::string::npos ||
              msg.find("more than can be allocated") != std::string::npos)
      << msg;
  msg = error_of(write_plain("long", idx_bytes(0x08, {2}, {1, 2, 3})));
  EXPECT_NE(msg.find("more data"), std::string::npos) << msg;
}

TEST_F(IdxTest, CorruptAndCutGzip) {
  std::vector<unsigned char> data(4000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t((i * 2654435761u) >> 13);
  auto good = read_all(write_gz("good.gz", idx_bytes(0x08, {4000}, data)));
  ASSERT_GT(good.size(), 100u);

  // Garbage in the deflate stream after the 10-byte gzip header.
  auto corrupt = good;
  for (size_t i = 12; i < 60; ++i) corrupt[i] ^= 0xA5;
  std::string msg = error_of(write_plain("corrupt.gz", corrupt));
  EXPECT_NE(msg.find("corrupt.gz"), std::string::npos) << msg;
  EXPECT_TRUE(msg.find("gzip data corrupt") != std::string::npos ||
              msg.find("header says") != std::string::npos ||
              msg.find("bad magic") != std::string::npos)
      << msg;

  // A good stream whose checksum is wrong: the data is complete but the trailer disagrees.
  auto bad_crc = good;
  bad_crc[bad_crc.size() - 6] ^= 0xFF;
  msg = error_of(write_plain("crc.gz", bad_crc));
  EXPECT_NE(msg.find("gzip data corrupt"), std::string::npos) << msg;

  // Cut in the middle of the data and just before the trailer.
  msg = error_of(write_plain("half.gz", {good.begin(), good.begin() + long(good.size() / 2)}));
  EXPECT_NE(msg.find("gzip stream is cut off"), std::string::npos) << msg;
  msg = error_of(write_plain("trailer.gz", {good.begin(), good.end() - 4}));
  EXPECT_NE(msg.find("gzip stream is cut off"), std::string::npos) << msg;
}

TEST_F(IdxTest, LoadsSmallFashionMNISTPlainOrGzip) {
  for (bool gz : {false, true}) {
    write_dataset("t10k", 12, 28, 28, gz);
    nd::FashionMNIST ds(dir_.string(), /*train=*/false);
    ASSERT_EQ(ds.size(), 12);
    EXPECT_EQ(ds.inputs().shape(), (nabla::Shape{12, 1, 28, 28}));
    EXPECT_EQ(ds.inputs().dtype(), nabla::float32);
    EXPECT_EQ(ds.targets().dtype(), nabla::int64);
    nd::Example e = ds.get(3);
    EXPECT_EQ(e.target.item<int64_t>(), 3);
    // pixel i of the file is uint8(i * 7)
    size_t first = 3 * 28 * 28 + 5;
    EXPECT_FLOAT_EQ(e.input.to_vector<float>()[5], float(uint8_t(first * 7)) / 255.0f);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
}

TEST_F(IdxTest, FashionMNISTErrors) {
  try {
    nd::load_fashion_mnist(dir_.string(), true);
    FAIL() << "no throw";
  } catch (const nabla::IOError& e) {
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte"), std::string::npos) << e.what();
  }
  write_dataset("train", 6, 4, 4, true, /*labels_n=*/5);
  try {
    nd::load_fashion_mnist(dir_.string(), true);
    FAIL() << "no throw";
  } catch (const nabla::IOError& e) {
    EXPECT_NE(std::string(e.what()).find("has 6 images but"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("has 5 labels"), std::string::npos) << e.what();
  }
  write_gz("train-labels-idx1-ubyte.gz", idx_bytes(0x08, {6}, {0, 1, 2, 3, 4, 10}));
  EXPECT_THROW(nd::load_fashion_mnist(dir_.string(), true), nabla::IOError);
}

TEST(FashionMNIST, RealTestSet) {
  std::string dir = nd::kFashionMNISTDir;
  if (!fs::exists(fs::path(dir) / "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed in " << dir << " (package dataset-fashion-mnist)";
  nd::FashionMNIST test(dir, /*train=*/false);
  ASSERT_EQ(test.size(), 10000);
  EXPECT_EQ(test.inputs().shape(), (nabla::Shape{10000, 1, 28, 28}));
  std::vector<int64_t> labels = test.targets().to_vector<int64_t>();
  std::vector<int> per_class(10, 0);
  for (int64_t l : labels) {
    ASSERT_GE(l, 0);
    ASSERT_LT(l, 10);
    ++per_class[size_t(l)];
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[size_t(c)], 1000) << "class " << c;
  std::vector<float> pixels = test.inputs().to_vector<float>();
  auto [mn, mx] = std::minmax_element(pixels.begin(), pixels.end());
  EXPECT_EQ(*mn, 0.0f);
  EXPECT_EQ(*mx, 1.0f);
}

}  // namespace
