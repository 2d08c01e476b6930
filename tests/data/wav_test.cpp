// WAV: round trips through write_wav for every format, hand-made headers with extra chunks,
// and broken files (truncated or corrupted at many points) that must raise IOError.
#include "nabla/data/wav.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "data/temp_dir.h"
#include "nabla/ops/creation.h"

namespace nd = nabla::data;
using nabla::testing::error_of;

namespace {

class WavTest : public nabla::testing::TempDirTest {};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

void put16(std::string& s, uint32_t v) {
  s += char(v & 0xFF);
  s += char(v >> 8 & 0xFF);
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}
std::string chunk(const std::string& id, const std::string& body) {
  std::string s = id;
  put32(s, uint32_t(body.size()));
  s += body;
  if (body.size() & 1) s += '\0';
  return s;
}
std::string fmt(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits) {
  std::string f;
  put16(f, tag);
  put16(f, channels);
  put32(f, rate);
  put32(f, rate * channels * bits / 8);
  put16(f, uint16_t(channels * bits / 8));
  put16(f, bits);
  return f;
}
std::string riff(const std::string& chunks) {
  std::string s = "RIFF";
  put32(s, uint32_t(4 + chunks.size()));
  return s + "WAVE" + chunks;
}

nabla::Tensor stereo_ramp(int64_t frames) {
  std::vector<float> v;
  for (int64_t t = 0; t < frames; ++t) v.push_back(float(std::sin(0.3 * double(t))));
  for (int64_t t = 0; t < frames; ++t) v.push_back(-1.0f + 2.0f * float(t) / float(frames));
  return nabla::tensor(v, {2, frames});
}

TEST_F(WavTest, RoundTripsEveryFormat) {
  nabla::Tensor x = stereo_ramp(101);
  std::vector<float> want = x.to_vector<float>();
  struct Case {
    nd::WavFormat format;
    double step;
  };
  for (auto [format, step] : {Case{nd::WavFormat::pcm8, 1.0 / 128},
                              {nd::WavFormat::pcm16, 1.0 / 32768},
                              {nd::WavFormat::pcm24, 1.0 / 8388608},
                              {nd::WavFormat::pcm32, 1e-7},
                              {nd::WavFormat::float32, 0}}) {
    std::string p = path("a.wav");
    nd::write_wav(p, x, 22050, format);
    nd::Audio a = nd::read_wav(p);
    EXPECT_EQ(a.sample_rate, 22050);
    ASSERT_EQ(a.samples.shape(), (nabla::Shape{2, 101}));
    EXPECT_EQ(a.samples.dtype(), nabla::float32);
    std::vector<float> got = a.samples.to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i) {
      // +1 clamps to the largest step below 1.
      double tol = step / 2 + (want[i] >= 1 - step ? step : 0) + 1e-7;
      ASSERT_NEAR(got[i], want[i], tol) << "format " << int(format) << " sample " << i;
      ASSERT_GE(got[i], -1.0f);
    }
  }
}

TEST_F(WavTest, MonoFromOneDimAndClamping) {
  std::string p = path("m.wav");
  nd::write_wav(p, nabla::tensor(std::vector<double>{0.5, -2.0, 3.0}), 8000, nd::WavFormat::pcm16);
  nd::Audio a = nd::read_wav(p);
  EXPECT_EQ(a.samples.shape(), (nabla::Shape{1, 3}));
  EXPECT_EQ(a.samples.to_vector<float>(), (std::vector<float>{0.5f, -1.0f, 32767.0f / 32768}));
  // Odd data size (8-bit mono, 3 frames) is padded, and the file still reads.
  nd::write_wav(p, nabla::tensor(std::vector<float>{0, 0.5f, -0.5f}), 8000, nd::WavFormat::pcm8);
  EXPECT_EQ(read(p).size(), 44u + 4u);
  EXPECT_EQ(nd::read_wav(p).samples.to_vector<float>(), (std::vector<float>{0, 0.5f, -0.5f}));
}

