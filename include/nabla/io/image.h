// Writing images: single images and grids of samples as PNG (through stb_image_write).
// Used to look at generated samples, reconstructions and learned filters.
#pragma once
#include <cstdint>
#include <string>

#include "nabla/tensor.h"

namespace nabla::io {

// Writes one image as PNG, atomically. `image` is (H, W), (C, H, W) or (H, W, C) when
// `channels_last`, with C = 1, 3 or 4. uint8 values are written as they are; floating values
// are taken as [0, 1] and clamped (NaN becomes 0). Throws ShapeError/DTypeError naming the
// function and shape, IOError naming the file.
void write_png(const Tensor& image, const std::string& path, bool channels_last = false);

struct ImageGridOptions {
  int64_t columns = 8;     // images per row; rows follow from the count
  int64_t padding = 2;     // pixels between images and around the grid
  double pad_value = 0.0;  // in [0, 1]
  // Rescales each image to [0, 1] by its own min and max (torchvision's normalize with
  // scale_each): for weights and filters, whose values are not intensities.
  bool normalize_each = false;
};

// Tiles a batch (N, H, W) or (N, C, H, W) (C = 1 or 3) of floating images with values in
// [0, 1] (or any range with normalize_each) into one PNG, like torchvision's save_image.
void save_image_grid(const Tensor& images, const std::string& path,
                     const ImageGridOptions& options = {});

// The grid as a (C, H', W') float32 tensor in [0, 1], what save_image_grid writes.
Tensor make_image_grid(const Tensor& images, const ImageGridOptions& options = {});

}  // namespace nabla::io
