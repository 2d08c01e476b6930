// IDX reader: plain or gzip'd (zlib inflate, streamed straight into the tensor's memory).
#include "nabla/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "nabla/ops/creation.h"

namespace nabla::data {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError("IDX: " + path + ": " + what);
}

// Reads the bytes of a file, inflating it when it starts with the gzip magic (1f 8b).
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
    unsigned char magic[2] = {0, 0};
    size_t n = std::fread(magic, 1, 2, file_);
    gzip_ = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    std::rewind(file_);
    if (gzip_) {
      in_.resize(1 << 16);
      // 16 + MAX_WBITS: expect a gzip header and trailer.
      if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) fail(path, "cannot initialise zlib");
    }
  }
  ~ByteSource() {
    if (gzip_) inflateEnd(&zs_);
    if (file_) std::fclose(file_);
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Reads up to n bytes; fewer only at the end of the data.
  size_t read(void* dst, size_t n) {
    size_t got =
        gzip_ ? inflate_into(static_cast<unsigned char*>(dst), n) : std::fread(dst, 1, n, file_);
    if (!gzip_ && got < n && std::ferror(file_))
      fail(path_, std::string("read error (") + std::strerror(errno) + ")");
    position_ += got;
    return got;
  }
  // The file's size for a plain file (known before reading); -1 for gzip.
  int64_t plain_size() const {
    if (gzip_) return -1;
    long here = std::ftell(file_);
    std::fseek(file_, 0, SEEK_END);
    long size = std::ftell(file_);
    std::fseek(file_, here, SEEK_SET);
    return size;
  }
  // Bytes of (decompressed) data read so far.
  size_t position() const { return position_; }
  // True when no data is left (for the gzip case, the stream ended properly).
  bool at_end() {
    unsigned char b;
    if (read(&b, 1) == 0) return true;
    --position_;
    return false;
  }
  // True when the compressed file ended before the gzip stream's end marker.
  bool truncated() const { return truncated_; }

 private:
  // zlib counts in 32-bit uInt: larger reads go in chunks.
  size_t inflate_into(unsigned char* dst, size_t n) {
    size_t done = 0;
    while (done < n && !stream_end_ && !truncated_) {
      size_t chunk = std::min<size_t>(n - done, size_t(1) << 30);
      done += inflate_chunk(dst + done, chunk);
    }
    return done;
  }

  size_t inflate_chunk(unsigned char* dst, size_t n) {
    zs_.next_out = dst;
    zs_.avail_out = uInt(n);
    while (zs_.avail_out > 0 && !stream_end_ && !truncated_) {
      if (zs_.avail_in == 0) {
        size_t k = std::fread(in_.data(), 1, in_.size(), file_);
        if (k == 0) {
          if (std::ferror(file_))
            fail(path_, std::string("read error (") + std::strerror(errno) + ")");
          truncated_ = true;
          break;
        }
        zs_.next_in = in_.data();
        zs_.avail_in = uInt(k);
        compressed_read_ += k;
      }
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        fail(path_, "gzip data corrupt near compressed byte " +
                        std::to_string(compressed_read_ - zs_.avail_in) +
                        " (zlib: " + (zs_.msg ? zs_.msg : "error " + std::to_string(rc)) + ")");
      }
    }
    return n - zs_.avail_out;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  bool gzip_ = false;
  bool stream_end_ = false;
  bool truncated_ = false;
  z_stream zs_{};
  std::vector<unsigned char> in_;
  size_t compressed_read_ = 0;
  size_t position_ = 0;
};

struct ElementType {
  DType dtype;
  size_t file_size;  // bytes per element in the file
};

