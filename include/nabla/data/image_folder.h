// Images on disk: read_image and ImageFolder (root/<class>/<image>, like torchvision's).
//
//   nd::ImageFolder pets("pets/train", {.size = {64, 64}});
//   auto [image, label] = pets.get(0);   // float32 (3, 64, 64) in [0, 1], int64 0-d
//   pets.classes();                       // {"cat", "dog"}: sorted folder names
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nabla/data/dataset.h"

namespace nabla::data {

struct ImageOptions {
  bool grayscale = false;  // 1 channel (luma); otherwise 3 (RGB; alpha is dropped)
  // Resize every image to {height, width} (bilinear); {0, 0} keeps each image's own size.
  std::pair<int64_t, int64_t> size = {0, 0};
  // Larger images are refused before decoding (a corrupt or hostile header must not allocate
  // gigabytes); PIL's default limit is of the same order.
  int64_t max_pixels = int64_t(1) << 27;
};

// Decodes a PNG, JPEG or BMP file (recognised by its first bytes, whatever its name) into
// float32 (C, H, W) in [0, 1]. IOError naming the file when it is missing, not an image, corrupt,
// or larger than options.max_pixels.
Tensor read_image(const std::string& path, const ImageOptions& options = {});

struct ImageFolderOptions {
  ImageOptions image;
  // File extensions taken as images (compared case-insensitively); other files are skipped.
  std::vector<std::string> extensions = {".png", ".jpg", ".jpeg", ".bmp"};
};

// Class k is the k-th subfolder of `root` in name order; its images are the files with a
// listed extension (in name order, subfolders included). Images are decoded in get(), which
// is thread-safe. IOError when root is not a folder, has no class subfolders, or a class
// folder holds no image; get() raises read_image's IOError for a bad file.
class ImageFolder : public Dataset {
 public:
  explicit ImageFolder(const std::string& root, const ImageFolderOptions& options = {});
  int64_t size() const override { return int64_t(samples_.size()); }
  Example get(int64_t index) const override;  // (C, H, W) float32, int64 0-d class index

  const std::vector<std::string>& classes() const { return classes_; }
  // (path, class index) of every image, in the order of get().
  const std::vector<std::pair<std::string, int64_t>>& samples() const { return samples_; }

 private:
  std::vector<std::string> classes_;
  std::vector<std::pair<std::string, int64_t>> samples_;
  ImageOptions options_;
};

}  // namespace nabla::data
