// WAV reader and writer: RIFF chunks walked with bounds checks against the file's real size.
#include "nabla/data/wav.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "data/file_bytes.h"
#include "io/atomic_file.h"
#include "nabla/ops/creation.h"

namespace nabla::data {
namespace {

constexpr uint16_t kPcm = 1, kFloat = 3, kExtensible = 0xFFFE;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError("WAV: " + path + ": " + what);
}

uint32_t le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | p[1] << 8); }

struct Format {
  uint16_t tag = 0, channels = 0, block_align = 0, bits = 0;
  uint32_t sample_rate = 0;
};

Format read_format(const std::string& path, const unsigned char* p, uint32_t size) {
  if (size < 16)
    fail(path, "\"fmt \" chunk holds " + std::to_string(size) + " bytes, expected at least 16");
  Format f{le16(p), le16(p + 2), le16(p + 12), le16(p + 14), le32(p + 4)};
  if (f.tag == kExtensible) {
    if (size < 40)
      fail(path, "WAVE_FORMAT_EXTENSIBLE \"fmt \" chunk holds " + std::to_string(size) +
                     " bytes, expected 40");
    f.tag = le16(p + 24);  // the first two bytes of the sub-format GUID
  }
  if (f.tag != kPcm && f.tag != kFloat)
    fail(path, "format tag " + std::to_string(f.tag) +
                   " is not supported (expected 1 for integer PCM or 3 for IEEE float)");
  if (f.channels == 0) fail(path, "header says 0 channels");
  if (f.sample_rate == 0) fail(path, "header says a sample rate of 0");
  bool ok_bits = f.tag == kPcm ? (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32)
                               : (f.bits == 32 || f.bits == 64);
  if (!ok_bits)
    fail(path, std::to_string(f.bits) + "-bit " + (f.tag == kPcm ? "PCM" : "float") +
                   " samples are not supported (expected " +
                   (f.tag == kPcm ? "8, 16, 24 or 32" : "32 or 64") + ")");
  if (f.block_align != uint32_t(f.channels) * f.bits / 8)
    fail(path, "header says " + std::to_string(f.block_align) + " bytes per frame, but " +
                   std::to_string(f.channels) + " channels of " + std::to_string(f.bits) +
                   " bits take " + std::to_string(uint32_t(f.channels) * f.bits / 8));
  return f;
}

float sample_at(const unsigned char* p, const Format& f) {
  switch (f.bits) {
    case 8:
      return (float(p[0]) - 128.0f) / 128.0f;
    case 16:
      return float(int16_t(le16(p))) / 32768.0f;
    case 24: {
      int32_t v = int32_t(uint32_t(p[0]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 24) >> 8;
      return float(v) / 8388608.0f;
    }
    case 32:
      if (f.tag == kFloat) {
        float v;
        uint32_t u = le32(p);
        std::memcpy(&v, &u, 4);
        return v;
      }
      return float(double(int32_t(le32(p))) / 2147483648.0);
    default: {  // 64-bit float
      uint64_t u = uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32;
      double v;
      std::memcpy(&v, &u, 8);
      return float(v);
    }
  }
}

}  // namespace

Audio read_wav(const std::string& path) {
  std::string bytes = detail::read_file_bytes(path, "WAV");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  if (n < 12)
    fail(path, "file ends at byte " + std::to_string(n) + ", inside the 12-byte RIFF header");
  if (std::memcmp(b, "RIFF", 4) != 0 || std::memcmp(b + 8, "WAVE", 4) != 0)
    fail(path, "does not start with \"RIFF\" ... \"WAVE\"; is this a WAV file?");
  // The RIFF size is often wrong in files from streaming writers: chunks are walked against
  // the real file size instead.
  std::optional<Format> format;
  const unsigned char* data = nullptr;
  uint32_t data_size = 0;
  size_t pos = 12;
  while (pos < n && !data) {
    if (n - pos < 8)
      fail(path, "file ends at byte " + std::to_string(n) + ", inside a chunk header at byte " +
                     std::to_string(pos));
    std::string id(reinterpret_cast<const char*>(b + pos), 4);
    uint32_t size = le32(b + pos + 4);
    pos += 8;
    if (size > n - pos)
      fail(path, "\"" + id + "\" chunk at byte " + std::to_string(pos - 8) + " says " +
                     std::to_string(size) + " bytes but file ends at byte " + std::to_string(n));
    if (id == "fmt ") {
      if (format) fail(path, "holds two \"fmt \" chunks");
      format = read_format(path, b + pos, size);
    } else if (id == "data") {
      if (!format) fail(path, "\"data\" chunk comes before the \"fmt \" chunk");
      data = b + pos;
      data_size = size;
    }
    pos += size + (size & 1);  // chunks are padded to an even size
  }
  if (!format) fail(path, "has no \"fmt \" chunk");
  if (!data) fail(path, "has no \"data\" chunk");
  if (data_size % format->block_align != 0)
    fail(path, "\"data\" chunk holds " + std::to_string(data_size) +
                   " bytes, not a whole number of " + std::to_string(format->block_align) +
                   "-byte frames");

  int64_t channels = format->channels, frames = data_size / format->block_align;
  Tensor out = empty({channels, frames}, float32);
  float* o = out.data_ptr<float>();
  size_t step = format->bits / 8;
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t c = 0; c < channels; ++c)
      o[c * frames + t] = sample_at(data + (size_t(t) * channels + size_t(c)) * step, *format);
  return {out, int64_t(format->sample_rate)};
}