TEST_F(WavTest, ExactIntegerScaling) {
  // 16-bit: -32768, 16384, 32767; 24-bit: -8388608, 1; 8-bit: 0, 128, 255.
  std::string d16;
  for (int v : {-32768, 16384, 32767}) put16(d16, uint16_t(int16_t(v)));
  auto a =
      nd::read_wav(write("16.wav", riff(chunk("fmt ", fmt(1, 1, 44100, 16)) + chunk("data", d16))));
  EXPECT_EQ(a.samples.to_vector<float>(), (std::vector<float>{-1.0f, 0.5f, 32767.0f / 32768}));
  std::string d24 = std::string("\x00\x00\x80", 3) + std::string("\x01\x00\x00", 3);
  a = nd::read_wav(write("24.wav", riff(chunk("fmt ", fmt(1, 1, 8000, 24)) + chunk("data", d24))));
  EXPECT_EQ(a.samples.to_vector<float>(), (std::vector<float>{-1.0f, 1.0f / 8388608}));
  std::string d8 = std::string("\x00\x80\xff", 3);
  a = nd::read_wav(write("8.wav", riff(chunk("fmt ", fmt(1, 1, 8000, 8)) + chunk("data", d8))));
  EXPECT_EQ(a.samples.to_vector<float>(), (std::vector<float>{-1.0f, 0.0f, 127.0f / 128}));
}

TEST_F(WavTest, SkipsExtraChunksAndReadsExtensibleAndFloat64) {
  // LIST before fmt, an odd-sized chunk (padded) between fmt and data, a trailing chunk.
  std::string d;
  for (int v : {1000, -1000, 2000, -2000}) put16(d, uint16_t(int16_t(v)));
  std::string file =
      riff(chunk("LIST", "INFOISFT\x05\x00\x00\x00nabla") + chunk("fmt ", fmt(1, 2, 16000, 16)) +
           chunk("junk", "abc") + chunk("data", d) + chunk("id3 ", "xx"));
  nd::Audio a = nd::read_wav(write("list.wav", file));
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.samples.shape(), (nabla::Shape{2, 2}));
  EXPECT_EQ(a.samples.to_vector<float>(),
            (std::vector<float>{1000.f / 32768, 2000.f / 32768, -1000.f / 32768, -2000.f / 32768}));

  // WAVE_FORMAT_EXTENSIBLE with the float sub-format, then plain float64.
  std::string ext = fmt(0xFFFE, 1, 48000, 32);
  put16(ext, 22);  // cbSize
  put16(ext, 32);  // valid bits
  put32(ext, 4);   // channel mask
  put16(ext, 3);   // sub-format GUID starts with the format tag
  ext += std::string(14, '\x01');
  std::string df;
  float f = -0.75f;
  df.append(reinterpret_cast<const char*>(&f), 4);
  a = nd::read_wav(write("ext.wav", riff(chunk("fmt ", ext) + chunk("data", df))));
  EXPECT_EQ(a.samples.to_vector<float>(), std::vector<float>{-0.75f});
  double g = 0.125;
  std::string d64(reinterpret_cast<const char*>(&g), 8);
  a = nd::read_wav(write("f64.wav", riff(chunk("fmt ", fmt(3, 1, 8000, 64)) + chunk("data", d64))));
  EXPECT_EQ(a.samples.to_vector<float>(), std::vector<float>{0.125f});
}

