// PNG output through stb_image_write: encode to memory, then write atomically.
#include "nabla/io/image.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include "io/atomic_file.h"
#include "nabla/error.h"
#include "nabla/ops/creation.h"

namespace nabla::io {
namespace {

uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also NaN
  if (v >= 1.0f) return 255;
  return uint8_t(std::lround(v * 255.0f));
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::string*>(context);
  out->append(static_cast<const char*>(data), size_t(size));
}

// Writes interleaved (H, W, C) bytes.
void encode_png(const std::vector<uint8_t>& hwc, int64_t h, int64_t w, int64_t c,
                const std::string& path) {
  std::string png;
  if (!stbi_write_png_to_func(append_bytes, &png, int(w), int(h), int(c), hwc.data(), int(w * c)))
    throw IOError("write_png: " + path + ": stb_image_write could not encode the image");
  write_file_atomically(path, {std::string_view(png)});
}

void check_image_dtype(const char* fn, const Tensor& t) {
  if (t.dtype() != uint8 && !is_floating(t.dtype()))
    throw DTypeError(std::string(fn) + ": images must be uint8 or floating, got " +
                     std::string(dtype_name(t.dtype())));
}

}  // namespace

void write_png(const Tensor& image, const std::string& path, bool channels_last) {
  check_image_dtype("write_png", image);
  const Shape& s = image.shape();
  int64_t h, w, c;
  if (s.size() == 2) {
    h = s[0], w = s[1], c = 1;
  } else if (s.size() == 3) {
    c = channels_last ? s[2] : s[0];
    h = channels_last ? s[0] : s[1];
    w = channels_last ? s[1] : s[2];
  } else {
    throw ShapeError("write_png: expected (H, W), (C, H, W) or (H, W, C), got " + shape_str(s));
  }
  if (c != 1 && c != 3 && c != 4)
    throw ShapeError("write_png: images have 1, 3 or 4 channels, got " + std::to_string(c) +
                     " in " + shape_str(s));
  if (h <= 0 || w <= 0 || h > (1 << 24) || w > (1 << 24))
    throw ShapeError("write_png: cannot write an image of shape " + shape_str(s));
  std::vector<uint8_t> hwc(size_t(h * w * c));
  auto at = [&](int64_t y, int64_t x, int64_t ch) {
    if (s.size() == 2) return (y * w + x);
    return channels_last ? (y * w + x) * c + ch : (ch * h + y) * w + x;
  };
  if (image.dtype() == uint8) {
    std::vector<uint8_t> v = image.to_vector<uint8_t>();
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < c; ++ch)
          hwc[size_t((y * w + x) * c + ch)] = v[size_t(at(y, x, ch))];
  } else {
    std::vector<float> v = image.to_vector<float>();
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < c; ++ch)
          hwc[size_t((y * w + x) * c + ch)] = to_byte(v[size_t(at(y, x, ch))]);
  }
  encode_png(hwc, h, w, c, path);
}

Tensor make_image_grid(const Tensor& images, const ImageGridOptions& options) {
  const Shape& s = images.shape();
  if (!is_floating(images.dtype()))
    throw DTypeError(std::string("save_image_grid: images must be floating, got ") +
                     std::string(dtype_name(images.dtype())));
  if (s.size() != 3 && s.size() != 4)
    throw ShapeError("save_image_grid: expected (N, H, W) or (N, C, H, W), got " + shape_str(s));
  const int64_t n = s[0], c = s.size() == 4 ? s[1] : 1, h = s[s.size() - 2], w = s[s.size() - 1];
  if (c != 1 && c != 3)
    throw ShapeError("save_image_grid: images have 1 or 3 channels, got " + shape_str(s));
  if (n <= 0 || h <= 0 || w <= 0)
    throw ShapeError("save_image_grid: no image to write in " + shape_str(s));
  if (options.columns <= 0 || options.padding < 0)
    throw ValueError("save_image_grid: columns must be positive and padding non-negative");
  const int64_t cols = std::min(options.columns, n), rows = (n + cols - 1) / cols,
                pad = options.padding;
  const int64_t gh = rows * (h + pad) + pad, gw = cols * (w + pad) + pad;
  std::vector<float> src = images.to_vector<float>();
  std::vector<float> grid(size_t(c * gh * gw), float(options.pad_value));
  const int64_t per_image = c * h * w;
  for (int64_t i = 0; i < n; ++i) {
    const float* img = src.data() + i * per_image;
    float lo = 0.0f, scale = 1.0f;
    if (options.normalize_each) {
      auto [mn, mx] = std::minmax_element(img, img + per_image);
      lo = *mn;
      scale = *mx > *mn ? 1.0f / (*mx - *mn) : 1.0f;
    }
    const int64_t oy = pad + (i / cols) * (h + pad), ox = pad + (i % cols) * (w + pad);
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          grid[size_t((ch * gh + oy + y) * gw + ox + x)] = (img[(ch * h + y) * w + x] - lo) * scale;
  }
  Tensor out = empty({c, gh, gw}, float32);
  std::copy(grid.begin(), grid.end(), out.data_ptr<float>());
  return out;
}

void save_image_grid(const Tensor& images, const std::string& path,
                     const ImageGridOptions& options) {
  write_png(make_image_grid(images, options), path);
}

}  // namespace nabla::io