ElementType element_type(const std::string& path, uint8_t code) {
  switch (code) {
    case 0x08:
      return {uint8, 1};
    case 0x09:
      return {int8, 1};
    case 0x0B:
      return {int32, 2};  // int16, widened
    case 0x0C:
      return {int32, 4};
    case 0x0D:
      return {float32, 4};
    case 0x0E:
      return {float64, 8};
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", code);
  fail(path, std::string("unknown element type code ") + buf +
                 " (expected 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32 or "
                 "0x0E float64)");
}

std::string describe(const Shape& dims) {
  auto n = [](int64_t v) { return std::to_string(v); };
  if (dims.size() == 3) return n(dims[0]) + " images of " + n(dims[1]) + "x" + n(dims[2]);
  if (dims.size() == 1) return n(dims[0]) + " items";
  return "dims " + shape_str(dims);
}

uint32_t big_endian32(const unsigned char* b) {
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
}

template <class T>
void swap_bytes(T* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, p + i, sizeof(T));
    for (size_t k = 0; k < sizeof(T) / 2; ++k) std::swap(b[k], b[sizeof(T) - 1 - k]);
    std::memcpy(p + i, b, sizeof(T));
  }
}

}  // namespace

Tensor read_idx(const std::string& path) {
  ByteSource src(path);
  unsigned char magic[4];
  size_t got = src.read(magic, 4);
  if (got < 4)
    fail(path, "file ends at byte " + std::to_string(got) +
                   ", inside the 4-byte magic (expected an IDX file)");
  if (magic[0] != 0 || magic[1] != 0 || magic[3] == 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", big_endian32(magic));
    fail(path, std::string("bad magic ") + buf +
                   ", expected 0x0000TTNN (two zero bytes, an element type code and a non-zero "
                   "dimension count); is this an IDX file?");
  }
  ElementType type = element_type(path, magic[2]);
  int ndim = magic[3];
  std::vector<unsigned char> header(size_t(ndim) * 4);
  got = src.read(header.data(), header.size());
  if (got < header.size())
    fail(path, "file ends at byte " + std::to_string(src.position()) + ", inside the header of " +
                   std::to_string(ndim) + " dimension sizes");
  Shape dims;
  int64_t count = 1;
  for (int d = 0; d < ndim; ++d) {
    uint32_t v = big_endian32(&header[size_t(d) * 4]);
    if (v > uint32_t(INT32_MAX)) fail(path, "dimension " + std::to_string(d) + " is too large");
    dims.push_back(int64_t(v));
    if (v != 0 && count > (int64_t(1) << 40) / int64_t(v))
      fail(path, "header dims " + shape_str(dims) + "... describe more than 2^40 elements");
    count *= int64_t(v);
  }

  size_t bytes = size_t(count) * type.file_size;
  std::string expected = "header says " + describe(dims) + " (" +
                         std::to_string(4 + header.size() + bytes) + " bytes)";
  // Catch a short plain file before allocating what its header claims.
  if (int64_t size = src.plain_size(); size >= 0 && size_t(size) < 4 + header.size() + bytes)
    fail(path, expected + " but file ends at byte " + std::to_string(size));
  Tensor out;
  try {
    out = empty(dims, type.dtype);
  } catch (const std::bad_alloc&) {
    fail(path, expected + ", more than can be allocated");
  }
  std::vector<unsigned char> narrow;  // int16 data is read here, then widened
  void* dst = out.raw_data();
  if (type.file_size != itemsize(type.dtype)) {
    narrow.resize(bytes);
    dst = narrow.data();
  }
  got = bytes ? src.read(dst, bytes) : 0;
  const char* cut = src.truncated() ? " (the gzip stream is cut off)" : "";
  if (got < bytes)
    fail(path, expected + " but file ends at byte " + std::to_string(src.position()) + cut);
  bool at_end = src.at_end();
  if (src.truncated()) fail(path, "gzip stream is cut off before its end marker and checksum");
  if (!at_end) fail(path, expected + " but the file holds more data after them");

  if constexpr (std::endian::native == std::endian::little) {
    switch (type.file_size) {
      case 2:
        swap_bytes(reinterpret_cast<int16_t*>(narrow.data()), count);
        break;
      case 4:
        swap_bytes(static_cast<int32_t*>(out.raw_data()), count);
        break;
      case 8:
        swap_bytes(static_cast<int64_t*>(out.raw_data()), count);
        break;
      default:
        break;
    }
  }
  if (!narrow.empty()) {
    int32_t* o = out.data_ptr<int32_t>();
    for (int64_t i = 0; i < count; ++i) {
      int16_t v;
      std::memcpy(&v, narrow.data() + i * 2, 2);
      o[i] = v;
    }
  }
  return out;
}

}  // namespace nabla::data
