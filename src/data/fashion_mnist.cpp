// Fashion-MNIST (and MNIST) from the IDX files of a directory.
#include <filesystem>

#include "nabla/data/idx.h"
#include "nabla/ops/creation.h"

namespace nabla::data {
namespace {

namespace fs = std::filesystem;

// The gzip'd file, or the plain one when only that exists.
std::string find_file(const std::string& dir, const std::string& stem) {
  fs::path gz = fs::path(dir) / (stem + ".gz"), plain = fs::path(dir) / stem;
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz.string();
  if (fs::exists(plain, ec)) return plain.string();
  throw IOError("Fashion-MNIST: " + dir + ": neither " + stem + ".gz nor " + stem +
                " exists (on Debian, install the package dataset-fashion-mnist)");
}

TensorDataset load(const std::string& dir, bool train) {
  std::string prefix = train ? "train" : "t10k";
  std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  Tensor images = read_idx(images_path);
  Tensor labels = read_idx(labels_path);
  if (images.dtype() != uint8 || images.ndim() != 3)
    throw IOError("Fashion-MNIST: " + images_path + ": expected uint8 images (N, H, W), got " +
                  std::string(dtype_name(images.dtype())) + " " + shape_str(images.shape()));
  if (labels.dtype() != uint8 || labels.ndim() != 1)
    throw IOError("Fashion-MNIST: " + labels_path + ": expected uint8 labels (N), got " +
                  std::string(dtype_name(labels.dtype())) + " " + shape_str(labels.shape()));
  int64_t n = images.size(0), h = images.size(1), w = images.size(2);
  if (labels.size(0) != n)
    throw IOError("Fashion-MNIST: " + images_path + " has " + std::to_string(n) + " images but " +
                  labels_path + " has " + std::to_string(labels.size(0)) + " labels");

  Tensor x = empty({n, 1, h, w}, float32);
  const uint8_t* in = images.data_ptr<uint8_t>();
  float* out = x.data_ptr<float>();
  for (int64_t i = 0, total = n * h * w; i < total; ++i) out[i] = float(in[i]) / 255.0f;

  Tensor y = empty({n}, int64);
  const uint8_t* l = labels.data_ptr<uint8_t>();
  int64_t* yo = y.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (l[i] >= FashionMNIST::kClasses.size())
      throw IOError("Fashion-MNIST: " + labels_path + ": label " + std::to_string(l[i]) +
                    " of example " + std::to_string(i) + " is not a class in 0..9");
    yo[i] = l[i];
  }
  return TensorDataset(x, y);
}

}  // namespace

FashionMNIST::FashionMNIST(const std::string& dir, bool train) : TensorDataset(load(dir, train)) {}

}  // namespace nabla::data
