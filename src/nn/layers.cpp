#include "nabla/nn/layers.h"

#include <cmath>
#include <sstream>

#include "nabla/nabla.h"
#include "nabla/nn/init.h"

namespace nabla::nn {
namespace {

std::string dims(std::initializer_list<std::pair<const char*, int64_t>> kv) {
  std::string s;
  for (auto& [k, v] : kv) s += (s.empty() ? "" : ", ") + std::string(k) + "=" + std::to_string(v);
  return s;
}

void check_positive(const char* layer, std::initializer_list<std::pair<const char*, int64_t>> kv) {
  for (auto& [k, v] : kv)
    if (v <= 0)
      throw ValueError(std::string("[") + layer + "] " + k + " must be positive, got " +
                       std::to_string(v));
}

// torch's default for Linear and Conv: kaiming_uniform(a=sqrt(5)) for the weight, and
// uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias.
void default_init(Tensor& w, Tensor& b) {
  init::kaiming_uniform_(w, std::sqrt(5.0));
  if (b.defined()) {
    double bound = 1 / std::sqrt(double(init::fans(w).first));
    init::uniform_(b, -bound, bound);
  }
}

}  // namespace

Linear::Linear(int64_t in, int64_t out, bool with_bias) : in_(in), out_(out) {
  check_positive("Linear", {{"in_features", in}, {"out_features", out}});
  weight = register_parameter("weight", empty({out, in}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}

Tensor Linear::forward(const Tensor& x) {
  if (x.ndim() == 0 || x.size(-1) != in_)
    throw ShapeError("[Linear] expects inputs with last dim " + std::to_string(in_) +
                     ", got shape " + shape_str(x.shape()));
  Tensor y = matmul(x, weight.t());
  return bias.defined() ? y + bias : y;
}
std::string Linear::describe() const {
  return "Linear(" + dims({{"in", in_}, {"out", out_}}) + ")";
}

Bilinear::Bilinear(int64_t in1, int64_t in2, int64_t out, bool with_bias)
    : in1_(in1), in2_(in2), out_(out) {
  check_positive("Bilinear", {{"in1_features", in1}, {"in2_features", in2}, {"out_features", out}});
  weight = register_parameter("weight", empty({out, in1, in2}));
  double bound = 1 / std::sqrt(double(in1));
  init::uniform_(weight, -bound, bound);
  if (with_bias) {
    bias = register_parameter("bias", empty({out}));
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Bilinear::forward(const Tensor& x1, const Tensor& x2) {
  auto lead = [](const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 1); };
  if (x1.ndim() == 0 || x2.ndim() == 0 || x1.size(-1) != in1_ || x2.size(-1) != in2_ ||
      lead(x1) != lead(x2))
    throw ShapeError("[Bilinear] expects inputs (*, " + std::to_string(in1_) + ") and (*, " +
                     std::to_string(in2_) + ") with the same leading dims, got " +
                     shape_str(x1.shape()) + " and " + shape_str(x2.shape()));
  Shape out_shape = lead(x1);
  out_shape.push_back(out_);
  Tensor a = x1.reshape({-1, in1_}), b = x2.reshape({-1, in2_});
  // (n, in2) x (in2, out*in1) -> (n, out, in1): A viewed as (out*in1, in2) needs no copy;
  // then the dot product with x1 along in1.
  Tensor ax2 = matmul(b, weight.reshape({out_ * in1_, in2_}).t()).reshape({-1, out_, in1_});
  Tensor y = sum(ax2 * a.unsqueeze(1), {2});
  if (bias.defined()) y = y + bias;
  return y.reshape(out_shape);
}
Tensor Bilinear::forward(const Tensor&) {
  throw ValueError("[Bilinear] takes two inputs: call forward(x1, x2)");
}
std::string Bilinear::describe() const {
  return "Bilinear(" + dims({{"in1", in1_}, {"in2", in2_}, {"out", out_}}) + ")";
}

Conv1d::Conv1d(int64_t in, int64_t out, int64_t k, ConvOptions o)
    : in_(in), out_(out), k_(k), o_(o) {
  check_positive(
      "Conv1d",
      {{"in_channels", in}, {"out_channels", out}, {"kernel_size", k}, {"groups", o.groups}});
  if (in % o.groups || out % o.groups)
    throw ValueError("[Conv1d] channels must be divisible by groups=" + std::to_string(o.groups));
  weight = register_parameter("weight", empty({out, in / o.groups, k}));
  if (o.bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}
Tensor Conv1d::forward(const Tensor& x) {
  return conv1d(x, weight, bias,
                {.stride = o_.stride,
                 .padding = o_.padding,
                 .dilation = o_.dilation,
                 .groups = o_.groups,
                 .same = o_.same});
}
std::string Conv1d::describe() const {
  return "Conv1d(" + dims({{"in", in_}, {"out", out_}, {"k", k_}}) + ")";
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, ConvOptions o)
    : in_(in), out_(out), k_(k), o_(o) {
  check_positive(
      "Conv2d",
      {{"in_channels", in}, {"out_channels", out}, {"kernel_size", k}, {"groups", o.groups}});
  if (in % o.groups || out % o.groups)
    throw ValueError("[Conv2d] channels must be divisible by groups=" + std::to_string(o.groups));
  weight = register_parameter("weight", empty({out, in / o.groups, k, k}));
  if (o.bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}
Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, weight, bias,
                {.stride = {o_.stride, o_.stride},
                 .padding = {o_.padding, o_.padding},
                 .dilation = {o_.dilation, o_.dilation},
                 .groups = o_.groups,
                 .same = o_.same});
}
std::string Conv2d::describe() const {
  return "Conv2d(" + dims({{"in", in_}, {"out", out_}, {"k", k_}}) + ")";
}

Conv3d::Conv3d(int64_t in, int64_t out, int64_t k, ConvOptions o)
    : in_(in), out_(out), k_(k), o_(o) {
  check_positive(
      "Conv3d",
      {{"in_channels", in}, {"out_channels", out}, {"kernel_size", k}, {"groups", o.groups}});
  if (in % o.groups || out % o.groups)
    throw ValueError("[Conv3d] channels must be divisible by groups=" + std::to_string(o.groups));
  weight = register_parameter("weight", empty({out, in / o.groups, k, k, k}));
  if (o.bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}
Tensor Conv3d::forward(const Tensor& x) {
  int64_t s = o_.stride, p = o_.padding, d = o_.dilation;
  return conv3d(x, weight, bias,
                {.stride = {s, s, s},
                 .padding = {p, p, p},
                 .dilation = {d, d, d},
                 .groups = o_.groups,
                 .same = o_.same});
}
std::string Conv3d::describe() const {
  return "Conv3d(" + dims({{"in", in_}, {"out", out_}, {"k", k_}}) + ")";
}

// The weight is (in, out / groups, k...), so default_init's fan_in (from dim 1) is PyTorch's.
ConvTranspose1d::ConvTranspose1d(int64_t in, int64_t out, int64_t k, ConvTransposeOptions o)
    : in_(in), out_(out), k_(k), o_(o) {
  check_positive(
      "ConvTranspose1d",
      {{"in_channels", in}, {"out_channels", out}, {"kernel_size", k}, {"groups", o.groups}});
  if (in % o.groups || out % o.groups)
    throw ValueError("[ConvTranspose1d] channels must be divisible by groups=" +
                     std::to_string(o.groups));
  weight = register_parameter("weight", empty({in, out / o.groups, k}));
  if (o.bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}
Tensor ConvTranspose1d::forward(const Tensor& x) {
  return conv_transpose1d(x, weight, bias,
                          {.stride = o_.stride,
                           .padding = o_.padding,
                           .output_padding = o_.output_padding,
                           .groups = o_.groups,
                           .dilation = o_.dilation});
}
std::string ConvTranspose1d::describe() const {
  return "ConvTranspose1d(" + dims({{"in", in_}, {"out", out_}, {"k", k_}}) + ")";
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, int64_t k, ConvTransposeOptions o)
    : in_(in), out_(out), k_(k), o_(o) {
  check_positive(
      "ConvTranspose2d",
      {{"in_channels", in}, {"out_channels", out}, {"kernel_size", k}, {"groups", o.groups}});
  if (in % o.groups || out % o.groups)
    throw ValueError("[ConvTranspose2d] channels must be divisible by groups=" +
                     std::to_string(o.groups));
  weight = register_parameter("weight", empty({in, out / o.groups, k, k}));
  if (o.bias) bias = register_parameter("bias", empty({out}));
  default_init(weight, bias);
}
Tensor ConvTranspose2d::forward(const Tensor& x) {
  int64_t s = o_.stride, p = o_.padding, op = o_.output_padding, d = o_.dilation;
  return conv_transpose2d(x, weight, bias,
                          {.stride = {s, s},
                           .padding = {p, p},
                           .output_padding = {op, op},
                           .groups = o_.groups,
                           .dilation = {d, d}});
}
std::string ConvTranspose2d::describe() const {
  return "ConvTranspose2d(" + dims({{"in", in_}, {"out", out_}, {"k", k_}}) + ")";
}

MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p) : k_(k), s_(s ? s : k), p_(p) {
  check_positive("MaxPool2d", {{"kernel_size", k}});
}
Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, {k_, k_}, {s_, s_}, {p_, p_}); }
std::string MaxPool2d::describe() const {
  return "MaxPool2d(" + dims({{"k", k_}, {"stride", s_}}) + ")";
}

AvgPool2d::AvgPool2d(int64_t k, int64_t s, int64_t p) : k_(k), s_(s ? s : k), p_(p) {
  check_positive("AvgPool2d", {{"kernel_size", k}});
}
Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, {k_, k_}, {s_, s_}, {p_, p_}); }
std::string AvgPool2d::describe() const {
  return "AvgPool2d(" + dims({{"k", k_}, {"stride", s_}}) + ")";
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Shape size) : size_(std::move(size)) {}
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, size_); }
std::string AdaptiveAvgPool2d::describe() const { return "AdaptiveAvgPool2d" + shape_str(size_); }

