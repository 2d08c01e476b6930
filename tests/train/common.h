// Small models and data sets for the training tests (the layer library is not used here).
#pragma once
#include <nabla/nabla.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace train_test {
namespace nb = nabla;

// y = x W + b.
class Affine : public nb::nn::Module {
 public:
  Affine(int64_t in, int64_t out) {
    w_ = register_parameter("weight", nb::randn({in, out}) * 0.1);
    b_ = register_parameter("bias", nb::zeros({out}));
  }
  nb::Tensor forward(const nb::Tensor& x) override { return nb::matmul(x, w_) + b_; }
  std::string describe() const override { return "Affine"; }

 private:
  nb::Tensor w_, b_;
};

inline nb::Tensor mse(const nb::Tensor& y, const nb::Tensor& t) {
  return ((y - t) * (y - t)).mean();
}

// n points in the plane in `classes` classes split by the angle around the origin: linearly
// separable for 2 classes, nearly so for 3. Targets are one-hot rows (float32).
struct Problem {
  nb::Tensor inputs, one_hot;
  std::vector<int64_t> labels;
};
inline Problem make_problem(int64_t n, int64_t classes, uint64_t seed) {
  nb::manual_seed(seed);
  Problem p;
  p.inputs = nb::randn({n, 2});
  const std::vector<float> x = p.inputs.to_vector<float>();
  std::vector<float> hot(n * classes, 0.f);
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::atan2(x[2 * i + 1], x[2 * i]) + M_PI;  // [0, 2 pi]
    const int64_t c = classes == 2
                          ? (x[2 * i] + x[2 * i + 1] > 0)
                          : std::min<int64_t>(classes - 1, int64_t(a / (2 * M_PI) * classes));
    p.labels.push_back(c);
    hot[i * classes + c] = 1.f;
  }
  p.one_hot = nb::tensor(hot, {n, classes});
  return p;
}

// A fresh temporary directory, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("nabla_train_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace train_test