namespace {

void put16(std::string& s, uint32_t v) {
  s += char(v & 0xFF);
  s += char(v >> 8 & 0xFF);
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}

}  // namespace

void write_wav(const std::string& path, const Tensor& samples, int64_t sample_rate,
               WavFormat format) {
  if (!samples.defined()) throw ValueError("[write_wav] " + path + ": samples are undefined");
  if (samples.ndim() != 1 && samples.ndim() != 2)
    throw ShapeError("[write_wav] " + path +
                     ": expects samples (channels, frames) or (frames), got " +
                     shape_str(samples.shape()));
  if (!is_floating(samples.dtype()))
    throw DTypeError("[write_wav] " + path + ": expects float samples in [-1, 1], got " +
                     std::string(dtype_name(samples.dtype())));
  if (sample_rate <= 0 || sample_rate > int64_t(UINT32_MAX))
    throw ValueError("[write_wav] " + path + ": sample rate must be in 1..2^32-1, got " +
                     std::to_string(sample_rate));
  Tensor x = samples.astype(float32).contiguous();
  int64_t channels = samples.ndim() == 1 ? 1 : samples.size(0);
  int64_t frames = samples.ndim() == 1 ? samples.size(0) : samples.size(1);
  if (channels == 0 || channels > 65535)
    throw ShapeError("[write_wav] " + path + ": needs 1..65535 channels, got shape " +
                     shape_str(samples.shape()));
  bool is_float = format == WavFormat::float32;
  uint32_t bits = format == WavFormat::pcm8    ? 8
                  : format == WavFormat::pcm16 ? 16
                  : format == WavFormat::pcm24 ? 24
                                               : 32;
  uint64_t block = uint64_t(channels) * bits / 8, data_bytes = block * uint64_t(frames);
  if (block > 65535 || data_bytes + 45 > UINT32_MAX)
    throw ValueError("[write_wav] " + path + ": " + std::to_string(data_bytes) +
                     " bytes of samples do not fit a WAV file (4 GiB at most)");

  const float* p = x.data_ptr<float>();
  std::string data;
  data.reserve(size_t(data_bytes));
  double scale = std::ldexp(1.0, int(bits) - 1);
  for (int64_t t = 0; t < frames; ++t)
    for (int64_t c = 0; c < channels; ++c) {
      float v = p[c * frames + t];
      if (std::isnan(v))
        throw ValueError("[write_wav] " + path + ": sample " + std::to_string(t) + " of channel " +
                         std::to_string(c) + " is NaN");
      if (is_float) {
        uint32_t u;
        std::memcpy(&u, &v, 4);
        put32(data, u);
        continue;
      }
      double q = std::clamp(std::nearbyint(double(v) * scale), -scale, scale - 1);
      int64_t i = int64_t(q);
      if (bits == 8) {
        data += char(uint8_t(i + 128));
      } else {
        uint32_t u = uint32_t(int32_t(i));
        for (uint32_t k = 0; k < bits / 8; ++k) data += char(u >> (8 * k) & 0xFF);
      }
    }

  if (data_bytes & 1) data += '\0';  // chunks are padded to an even size
  std::string header = "RIFF";
  put32(header, uint32_t(36 + data.size()));
  header += "WAVEfmt ";
  put32(header, 16);
  put16(header, is_float ? kFloat : kPcm);
  put16(header, uint32_t(channels));
  put32(header, uint32_t(sample_rate));
  put32(header, uint32_t(uint64_t(sample_rate) * block));
  put16(header, uint32_t(block));
  put16(header, bits);
  header += "data";
  put32(header, uint32_t(data_bytes));
  write_file_atomically(path, {header, data});
}

}  // namespace nabla::data