TEST_F(WavTest, BadHeadersNameTheFault) {
  auto msg_of = [&](const std::string& name, const std::string& bytes) {
    std::string p = write(name, bytes);
    return error_of<nabla::IOError>([&] { nd::read_wav(p); });
  };
  std::string data = chunk("data", std::string(8, '\0'));
  std::string m = error_of<nabla::IOError>([&] { nd::read_wav(path("none.wav")); });
  EXPECT_TRUE(contains(m, "none.wav: cannot open")) << m;
  m = msg_of("short.wav", "RIFF");
  EXPECT_TRUE(contains(m, "short.wav: file ends at byte 4, inside the 12-byte RIFF header")) << m;
  m = msg_of("notwav.wav", std::string("RIFF\x04\x00\x00\x00AVI LIST", 16));
  EXPECT_TRUE(contains(m, "is this a WAV file?")) << m;
  m = msg_of("nofmt.wav", riff(data));
  EXPECT_TRUE(contains(m, "\"data\" chunk comes before the \"fmt \" chunk")) << m;
  m = msg_of("nodata.wav", riff(chunk("fmt ", fmt(1, 1, 8000, 16))));
  EXPECT_TRUE(contains(m, "has no \"data\" chunk")) << m;
  m = msg_of("adpcm.wav", riff(chunk("fmt ", fmt(2, 1, 8000, 4)) + data));
  EXPECT_TRUE(contains(m, "format tag 2 is not supported")) << m;
  m = msg_of("bits.wav", riff(chunk("fmt ", fmt(1, 1, 8000, 12)) + data));
  EXPECT_TRUE(contains(m, "12-bit PCM samples are not supported")) << m;
  m = msg_of("chan.wav", riff(chunk("fmt ", fmt(1, 0, 8000, 16)) + data));
  EXPECT_TRUE(contains(m, "0 channels")) << m;
  std::string bad_align = fmt(1, 2, 8000, 16);
  bad_align[12] = 3;
  m = msg_of("align.wav", riff(chunk("fmt ", bad_align) + data));
  EXPECT_TRUE(contains(m, "header says 3 bytes per frame, but 2 channels of 16 bits take 4")) << m;
  m = msg_of("frames.wav", riff(chunk("fmt ", fmt(1, 2, 8000, 16)) + chunk("data", "abcdef")));
  EXPECT_TRUE(contains(m, "6 bytes, not a whole number of 4-byte frames")) << m;
  std::string cut =
      riff(chunk("fmt ", fmt(1, 1, 8000, 16)) + chunk("data", std::string(100, '\0')));
  m = msg_of("cut.wav", cut.substr(0, 60));
  EXPECT_TRUE(contains(m, "\"data\" chunk at byte 36 says 100 bytes but file ends at byte 60"))
      << m;
}

TEST_F(WavTest, WriteRejectsBadInput) {
  std::string p = path("w.wav");
  EXPECT_THROW(nd::write_wav(p, nabla::zeros({2, 2, 2}), 8000), nabla::ShapeError);
  EXPECT_THROW(nd::write_wav(p, nabla::zeros({0, 5}), 8000), nabla::ShapeError);
  EXPECT_THROW(nd::write_wav(p, nabla::zeros({4}, nabla::int64), 8000), nabla::DTypeError);
  EXPECT_THROW(nd::write_wav(p, nabla::zeros({4}), 0), nabla::ValueError);
  std::string m = error_of<nabla::ValueError>([&] {
    nd::write_wav(p, nabla::tensor(std::vector<float>{0, NAN}), 8000);
  });
  EXPECT_TRUE(contains(m, "sample 1 of channel 0 is NaN")) << m;
  EXPECT_THROW(nd::write_wav(path("no/such/dir/w.wav"), nabla::zeros({4}), 8000), nabla::IOError);
  EXPECT_FALSE(std::filesystem::exists(p));  // nothing half-written
}

// Every prefix, and every byte set to 0x00, 0xFF or 0x7F, of a valid file with a LIST chunk:
// read_wav returns audio or raises IOError, never anything else or a crash.
TEST_F(WavTest, TruncatedOrCorruptedFilesGiveTypedErrors) {
  std::string p = path("good.wav");
  nd::write_wav(p, stereo_ramp(6), 8000, nd::WavFormat::pcm24);
  std::string good = read(p);
  // Insert a LIST chunk after the RIFF header.
  good = good.substr(0, 12) + chunk("LIST", "INFOabc") + good.substr(12);
  std::vector<std::string> variants;
  for (size_t cut = 0; cut < good.size(); ++cut) variants.push_back(good.substr(0, cut));
  for (size_t i = 0; i < good.size(); ++i)
    for (char j : {'\x00', '\xff', '\x7f'}) {
      std::string v = good;
      v[i] = j;
      variants.push_back(v);
    }
  int ok = 0, failed = 0;
  for (const std::string& v : variants) {
    std::string f = write("fuzz.wav", v);
    try {
      nd::Audio a = nd::read_wav(f);
      ASSERT_EQ(a.samples.ndim(), 2);
      EXPECT_GT(a.sample_rate, 0);
      ++ok;
    } catch (const nabla::IOError& e) {
      EXPECT_TRUE(contains(e.what(), "fuzz.wav")) << e.what();
      ++failed;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(failed, int(good.size()));  // every proper prefix fails
}

}  // namespace
