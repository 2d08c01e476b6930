// Input corruption for denoising autoencoders (Vincent et al. 2010), as functions on tensors
// of any shape (one image or a batch) and as data transforms (nabla/data/transforms.h).
// Float32/float64 input; the result is a new tensor of the same shape and dtype. Draws come
// from the generator passed in, so corruption is reproducible.
#pragma once
#include "nabla/data/transforms.h"

namespace nabla::data {

// x + N(0, std^2) noise per element; with clip, the result is clamped to [lo, hi].
struct GaussianNoiseOptions {
  bool clip = false;
  double lo = 0, hi = 1;
};
Tensor add_gaussian_noise(const Tensor& x, double std, Rng& rng, GaussianNoiseOptions options = {});
// Sets round(fraction * numel) elements, chosen uniformly without replacement, to zero.
Tensor mask_noise(const Tensor& x, double fraction, Rng& rng);
// Sets round(fraction * numel) elements, chosen uniformly without replacement, to lo or hi
// with probability 1/2 each.
Tensor salt_and_pepper(const Tensor& x, double fraction, Rng& rng, double lo = 0, double hi = 1);

// The same as transforms. Throw ValueError for std < 0 or a fraction outside [0, 1].
Transform gaussian_noise(double std, GaussianNoiseOptions options = {});
Transform masking_noise(double fraction);
Transform salt_and_pepper_noise(double fraction, double lo = 0, double hi = 1);

}  // namespace nabla::data
