// Image transforms for data augmentation. Images are HW or CHW tensors; crop, flip and shift
// work on any dtype, normalize on float32/float64, to_float on uint8.
//
// Randomness: every transform takes the generator it draws from, `t(image, rng)`. Transforms
// also hold a generator of their own (seeded at construction) for the one-argument call
// `t(image)`, which is therefore not thread-safe; TransformDataset passes a per-example
// generator instead, which is. Draws use the generator's raw 64-bit output (never the
// implementation-defined std:: distributions), so results match across platforms.
#pragma once
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::data {

using Rng = std::mt19937_64;

class Transform {
 public:
  using Fn = std::function<Tensor(const Tensor&, Rng&)>;
  Transform() = default;
  explicit Transform(Fn fn, uint64_t seed = 0) : fn_(std::move(fn)), rng_(seed) {}

  Tensor operator()(const Tensor& image, Rng& rng) const { return fn_ ? fn_(image, rng) : image; }
  Tensor operator()(const Tensor& image) { return (*this)(image, rng_); }
  void seed(uint64_t s) { rng_.seed(s); }
  explicit operator bool() const { return bool(fn_); }

 private:
  Fn fn_;
  Rng rng_;
};

// (x - mean[c]) / std[c] per channel; one value applies to all channels (and to HW images).
Transform normalize(std::vector<double> mean, std::vector<double> std);
// Pads each side with `padding` zeros, then crops a random height x width window.
Transform random_crop(int64_t size, int64_t padding = 0);
Transform random_crop(int64_t height, int64_t width, int64_t padding);
// Mirrors left-right with probability p.
Transform random_horizontal_flip(double p = 0.5);
// Translates by whole pixels dx in [-max_dx, max_dx], dy in [-max_dy, max_dy]; uncovered
// pixels become zero.
Transform random_affine_shift(int64_t max_dx, int64_t max_dy);
// Bilinear resize of a float32 HW or CHW image to height x width, sampling at pixel centres
// (PyTorch's interpolate(mode="bilinear", align_corners=False), without antialiasing).
Tensor resize_bilinear(const Tensor& image, int64_t height, int64_t width);
Transform resize(int64_t height, int64_t width);
// uint8 -> float32 scaled to [0, 1]; float images are converted to float32 unscaled.
Transform to_float();
// Applies the transforms in order, all drawing from the same generator.
Transform compose(std::vector<Transform> transforms);

// Random draws shared by the transforms (and DataLoader's shuffle).
// Uniform integer in [0, n) without modulo bias (Lemire's method).
uint64_t uniform_below(Rng& rng, uint64_t n);
// Uniform double in [0, 1) from the top 53 bits.
double uniform_unit(Rng& rng);
// A 64-bit mix used to derive independent seeds (splitmix64's finaliser).
uint64_t mix_seed(uint64_t x);

}  // namespace nabla::data