MaxPool1d::MaxPool1d(int64_t k, int64_t s, int64_t p) : k_(k), s_(s ? s : k), p_(p) {
  check_positive("MaxPool1d", {{"kernel_size", k}});
}
Tensor MaxPool1d::forward(const Tensor& x) { return max_pool1d(x, k_, s_, p_); }
std::string MaxPool1d::describe() const {
  return "MaxPool1d(" + dims({{"k", k_}, {"stride", s_}}) + ")";
}

MaxPool3d::MaxPool3d(int64_t k, int64_t s, int64_t p) : k_(k), s_(s ? s : k), p_(p) {
  check_positive("MaxPool3d", {{"kernel_size", k}});
}
Tensor MaxPool3d::forward(const Tensor& x) { return max_pool3d(x, {k_}, {s_}, {p_}); }
std::string MaxPool3d::describe() const {
  return "MaxPool3d(" + dims({{"k", k_}, {"stride", s_}}) + ")";
}

AvgPool1d::AvgPool1d(int64_t k, int64_t s, int64_t p, bool include_pad)
    : k_(k), s_(s ? s : k), p_(p), include_pad_(include_pad) {
  check_positive("AvgPool1d", {{"kernel_size", k}});
}
Tensor AvgPool1d::forward(const Tensor& x) { return avg_pool1d(x, k_, s_, p_, include_pad_); }
std::string AvgPool1d::describe() const {
  return "AvgPool1d(" + dims({{"k", k_}, {"stride", s_}}) + ")";
}

