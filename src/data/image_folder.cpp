// Image decoding through stb_image, and the class-per-folder dataset.
#include "nabla/data/image_folder.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <memory>

#include "data/file_bytes.h"
#include "nabla/data/transforms.h"
#include "nabla/ops/creation.h"

namespace nabla::data {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError("image: " + path + ": " + what);
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return s;
}

enum class Kind { png, jpeg, bmp, other };

Kind kind_of(const std::string& b) {
  if (b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return Kind::png;
  if (b.compare(0, 2, "\xFF\xD8") == 0) return Kind::jpeg;
  if (b.compare(0, 2, "BM") == 0) return Kind::bmp;
  return Kind::other;
}

// Debian's stb_image (2.27) writes past its Huffman tables when a JPEG's DHT segment lists
// more than 256 codes (upstream fixed it in 2.28), so such files are refused before stb
// reads them. This walks the markers as stb does; it may look at more segments than stb
// (inside damaged entropy-coded data), never fewer. Returns the fault, or "".
std::string jpeg_table_fault(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size(), i = 2;  // after SOI
  while (i + 1 < n) {
    if (p[i] != 0xFF || p[i + 1] == 0xFF) {  // entropy-coded data or fill bytes
      ++i;
      continue;
    }
    unsigned char m = p[i + 1];
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {  // stuffing, TEM, RSTn, SOI
      i += 2;
      continue;
    }
    if (m == 0xD9 || i + 4 > n) break;  // EOI, or no room for a segment length
    size_t len = size_t(p[i + 2]) << 8 | p[i + 3];
    size_t end = i + 2 + len;
    // A DHT segment holds tables of 1 + 16 count bytes, then that many symbols; stb reads
    // tables while the declared length lasts, the last one possibly beyond it.
    for (size_t j = i + 4; m == 0xC4 && j < std::min(end, n);) {
      size_t codes = 0;
      for (size_t k = 1; k <= 16; ++k) codes += j + k < n ? p[j + k] : 0;
      if (codes > 256)
        return "JPEG Huffman table at byte " + std::to_string(j) + " lists " +
               std::to_string(codes) + " codes (at most 256)";
      j += 17 + codes;
    }
    i = len >= 2 ? end : i + 2;
  }
  return "";
}

}  // namespace

Tensor read_image(const std::string& path, const ImageOptions& options) {
  auto [height, width] = options.size;
  if (height < 0 || width < 0 || (height == 0) != (width == 0))
    throw ValueError("[read_image] size must be {0, 0} or positive, got {" +
                     std::to_string(height) + ", " + std::to_string(width) + "}");
  std::string bytes = detail::read_file_bytes(path, "image");
  if (bytes.size() > size_t(INT_MAX)) fail(path, "file is larger than 2 GiB");
  Kind kind = kind_of(bytes);
  if (kind == Kind::other)
    fail(path, "is not a PNG, JPEG or BMP file (its first bytes match none of their signatures)");
  if (kind == Kind::jpeg)
    if (std::string fault = jpeg_table_fault(bytes); !fault.empty()) fail(path, fault);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  int len = int(bytes.size()), w = 0, h = 0, c = 0;
  // Check the size the header claims before decoding allocates it.
  if (!stbi_info_from_memory(data, len, &w, &h, &c))
    fail(path, std::string("not a readable image (stb_image: ") + stbi_failure_reason() + ")");
  if (w <= 0 || h <= 0 || int64_t(w) * h > options.max_pixels)
    fail(path, "header says " + std::to_string(w) + "x" + std::to_string(h) +
                   " pixels (max_pixels allows 1 to " + std::to_string(options.max_pixels) + ")");
  int channels = options.grayscale ? 1 : 3;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, len, &w, &h, &c, channels), &stbi_image_free);
  if (!pixels) fail(path, std::string("cannot decode (stb_image: ") + stbi_failure_reason() + ")");
  // Interleaved HWC bytes to planar CHW floats.
  Tensor out = empty({channels, h, w}, float32);
  float* o = out.data_ptr<float>();
  int64_t plane = int64_t(h) * w;
  const stbi_uc* p = pixels.get();
  for (int64_t i = 0; i < plane; ++i)
    for (int k = 0; k < channels; ++k) o[k * plane + i] = float(p[i * channels + k]) / 255.0f;
  if (height > 0 && (height != h || width != w)) return resize_bilinear(out, height, width);
  return out;
}

ImageFolder::ImageFolder(const std::string& root, const ImageFolderOptions& options)
    : options_(options.image) {
  auto [height, width] = options_.size;
  if (height < 0 || width < 0 || (height == 0) != (width == 0))
    throw ValueError("[ImageFolder] size must be {0, 0} or positive, got {" +
                     std::to_string(height) + ", " + std::to_string(width) + "}");
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw IOError("ImageFolder: " + root + ": not a folder");
  std::vector<std::string> extensions;
  for (const std::string& e : options.extensions) extensions.push_back(lower(e));
  auto is_image = [&](const fs::path& p) {
    std::string ext = lower(p.extension().string());
    return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
  };
  try {
    for (const fs::directory_entry& e : fs::directory_iterator(root))
      if (e.is_directory()) classes_.push_back(e.path().filename().string());
    std::sort(classes_.begin(), classes_.end());
    if (classes_.empty())
      throw IOError("ImageFolder: " + root +
                    ": holds no class folders (expected root/<class>/<image>)");
    for (size_t k = 0; k < classes_.size(); ++k) {
      fs::path dir = fs::path(root) / classes_[k];
      std::vector<std::string> files;
      for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path().string());
      if (files.empty()) {
        std::string list;
        for (const std::string& e : options.extensions) list += (list.empty() ? "" : " ") + e;
        throw IOError("ImageFolder: " + dir.string() + ": class folder holds no image (" + list +
                      ")");
      }
      std::sort(files.begin(), files.end());
      for (std::string& f : files) samples_.emplace_back(std::move(f), int64_t(k));
    }
  } catch (const fs::filesystem_error& e) {
    throw IOError("ImageFolder: " + root + ": " + e.what());
  }
}

Example ImageFolder::get(int64_t index) const {
  int64_t n = size(), i = index < 0 ? index + n : index;
  if (i < 0 || i >= n)
    throw IndexError("[ImageFolder] index " + std::to_string(index) + " is out of range for " +
                     std::to_string(n) + " images");
  const auto& [path, label] = samples_[size_t(i)];
  return {read_image(path, options_), full({}, double(label), int64)};
}

}  // namespace nabla::data
