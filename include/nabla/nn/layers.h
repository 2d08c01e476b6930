// Layers. Defaults (initialisation included) follow torch.nn, so weights move between the
// two and training behaves the same.
#pragma once
#include <string>

#include "nabla/nn/module.h"
#include "nabla/ops/upsample.h"

namespace nabla::nn {

// y = x W^T + b; W is (out, in).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in_, out_;
};

// y = x1^T A x2 + b for each pair of rows: y[..., o] = sum_ij x1[..., i] A[o, i, j] x2[..., j] + b[o].
// weight A is (out, in1, in2); x1 (*, in1) and x2 (*, in2) share their leading dims.
// Initialised as torch.nn.Bilinear: weight and bias uniform(-1/sqrt(in1), 1/sqrt(in1)).
class Bilinear : public Module {
 public:
  Bilinear(int64_t in1_features, int64_t in2_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x1, const Tensor& x2);
  Tensor operator()(const Tensor& x1, const Tensor& x2) {
    CallScope scope(*this);
    return scope.done(forward(x1, x2));
  }
  // A Bilinear layer needs two inputs: ValueError (call forward(x1, x2)).
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in1_, in2_, out_;
};

struct ConvOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  bool same = false;  // pad so the output keeps the input's size (stride 1)
};

// Input (N, C, L); weight (out, in/groups, k).
class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in_, out_, k_;
  ConvOptions o_;
};

// Input (N, C, H, W); weight (out, in/groups, k, k).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in_, out_, k_;
  ConvOptions o_;
};

// Input (N, C, D, H, W); weight (out, in/groups, k, k, k).
class Conv3d : public Module {
 public:
  Conv3d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in_, out_, k_;
  ConvOptions o_;
};

struct ConvTransposeOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t output_padding = 0;  // smaller than the stride or the dilation
  int64_t groups = 1;
  int64_t dilation = 1;
  bool bias = true;
};

// Input (N, C, L); weight (in, out/groups, k), as torch.nn.ConvTranspose1d.
class ConvTranspose1d : public Module {
 public:
  ConvTranspose1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                  ConvTransposeOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in_, out_, k_;
  ConvTransposeOptions o_;
};

// Input (N, C, H, W); weight (in, out/groups, k, k), as torch.nn.ConvTranspose2d.
class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                  ConvTransposeOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  Tensor weight, bias;

 private:
  int64_t in_, out_, k_;
  ConvTransposeOptions o_;
};

// stride defaults to the kernel size.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t k_, s_, p_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t k_, s_, p_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Shape output_size);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  Shape size_;
};

// Pools over (N, C, L) and (N, C, D, H, W) inputs; one kernel size, stride (0: the kernel)
// and padding for every dim, as for the 2-d pools.
class MaxPool1d : public Module {
 public:
  explicit MaxPool1d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t k_, s_, p_;
};

class MaxPool3d : public Module {
 public:
  explicit MaxPool3d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t k_, s_, p_;
};

class AvgPool1d : public Module {
 public:
  explicit AvgPool1d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0,
                     bool count_include_pad = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t k_, s_, p_;
  bool include_pad_;
};

class AvgPool3d : public Module {
 public:
  explicit AvgPool3d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0,
                     bool count_include_pad = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t k_, s_, p_;
  bool include_pad_;
};

class AdaptiveAvgPool1d : public Module {
 public:
  explicit AdaptiveAvgPool1d(int64_t output_size);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t size_;
};

class AdaptiveMaxPool1d : public Module {
 public:
  explicit AdaptiveMaxPool1d(int64_t output_size);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  int64_t size_;
};

class AdaptiveMaxPool2d : public Module {
 public:
  explicit AdaptiveMaxPool2d(Shape output_size);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  Shape size_;
};

// Resizes by a size or a scale factor (nabla/ops/upsample.h), like torch.nn.Upsample. mode:
// "nearest" (any layout), "linear" (N, C, L), "bilinear" (N, C, H, W) or "trilinear"
// (N, C, D, H, W). Example: nn::Upsample({.scale_factor = {2}}, "bilinear").
class Upsample : public Module {
 public:
  explicit Upsample(UpsampleOptions options, std::string mode = "nearest");
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  UpsampleOptions o_;
  std::string mode_;
};

// Flattens dims start..end (default: all but the batch dim).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1) : start_(start_dim), end_(end_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_, end_); }
  std::string describe() const override { return "Flatten"; }

 private:
  int64_t start_, end_;
};

// Splits dim into `sizes`.
class Unflatten : public Module {
 public:
  Unflatten(int64_t dim, Shape sizes) : dim_(dim), sizes_(std::move(sizes)) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Unflatten"; }

 private:
  int64_t dim_;
  Shape sizes_;
};

// Zeroes elements with probability p in training and scales the rest by 1/(1-p).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  double p_;
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "Identity"; }
};

// A lookup table of num_embeddings vectors; input: int64 indices of any shape.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim);
  Tensor forward(const Tensor& indices) override;
  std::string describe() const override;
  Tensor weight;
};

// Activations as modules.
#define NABLA_ACTIVATION_MODULE(Name)            \
  class Name : public Module {                   \
   public:                                       \
    Tensor forward(const Tensor& x) override;    \
    std::string describe() const override { return #Name; } \
  };
NABLA_ACTIVATION_MODULE(ReLU)
NABLA_ACTIVATION_MODULE(Sigmoid)
NABLA_ACTIVATION_MODULE(Tanh)
NABLA_ACTIVATION_MODULE(SELU)
NABLA_ACTIVATION_MODULE(SiLU)
NABLA_ACTIVATION_MODULE(Mish)
#undef NABLA_ACTIVATION_MODULE

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "LeakyReLU"; }

 private:
  double slope_;
};
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ELU"; }

 private:
  double alpha_;
};
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none") : approximate_(std::move(approximate)) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "GELU"; }

 private:
  std::string approximate_;
};
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1, double threshold = 20) : beta_(beta), threshold_(threshold) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Softplus"; }

 private:
  double beta_, threshold_;
};
class Hardtanh : public Module {
 public:
  explicit Hardtanh(double min_val = -1, double max_val = 1) : lo_(min_val), hi_(max_val) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Hardtanh"; }

 private:
  double lo_, hi_;
};
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim = -1) : dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Softmax"; }

 private:
  int64_t dim_;
};
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim = -1) : dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "LogSoftmax"; }

 private:
  int64_t dim_;
};

}  // namespace nabla::nn
