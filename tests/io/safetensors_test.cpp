#include <gtest/gtest.h>
#include <nabla/io/safetensors.h>
#include <nabla/nabla.h>

#include <filesystem>
#include <fstream>

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
  EXPECT_THROW(nb::save_safetensors("/nonexistent-dir/x.safetensors", {{"a", nb::ones({1})}}),
               nb::IOError);
}

// Fuzz-style checks: a damaged file must load as a valid map or throw an IOError that names the
// file, never crash or throw anything else (this binary also runs under ASan + UBSan in CI).
namespace {

std::string valid_file_bytes() {
  std::string path = temp_path("fuzz_src.safetensors");
  nb::save_safetensors(path,
                       {{"weight", nb::arange(12, nb::float32).reshape({3, 4})},
                        {"bias", nb::arange(3, nb::float64)},
                        {"ids", nb::arange(5, nb::int64)},
                        {"mask", nb::ones({2, 2}).astype(nb::bool_)},
                        {"half", nb::ones({3}).astype(nb::float16)},
                        {"empty", nb::zeros({0, 2})}},
                       {{"format", "pt"}});
  return read_bytes(path);
}

// Loads `bytes` from a file; returns what happened: "ok", "io" or a failure description.
std::string load_outcome(const std::string& bytes, const std::string& what) {
  std::string p = temp_path("fuzz.safetensors");
  write_bytes(p, bytes);
  try {
    nb::TensorMap m = nb::load_safetensors(p);
    for (auto& [k, t] : m) {
      // A loaded tensor must be whole: its bytes come from the file (a shape whose element
      // count overflows could claim more than was read), and its values are readable.
      double claimed = 1;
      for (int64_t d : t.shape()) claimed *= double(d);
      if (!t.defined() || claimed * double(nb::itemsize(t.dtype())) > double(bytes.size()))
        return what + ": tensor " + k + " of shape " + nb::shape_str(t.shape()) +
               " claims more bytes than the file has";
      (void)t.astype(nb::float64).sum().item<double>();
    }
    (void)nb::load_safetensors_metadata(p);
    return "ok";
  } catch (const nb::IOError& e) {
    if (std::string(e.what()).find(p) == std::string::npos)
      return what + ": IOError without the path: " + e.what();
    return "io";
  } catch (const std::exception& e) {
    return what + ": unexpected exception: " + e.what();
  }
}

uint64_t header_length(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[std::size_t(i)]);
  return n;
}

// The file with its JSON header replaced (the length field updated to match).
std::string with_header(const std::string& bytes, const std::string& header) {
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i)
    len[std::size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return len + header + bytes.substr(8 + header_length(bytes));
}

}  // namespace

TEST(SafetensorsFuzz, EveryTruncationLoadsOrThrowsIOError) {
  std::string bytes = valid_file_bytes();
  ASSERT_EQ(load_outcome(bytes, "intact"), "ok");
  int io = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::string r = load_outcome(bytes.substr(0, n), "truncated at " + std::to_string(n));
    ASSERT_TRUE(r == "ok" || r == "io") << r;
    io += r == "io";
  }
  EXPECT_EQ(io, int(bytes.size()));  // every tensor has data, so every cut loses some
}

TEST(SafetensorsFuzz, FlippedBytesLoadOrThrowIOError) {
  std::string bytes = valid_file_bytes();
  const std::size_t header_end = 8 + header_length(bytes);
  int io = 0, ok = 0;
  for (std::size_t pos = 0; pos < bytes.size(); ++pos) {
    // Every byte of the length field and the JSON; every 7th byte of the data.
    if (pos >= header_end && (pos - header_end) % 7) continue;
    for (int mask : {0x01, 0x80, 0xff}) {
      std::string b = bytes;
      b[pos] = char(uint8_t(b[pos]) ^ mask);
      std::string r = load_outcome(b, "byte " + std::to_string(pos) + " ^ " + std::to_string(mask));
      ASSERT_TRUE(r == "ok" || r == "io") << r;
      (r == "ok" ? ok : io) += 1;
    }
    // Characters that change the JSON's structure or its numbers, at every other byte.
    if (pos < header_end && pos % 2 == 0)
      for (char c : {'"', '[', ']', '{', '}', ',', ':', '-', '9', '0', 'e', '.', ' ', '\0'}) {
        std::string b = bytes;
        b[pos] = c;
        std::string r =
            load_outcome(b, "byte " + std::to_string(pos) + " = " + std::to_string(int(c)));
        ASSERT_TRUE(r == "ok" || r == "io") << r;
        (r == "ok" ? ok : io) += 1;
      }
  }
  EXPECT_GT(io, 100);
  EXPECT_GT(ok, 10);  // data bytes and harmless header bytes
}

