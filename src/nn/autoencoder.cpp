// Builders of symmetric dense and convolutional autoencoders.
#include "nabla/nn/autoencoder.h"

#include "nabla/error.h"

namespace nabla::nn {
namespace {

std::string join_sizes(const std::vector<int64_t>& sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i) s += '-';
    s += std::to_string(sizes[i]);
  }
  return s;
}

void check_sizes(const std::vector<int64_t>& sizes, const char* op, const char* what) {
  if (sizes.size() < 2)
    throw ValueError(std::string("[") + op + "] needs at least 2 " + what + ", got " +
                     std::to_string(sizes.size()));
  for (int64_t s : sizes)
    if (s < 1)
      throw ValueError(std::string("[") + op + "] " + what + " must be >= 1, got " +
                       join_sizes(sizes));
}

void push_output(Sequential& s, OutputActivation a) {
  switch (a) {
    case OutputActivation::none:
      break;
    case OutputActivation::sigmoid:
      s.push_back(Sigmoid());
      break;
    case OutputActivation::tanh:
      s.push_back(Tanh());
      break;
    case OutputActivation::relu:
      s.push_back(ReLU());
      break;
  }
}

}  // namespace

Autoencoder::Autoencoder(Sequential encoder, Sequential decoder, std::string name, Shape in_shape,
                         int64_t down)
    : name_(std::move(name)), in_shape_(std::move(in_shape)), down_(down) {
  encoder_ = register_module("encoder", std::move(encoder));
  decoder_ = register_module("decoder", std::move(decoder));
}

Tensor Autoencoder::encode(const Tensor& x) {
  if (!x.defined()) throw ValueError("[" + name_ + "] the input is undefined");
  bool ok = x.ndim() == int64_t(in_shape_.size()) + 1;
  for (std::size_t i = 0; ok && i < in_shape_.size(); ++i) {
    int64_t d = x.shape()[i + 1];
    ok = in_shape_[i] > 0 ? d == in_shape_[i] : d > 0 && d % down_ == 0;
  }
  if (!ok) {
    std::string want = "(N";
    for (int64_t d : in_shape_) want += ", " + (d > 0 ? std::to_string(d) : std::string("?"));
    want += ")";
    if (down_ > 1) want += " with height and width divisible by " + std::to_string(down_);
    throw ShapeError("[" + name_ + "] expects input " + want + ", got shape " +
                     shape_str(x.shape()));
  }
  return (*encoder_)(x);
}

Tensor Autoencoder::decode(const Tensor& code) {
  if (!code.defined()) throw ValueError("[" + name_ + "] the code is undefined");
  return (*decoder_)(code);
}

Autoencoder dense_autoencoder(const std::vector<int64_t>& sizes, DenseAutoencoderOptions o) {
  check_sizes(sizes, "dense_autoencoder", "sizes");
  Sequential enc, dec;
  const std::size_t n = sizes.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    enc.push_back(Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < n) enc.push_back(ReLU());
  }
  for (std::size_t i = n - 1; i > 0; --i) {
    dec.push_back(Linear(sizes[i], sizes[i - 1]));
    if (i > 1) dec.push_back(ReLU());
  }
  push_output(dec, o.output);
  return Autoencoder(std::move(enc), std::move(dec), "Autoencoder(" + join_sizes(sizes) + ")",
                     Shape{sizes[0]});
}

Autoencoder conv_autoencoder(const std::vector<int64_t>& channels, ConvAutoencoderOptions o) {
  check_sizes(channels, "conv_autoencoder", "channel counts");
  if (o.kernel_size < 1 || o.kernel_size % 2 == 0)
    throw ValueError("[conv_autoencoder] kernel_size must be odd, got " +
                     std::to_string(o.kernel_size));
  const int64_t k = o.kernel_size, pad = k / 2;
  Sequential enc, dec;
  const std::size_t n = channels.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    enc.push_back(Conv2d(channels[i], channels[i + 1], k, {.stride = 2, .padding = pad}));
    enc.push_back(ReLU());
  }
  for (std::size_t i = n - 1; i > 0; --i) {
    dec.push_back(ConvTranspose2d(channels[i], channels[i - 1], k,
                                  {.stride = 2, .padding = pad, .output_padding = 1}));
    if (i > 1) dec.push_back(ReLU());
  }
  push_output(dec, o.output);
  return Autoencoder(std::move(enc), std::move(dec),
                     "ConvAutoencoder(" + join_sizes(channels) + ")", Shape{channels[0], -1, -1},
                     int64_t(1) << (n - 1));
}

}  // namespace nabla::nn
