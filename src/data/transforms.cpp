// Image transforms: raw loops over contiguous HW/CHW images (byte-wise for any dtype).
#include "nabla/data/transforms.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "nabla/ops/creation.h"

namespace nabla::data {

uint64_t mix_seed(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t uniform_below(Rng& rng, uint64_t n) {
  if (n <= 1) return 0;
  __uint128_t m = __uint128_t(rng()) * n;
  uint64_t low = uint64_t(m);
  if (low < n) {
    uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = __uint128_t(rng()) * n;
      low = uint64_t(m);
    }
  }
  return uint64_t(m >> 64);
}

double uniform_unit(Rng& rng) { return double(rng() >> 11) * 0x1.0p-53; }

namespace {

// An image viewed as `channels` planes of height x width elements of `itemsize` bytes.
struct Planes {
  int64_t channels, height, width;
  size_t itemsize;
};

Planes planes_of(const Tensor& image, const char* op) {
  if (!image.defined()) throw ValueError(std::string("[") + op + "] got an undefined tensor");
  const Shape& s = image.shape();
  if (s.size() == 2) return {1, s[0], s[1], itemsize(image.dtype())};
  if (s.size() == 3) return {s[0], s[1], s[2], itemsize(image.dtype())};
  throw ShapeError(std::string("[") + op + "] expects an HW or CHW image, got shape " +
                   shape_str(s));
}

// Copies the window of `src` starting at (top, left) — which may lie partly outside the
// image — into a zero-filled out of height x width; coordinates outside `src` read as zero.
Tensor window(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width,
              const char* op) {
  Planes p = planes_of(image, op);
  Tensor src = image.contiguous();
  Shape out_shape = image.ndim() == 2 ? Shape{height, width} : Shape{p.channels, height, width};
  Tensor out = zeros(out_shape, image.dtype());
  auto* dst = static_cast<char*>(out.raw_data());
  const auto* in = static_cast<const char*>(src.raw_data());
  int64_t x0 = std::max<int64_t>(0, -left), x1 = std::min<int64_t>(width, p.width - left);
  if (x1 <= x0) return out;
  for (int64_t c = 0; c < p.channels; ++c)
    for (int64_t y = 0; y < height; ++y) {
      int64_t sy = top + y;
      if (sy < 0 || sy >= p.height) continue;
      std::memcpy(dst + ((c * height + y) * width + x0) * p.itemsize,
                  in + ((c * p.height + sy) * p.width + left + x0) * p.itemsize,
                  size_t(x1 - x0) * p.itemsize);
    }
  return out;
}

template <size_t N>
void flip_rows(char* data, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; ++r) {
    char* row = data + r * width * N;
    for (int64_t a = 0, b = width - 1; a < b; ++a, --b) {
      char tmp[N];
      std::memcpy(tmp, row + a * N, N);
      std::memcpy(row + a * N, row + b * N, N);
      std::memcpy(row + b * N, tmp, N);
    }
  }
}

template <class T>
void normalize_loop(T* x, int64_t channels, int64_t plane, const std::vector<double>& mean,
                    const std::vector<double>& stdev) {
  for (int64_t c = 0; c < channels; ++c) {
    size_t k = mean.size() == 1 ? 0 : size_t(c);
    T m = T(mean[k]), inv = T(1.0 / stdev[k]);
    T* p = x + c * plane;
    for (int64_t i = 0; i < plane; ++i) p[i] = (p[i] - m) * inv;
  }
}

}  // namespace

Transform normalize(std::vector<double> mean, std::vector<double> stdev) {
  if (mean.empty() || mean.size() != stdev.size())
    throw ValueError("[normalize] needs as many means as stds (one, or one per channel), got " +
                     std::to_string(mean.size()) + " and " + std::to_string(stdev.size()));
  for (double s : stdev)
    if (!(s != 0)) throw ValueError("[normalize] std must be non-zero, got " + std::to_string(s));
  return Transform([mean, stdev](const Tensor& image, Rng&) {
    Planes p = planes_of(image, "normalize");
    if (mean.size() != 1 && int64_t(mean.size()) != p.channels)
      throw ShapeError("[normalize] got " + std::to_string(mean.size()) +
                       " means for an image of shape " + shape_str(image.shape()) + " with " +
                       std::to_string(p.channels) + " channels");
    Tensor out = image.clone();
    if (image.dtype() == float32)
      normalize_loop(out.data_ptr<float>(), p.channels, p.height * p.width, mean, stdev);
    else if (image.dtype() == float64)
      normalize_loop(out.data_ptr<double>(), p.channels, p.height * p.width, mean, stdev);
    else
      throw DTypeError("[normalize] expects a float32 or float64 image, got " +
                       std::string(dtype_name(image.dtype())) + " (apply to_float first)");
    return out;
  });
}

Transform random_crop(int64_t size, int64_t padding) { return random_crop(size, size, padding); }

Transform random_crop(int64_t height, int64_t width, int64_t padding) {
  if (height <= 0 || width <= 0 || padding < 0)
    throw ValueError("[random_crop] needs a positive size and non-negative padding, got " +
                     std::to_string(height) + "x" + std::to_string(width) + " padding " +
                     std::to_string(padding));
  return Transform([=](const Tensor& image, Rng& rng) {
    Planes p = planes_of(image, "random_crop");
    int64_t ph = p.height + 2 * padding, pw = p.width + 2 * padding;
    if (height > ph || width > pw)
      throw ShapeError("[random_crop] cannot crop " + std::to_string(height) + "x" +
                       std::to_string(width) + " from an image of shape " +
                       shape_str(image.shape()) + " padded by " + std::to_string(padding));
    int64_t top = int64_t(uniform_below(rng, uint64_t(ph - height + 1))) - padding;
    int64_t left = int64_t(uniform_below(rng, uint64_t(pw - width + 1))) - padding;
    return window(image, top, left, height, width, "random_crop");
  });
}