TEST(SafetensorsFuzz, HostileHeaderFieldsThrowIOError) {
  std::string bytes = valid_file_bytes();
  auto expect_io = [&](const std::string& b, const std::string& what) {
    EXPECT_EQ(load_outcome(b, what), "io") << what;
  };
  // The length field: zero, one past, far past, the largest values.
  for (uint64_t n : {uint64_t(0), uint64_t(1), header_length(bytes) + 1, uint64_t(1) << 40,
                     ~uint64_t(0), ~uint64_t(0) - 7, uint64_t(1) << 63}) {
    std::string b = bytes;
    for (int i = 0; i < 8; ++i) b[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
    expect_io(b, "header length " + std::to_string(n));
  }
  auto entry = [&](const std::string& e) { return with_header(bytes, "{\"x\": " + e + "}"); };
  // Shapes whose element count overflows int64 or wraps to a small number.
  expect_io(entry(R"({"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]})"),
            "wraps to 0");
  expect_io(entry(R"({"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]})"),
            "wraps to 0 bytes");
  expect_io(entry(R"({"dtype": "U8", "shape": [9223372036854775807, 3], "data_offsets": [0, 4]})"),
            "wraps");
  expect_io(entry(R"({"dtype": "U8", "shape": [18446744073709551615], "data_offsets": [0, 4]})"),
            "u64 dim");
  expect_io(entry(R"({"dtype": "U8", "shape": [-1, -4], "data_offsets": [0, 4]})"),
            "negative dims");
  expect_io(entry(R"({"dtype": "U8", "shape": [1e300], "data_offsets": [0, 4]})"), "float dim");
  expect_io(entry(R"({"dtype": "U8", "shape": [2.5], "data_offsets": [0, 2]})"), "fractional dim");
  expect_io(entry(R"({"dtype": "U8", "shape": "4", "data_offsets": [0, 4]})"), "shape not a list");
  expect_io(entry(R"({"dtype": "U8", "shape": [[4]], "data_offsets": [0, 4]})"), "nested shape");
  // Offsets: reversed, past the end, negative, huge, wrong count, wrong types.
  expect_io(entry(R"({"dtype": "U8", "shape": [4], "data_offsets": [4, 0]})"), "reversed");
  expect_io(
      entry(
          R"({"dtype": "U8", "shape": [4], "data_offsets": [18446744073709551612, 18446744073709551615]})"),
      "huge");
  expect_io(entry(R"({"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]})"), "negative offsets");
  expect_io(entry(R"({"dtype": "U8", "shape": [4], "data_offsets": [0.0, 4.0]})"), "float offsets");
  expect_io(entry(R"({"dtype": "U8", "shape": [4], "data_offsets": [0, 4, 8]})"), "three offsets");
  expect_io(entry(R"({"dtype": "U8", "shape": [4], "data_offsets": 4})"), "offsets not a list");
  expect_io(entry(R"({"dtype": "U8", "shape": [4], "data_offsets": ["0", "4"]})"),
            "string offsets");
  // dtype, entry and header types.
  expect_io(entry(R"({"dtype": "F128", "shape": [4], "data_offsets": [0, 4]})"), "unknown dtype");
  expect_io(entry(R"({"dtype": 3, "shape": [4], "data_offsets": [0, 4]})"), "numeric dtype");
  expect_io(entry(R"([1, 2, 3])"), "entry not an object");
  expect_io(entry(R"({"shape": [4], "data_offsets": [0, 4]})"), "no dtype");
  expect_io(with_header(bytes, "[]"), "header a list");
  expect_io(with_header(bytes, std::string(100000, '[')), "deep nesting");
  expect_io(with_header(bytes, "{\"__metadata__\": {\"a\": 1}}"), "metadata not strings");
  // Two tensors over the same bytes.
  expect_io(with_header(bytes, R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                                  "b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}})"),
            "overlap");
  expect_io(
      entry(R"({"dtype": "F32", "shape": [0, 4611686018427387904, 4], "data_offsets": [0, 0]})"),
      "empty but the other dims overflow");
  // Still valid: an empty tensor whose other dims are large.
  EXPECT_EQ(load_outcome(
                entry(R"({"dtype": "F32", "shape": [0, 1099511627776], "data_offsets": [0, 0]})"),
                "zero dim"),
            "ok");
}
