// IDX files (the MNIST / Fashion-MNIST format) and the Fashion-MNIST dataset.
#pragma once
#include <array>
#include <string>
#include <string_view>

#include "nabla/data/dataset.h"

namespace nabla::data {

// Reads an IDX file, plain or gzip'd (detected by its magic bytes). The tensor has the
// header's dims and its element type: uint8, int8, int32 (int16 is widened), float32 or
// float64. IOError naming the file for a missing file, bad magic, corrupt or truncated
// gzip data, a file shorter than its header says, or trailing bytes.
Tensor read_idx(const std::string& path);

inline constexpr const char* kFashionMNISTDir = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST (or MNIST: the file names are the same): images float32 (N, 1, 28, 28) in
// [0, 1], labels int64 (N). Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from
// `dir`. IOError when files are missing or malformed, or images and labels disagree in count.
class FashionMNIST : public TensorDataset {
 public:
  explicit FashionMNIST(const std::string& dir = kFashionMNISTDir, bool train = true);
  static constexpr std::array<std::string_view, 10> kClasses = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
};

inline FashionMNIST load_fashion_mnist(const std::string& dir = kFashionMNISTDir,
                                       bool train = true) {
  return FashionMNIST(dir, train);
}

}  // namespace nabla::data
