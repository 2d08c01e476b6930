// Reading a PNG/JPEG/BMP image (stb_image) as a float32 (1, C, H, W) batch in [0, 1].
#pragma once
#include <string>

#include "nabla/tensor.h"

namespace nabla::cli {

// `channels`: 1 (grey) or 3 (RGB), converted as needed. IOError naming the file.
Tensor read_image(const std::string& path, int channels);

bool is_image_file(const std::string& path);

}  // namespace nabla::cli
