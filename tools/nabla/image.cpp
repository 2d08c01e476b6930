#include "image.h"

#include <algorithm>
#include <cctype>
#include <vector>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#include <stb/stb_image.h>

#include "nabla/error.h"
#include "nabla/ops/creation.h"

namespace nabla::cli {

bool is_image_file(const std::string& path) {
  std::string ext = path.substr(
      path.find_last_of('.') == std::string::npos ? path.size() : path.find_last_of('.'));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

Tensor read_image(const std::string& path, int channels) {
  if (channels != 1 && channels != 3)
    throw ValueError(path + ": the model expects " + std::to_string(channels) +
                     " channels; images have 1 or 3");
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &n, channels);
  if (!pixels) throw IOError(path + ": cannot read the image: " + stbi_failure_reason());
  std::vector<float> chw(std::size_t(channels) * std::size_t(w) * std::size_t(h));
  for (int c = 0; c < channels; ++c)
    for (int i = 0; i < w * h; ++i)
      chw[std::size_t(c) * std::size_t(w * h) + std::size_t(i)] =
          float(pixels[std::size_t(i) * std::size_t(channels) + std::size_t(c)]) / 255.f;
  stbi_image_free(pixels);
  return tensor(chw, {1, channels, h, w});
}

}  // namespace nabla::cli