AvgPool3d::AvgPool3d(int64_t k, int64_t s, int64_t p, bool include_pad)
    : k_(k), s_(s ? s : k), p_(p), include_pad_(include_pad) {
  check_positive("AvgPool3d", {{"kernel_size", k}});
}
Tensor AvgPool3d::forward(const Tensor& x) { return avg_pool3d(x, {k_}, {s_}, {p_}, include_pad_); }
std::string AvgPool3d::describe() const {
  return "AvgPool3d(" + dims({{"k", k_}, {"stride", s_}}) + ")";
}

AdaptiveAvgPool1d::AdaptiveAvgPool1d(int64_t size) : size_(size) {
  check_positive("AdaptiveAvgPool1d", {{"output_size", size}});
}
Tensor AdaptiveAvgPool1d::forward(const Tensor& x) { return adaptive_avg_pool1d(x, size_); }
std::string AdaptiveAvgPool1d::describe() const {
  return "AdaptiveAvgPool1d(" + std::to_string(size_) + ")";
}

AdaptiveMaxPool1d::AdaptiveMaxPool1d(int64_t size) : size_(size) {
  check_positive("AdaptiveMaxPool1d", {{"output_size", size}});
}
Tensor AdaptiveMaxPool1d::forward(const Tensor& x) { return adaptive_max_pool1d(x, size_); }
std::string AdaptiveMaxPool1d::describe() const {
  return "AdaptiveMaxPool1d(" + std::to_string(size_) + ")";
}

