// The Fashion-MNIST benchmark's "2 Conv+pooling" network, trained by examples/fashion_mnist and
// used by examples/gan as the judge of generated images: one definition, so the layer names
// (and therefore saved weights) always agree.
#pragma once
#include <nabla/nn/nn.h>

namespace examples {

inline nabla::nn::Sequential fashion_cnn() {
  namespace nn = nabla::nn;
  return nn::Sequential(nn::Conv2d(1, 32, 5, {.padding = 2}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(32, 64, 5, {.padding = 2}), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Flatten(), nn::Linear(64 * 7 * 7, 1024), nn::ReLU(), nn::Dropout(0.4),
                        nn::Linear(1024, 10));
}

}  // namespace examples