Transform random_horizontal_flip(double p) {
  if (!(p >= 0 && p <= 1))
    throw ValueError("[random_horizontal_flip] p must be in [0, 1], got " + std::to_string(p));
  return Transform([p](const Tensor& image, Rng& rng) {
    Planes pl = planes_of(image, "random_horizontal_flip");
    if (uniform_unit(rng) >= p) return image;
    Tensor out = image.clone();
    auto* d = static_cast<char*>(out.raw_data());
    int64_t rows = pl.channels * pl.height;
    switch (pl.itemsize) {
      case 1:
        flip_rows<1>(d, rows, pl.width);
        break;
      case 2:
        flip_rows<2>(d, rows, pl.width);
        break;
      case 4:
        flip_rows<4>(d, rows, pl.width);
        break;
      default:
        flip_rows<8>(d, rows, pl.width);
        break;
    }
    return out;
  });
}

Transform random_affine_shift(int64_t max_dx, int64_t max_dy) {
  if (max_dx < 0 || max_dy < 0)
    throw ValueError("[random_affine_shift] shifts must be non-negative, got " +
                     std::to_string(max_dx) + ", " + std::to_string(max_dy));
  return Transform([=](const Tensor& image, Rng& rng) {
    Planes p = planes_of(image, "random_affine_shift");
    int64_t dx = int64_t(uniform_below(rng, uint64_t(2 * max_dx + 1))) - max_dx;
    int64_t dy = int64_t(uniform_below(rng, uint64_t(2 * max_dy + 1))) - max_dy;
    // Shifting content right by dx reads the source window starting dx to the left.
    return window(image, -dy, -dx, p.height, p.width, "random_affine_shift");
  });
}

Tensor resize_bilinear(const Tensor& image, int64_t height, int64_t width) {
  Planes p = planes_of(image, "resize");
  if (height <= 0 || width <= 0)
    throw ValueError("[resize] needs a positive size, got " + std::to_string(height) + "x" +
                     std::to_string(width));
  if (image.dtype() != float32)
    throw DTypeError("[resize] expects a float32 image, got " +
                     std::string(dtype_name(image.dtype())) + " (apply to_float first)");
  if (p.height == 0 || p.width == 0)
    throw ShapeError("[resize] cannot resize an empty image of shape " + shape_str(image.shape()));
  // Source coordinate of output pixel i: (i + 0.5) * in / out - 0.5, clamped to the image.
  struct Tap {
    int64_t i0, i1;
    float w1;
  };
  auto taps = [](int64_t in, int64_t out) {
    std::vector<Tap> t(static_cast<size_t>(out));
    double scale = double(in) / double(out);
    for (int64_t i = 0; i < out; ++i) {
      double src = std::max(0.0, (double(i) + 0.5) * scale - 0.5);
      auto i0 = std::min(int64_t(src), in - 1);
      t[size_t(i)] = {i0, std::min(i0 + 1, in - 1), float(src - double(i0))};
    }
    return t;
  };
  std::vector<Tap> ty = taps(p.height, height), tx = taps(p.width, width);
  Tensor src = image.contiguous();
  Shape out_shape = image.ndim() == 2 ? Shape{height, width} : Shape{p.channels, height, width};
  Tensor out = empty(out_shape, float32);
  const float* in = src.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t c = 0; c < p.channels; ++c)
    for (int64_t y = 0; y < height; ++y) {
      const float* r0 = in + (c * p.height + ty[size_t(y)].i0) * p.width;
      const float* r1 = in + (c * p.height + ty[size_t(y)].i1) * p.width;
      float wy = ty[size_t(y)].w1;
      float* dst = o + (c * height + y) * width;
      for (int64_t x = 0; x < width; ++x) {
        const Tap& t = tx[size_t(x)];
        float top = r0[t.i0] + (r0[t.i1] - r0[t.i0]) * t.w1;
        float bottom = r1[t.i0] + (r1[t.i1] - r1[t.i0]) * t.w1;
        dst[x] = top + (bottom - top) * wy;
      }
    }
  return out;
}

Transform resize(int64_t height, int64_t width) {
  if (height <= 0 || width <= 0)
    throw ValueError("[resize] needs a positive size, got " + std::to_string(height) + "x" +
                     std::to_string(width));
  return Transform(
      [=](const Tensor& image, Rng&) { return resize_bilinear(image, height, width); });
}

Transform to_float() {
  return Transform([](const Tensor& image, Rng&) {
    if (!image.defined()) throw ValueError("[to_float] got an undefined tensor");
    if (is_floating(image.dtype())) return image.astype(float32);
    if (image.dtype() != uint8)
      throw DTypeError("[to_float] expects a uint8 or float image, got " +
                       std::string(dtype_name(image.dtype())));
    Tensor src = image.contiguous();
    Tensor out = empty(image.shape(), float32);
    const uint8_t* in = src.data_ptr<uint8_t>();
    float* o = out.data_ptr<float>();
    for (int64_t i = 0, n = image.numel(); i < n; ++i) o[i] = float(in[i]) / 255.0f;
    return out;
  });
}

Transform compose(std::vector<Transform> transforms) {
  return Transform([ts = std::move(transforms)](const Tensor& image, Rng& rng) {
    Tensor x = image;
    for (const Transform& t : ts) x = t(x, rng);
    return x;
  });
}

}  // namespace nabla::data