AdaptiveMaxPool2d::AdaptiveMaxPool2d(Shape size) : size_(std::move(size)) {}
Tensor AdaptiveMaxPool2d::forward(const Tensor& x) { return adaptive_max_pool2d(x, size_); }
std::string AdaptiveMaxPool2d::describe() const { return "AdaptiveMaxPool2d" + shape_str(size_); }

Upsample::Upsample(UpsampleOptions o, std::string mode) : o_(std::move(o)), mode_(std::move(mode)) {
  if (mode_ != "nearest" && mode_ != "linear" && mode_ != "bilinear" && mode_ != "trilinear")
    throw ValueError("[Upsample] mode must be nearest, linear, bilinear or trilinear, got '" +
                     mode_ + "'");
  if (o_.size.empty() == o_.scale_factor.empty())
    throw ValueError("[Upsample] give either size or scale_factor");
  if (o_.align_corners && mode_ == "nearest")
    throw ValueError("[Upsample] align_corners applies to the linear modes only");
}
Tensor Upsample::forward(const Tensor& x) {
  if (mode_ == "nearest") return upsample_nearest(x, o_);
  if (mode_ == "linear") return upsample_linear(x, o_);
  if (mode_ == "bilinear") return upsample_bilinear(x, o_);
  return upsample_trilinear(x, o_);
}
std::string Upsample::describe() const {
  std::string by;
  if (!o_.size.empty()) {
    by = "size=" + shape_str(o_.size);
  } else {
    for (double v : o_.scale_factor) {
      std::ostringstream e;
      e << v;
      by += (by.empty() ? "" : ", ") + e.str();
    }
    by = "scale_factor=" + (o_.scale_factor.size() == 1 ? by : "(" + by + ")");
  }
  return "Upsample(" + by + ", mode=" + mode_ + (o_.align_corners ? ", align_corners" : "") + ")";
}

Tensor Unflatten::forward(const Tensor& x) {
  int64_t d = normalize_axis(dim_, x.ndim(), "Unflatten");
  Shape s;
  for (int64_t i = 0; i < x.ndim(); ++i) {
    if (i == d) {
      for (int64_t v : sizes_) s.push_back(v);
    } else {
      s.push_back(x.size(i));
    }
  }
  return x.reshape(s);
}

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0 && p < 1))
    throw ValueError("[Dropout] p must be in [0, 1), got " + std::to_string(p));
}
Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p_ == 0) return x;
  // A placeholder's dynamic (-1) dim has no size yet: draw the mask from a tensor of keep
  // probabilities shaped like x, sized when the graph runs.
  Tensor keep = is_dynamic(x.shape()) ? bernoulli(full_like(x, 1 - p_))
                                      : bernoulli(1 - p_, x.shape(), x.dtype());
  return x * keep * (1 / (1 - p_));
}
std::string Dropout::describe() const {
  return "Dropout(p=" + std::to_string(p_).substr(0, 4) + ")";
}

Embedding::Embedding(int64_t n, int64_t dim) {
  check_positive("Embedding", {{"num_embeddings", n}, {"embedding_dim", dim}});
  weight = register_parameter("weight", empty({n, dim}));
  init::normal_(weight);
}
Tensor Embedding::forward(const Tensor& idx) {
  if (is_floating(idx.dtype()) || idx.dtype() == bool_)
    throw DTypeError("[Embedding] indices must be integers, got " +
                     std::string(dtype_name(idx.dtype())));
  Tensor flat = index_select(weight, 0, idx.reshape({-1}));
  Shape s = idx.shape();
  s.push_back(weight.size(1));
  return flat.reshape(s);
}
std::string Embedding::describe() const {
  return "Embedding(" + dims({{"n", weight.size(0)}, {"dim", weight.size(1)}}) + ")";
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor SELU::forward(const Tensor& x) { return selu(x); }
Tensor SiLU::forward(const Tensor& x) { return silu(x); }
Tensor Mish::forward(const Tensor& x) { return mish(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, slope_); }
Tensor ELU::forward(const Tensor& x) { return elu(x, alpha_); }
Tensor GELU::forward(const Tensor& x) { return gelu(x, approximate_); }
Tensor Softplus::forward(const Tensor& x) { return softplus(x, beta_, threshold_); }
Tensor Hardtanh::forward(const Tensor& x) { return hardtanh(x, lo_, hi_); }
Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim_); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim_); }

}  // namespace nabla::nn
