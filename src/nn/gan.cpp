#include "nabla/nn/gan.h"

#include "nabla/error.h"
#include "nabla/nn/init.h"
#include "nabla/nn/norm.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/index.h"
#include "nabla/ops/join.h"

namespace nabla::nn {
namespace {

void check_positive(const char* who, std::initializer_list<std::pair<const char*, int64_t>> kv) {
  for (auto& [k, v] : kv)
    if (v <= 0)
      throw ValueError(std::string("[") + who + "] " + k + " must be positive, got " +
                       std::to_string(v));
}

void check_size(const char* who, int64_t size) {
  if (size != 28 && size != 32 && size != 64)
    throw ValueError(std::string("[") + who + "] image_size must be 28, 32 or 64, got " +
                     std::to_string(size));
}

// Labels for a conditional model: int64-like (N) with values in [0, classes).
void check_labels(const char* who, const Tensor& labels, int64_t n, int64_t classes) {
  if (classes == 0) {
    if (labels.defined())
      throw ValueError(std::string("[") + who +
                       "] is unconditional (num_classes = 0) but got labels");
    return;
  }
  if (!labels.defined())
    throw ValueError(std::string("[") + who + "] is conditional on " + std::to_string(classes) +
                     " classes: call forward(x, labels)");
  if (is_floating(labels.dtype()) || labels.dtype() == bool_)
    throw DTypeError(std::string("[") + who + "] labels must be integers, got " +
                     std::string(dtype_name(labels.dtype())));
  if (labels.shape() != Shape{n})
    throw ShapeError(std::string("[") + who + "] expects labels of shape (" + std::to_string(n) +
                     "), got " + shape_str(labels.shape()));
  if (n > 0) {
    auto lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    if (lo < 0 || hi >= classes)
      throw IndexError(std::string("[") + who + "] labels must be in [0, " +
                       std::to_string(classes) + "), got " + std::to_string(lo < 0 ? lo : hi));
  }
}

// The one-hot code of labels (N) as float rows (N, classes).
Tensor one_hot(const Tensor& labels, int64_t classes, DType dtype) {
  return index_select(eye(classes, -1, dtype), 0, labels.astype(int64));
}

}  // namespace

void dcgan_init_(Module& module, nabla::Generator* gen) {
  module.apply([gen](Module& m) {
    auto weight_bias = [&](Tensor& w, Tensor& b, double mean) {
      init::normal_(w, mean, 0.02, gen);
      if (b.defined()) init::zeros_(b);
    };
    if (auto* c = dynamic_cast<Conv2d*>(&m))
      weight_bias(c->weight, c->bias, 0);
    else if (auto* c1 = dynamic_cast<Conv1d*>(&m))
      weight_bias(c1->weight, c1->bias, 0);
    else if (auto* c3 = dynamic_cast<Conv3d*>(&m))
      weight_bias(c3->weight, c3->bias, 0);
    else if (auto* t = dynamic_cast<ConvTranspose2d*>(&m))
      weight_bias(t->weight, t->bias, 0);
    else if (auto* t1 = dynamic_cast<ConvTranspose1d*>(&m))
      weight_bias(t1->weight, t1->bias, 0);
    else if (auto* l = dynamic_cast<Linear*>(&m))
      weight_bias(l->weight, l->bias, 0);
    else if (auto* bn = dynamic_cast<BatchNorm*>(&m); bn && bn->weight.defined())
      weight_bias(bn->weight, bn->bias, 1);
  });
}

DCGANGenerator::DCGANGenerator(GeneratorOptions o) : o_(o) {
  const char* who = "dcgan_generator";
  check_positive(
      who, {{"latent_dim", o.latent_dim}, {"channels", o.channels}, {"base_width", o.base_width}});
  check_size(who, o.image_size);
  if (o.num_classes < 0)
    throw ValueError("[dcgan_generator] num_classes must be >= 0, got " +
                     std::to_string(o.num_classes));
  if (o.embedding_dim < 0)
    throw ValueError("[dcgan_generator] embedding_dim must be >= 0, got " +
                     std::to_string(o.embedding_dim));
  if (o_.num_classes > 0 && o_.embedding_dim == 0) o_.embedding_dim = o_.num_classes;
  if (o_.num_classes == 0) o_.embedding_dim = 0;

  const int64_t w = o.base_width;
  // Widths of the hidden maps, first to last, and the size of the first one.
  std::vector<int64_t> widths = o.image_size == 64   ? std::vector<int64_t>{8 * w, 4 * w, 2 * w, w}
                                : o.image_size == 32 ? std::vector<int64_t>{4 * w, 2 * w, w}
                                                     : std::vector<int64_t>{2 * w, w};
  const int64_t first_kernel = o.image_size == 28 ? 7 : 4;
  Sequential net;
  int64_t in = o_.latent_dim + o_.embedding_dim;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (i == 0)
      net.push_back(ConvTranspose2d(in, widths[i], first_kernel, {.bias = false}));
    else
      net.push_back(ConvTranspose2d(in, widths[i], 4, {.stride = 2, .padding = 1, .bias = false}));
    net.push_back(BatchNorm2d(widths[i]));
    net.push_back(ReLU());
    in = widths[i];
  }
  net.push_back(ConvTranspose2d(in, o.channels, 4, {.stride = 2, .padding = 1, .bias = false}));
  net.push_back(Tanh());
  net_ = register_module("net", std::move(net));
  if (o_.num_classes > 0)
    embed_ = register_module("embed", Embedding(o_.num_classes, o_.embedding_dim));
  dcgan_init_(*this);
  if (embed_) init::normal_(embed_->weight);  // Embedding's own N(0, 1), the scale of z
}

Tensor DCGANGenerator::forward(const Tensor& z, const Tensor& labels) {
  const int64_t L = o_.latent_dim;
  bool flat = z.ndim() == 2 && z.size(1) == L;
  bool map = z.ndim() == 4 && z.size(1) == L && z.size(2) == 1 && z.size(3) == 1;
  if (!flat && !map)
    throw ShapeError("[DCGANGenerator] expects z of shape (N, " + std::to_string(L) + ") or (N, " +
                     std::to_string(L) + ", 1, 1), got " + shape_str(z.shape()));
  if (!is_floating(z.dtype()))
    throw DTypeError(std::string("[DCGANGenerator] z must be floating, got ") +
                     std::string(dtype_name(z.dtype())));
  const int64_t n = z.size(0);
  check_labels("DCGANGenerator", labels, n, o_.num_classes);
  Tensor h = z.reshape({n, L});
  if (embed_) h = concat({h, embed_->forward(labels.astype(int64)).astype(h.dtype())}, 1);
  return net_->forward(h.reshape({n, h.size(1), 1, 1}));
}

std::string DCGANGenerator::describe() const {
  return "DCGANGenerator(latent=" + std::to_string(o_.latent_dim) +
         ", size=" + std::to_string(o_.image_size) + ", classes=" + std::to_string(o_.num_classes) +
         ")";
}

DCGANDiscriminator::DCGANDiscriminator(DiscriminatorOptions o) : o_(o) {
  const char* who = "dcgan_discriminator";
  check_positive(who, {{"channels", o.channels}, {"base_width", o.base_width}});
  check_size(who, o.image_size);
  if (o.num_classes < 0)
    throw ValueError("[dcgan_discriminator] num_classes must be >= 0, got " +
                     std::to_string(o.num_classes));
  const int64_t w = o.base_width;
  std::vector<int64_t> widths = o.image_size == 64   ? std::vector<int64_t>{w, 2 * w, 4 * w, 8 * w}
                                : o.image_size == 32 ? std::vector<int64_t>{w, 2 * w, 4 * w}
                                                     : std::vector<int64_t>{w, 2 * w};
  Sequential net;
  int64_t in = o.channels + o.num_classes;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    net.push_back(Conv2d(in, widths[i], 4, {.stride = 2, .padding = 1, .bias = false}));
    if (i > 0) net.push_back(BatchNorm2d(widths[i]));
    net.push_back(LeakyReLU(0.2));
    in = widths[i];
  }
  net.push_back(Conv2d(in, 1, o.image_size == 28 ? 7 : 4, {.bias = false}));
  net.push_back(Flatten(0));
  if (o.sigmoid) net.push_back(Sigmoid());
  net_ = register_module("net", std::move(net));
  dcgan_init_(*this);
}

Tensor DCGANDiscriminator::forward(const Tensor& x, const Tensor& labels) {
  const int64_t s = o_.image_size;
  if (x.ndim() != 4 || x.size(1) != o_.channels || x.size(2) != s || x.size(3) != s)
    throw ShapeError("[DCGANDiscriminator] expects images of shape (N, " +
                     std::to_string(o_.channels) + ", " + std::to_string(s) + ", " +
                     std::to_string(s) + "), got " + shape_str(x.shape()));
  if (!is_floating(x.dtype()))
    throw DTypeError(std::string("[DCGANDiscriminator] images must be floating, got ") +
                     std::string(dtype_name(x.dtype())));
  const int64_t n = x.size(0);
  check_labels("DCGANDiscriminator", labels, n, o_.num_classes);
  Tensor h = x;
  if (o_.num_classes > 0) {
    Tensor code = one_hot(labels, o_.num_classes, x.dtype()).reshape({n, o_.num_classes, 1, 1});
    h = concat({x, code.expand({n, o_.num_classes, s, s})}, 1);
  }
  return net_->forward(h);
}

std::string DCGANDiscriminator::describe() const {
  return "DCGANDiscriminator(size=" + std::to_string(o_.image_size) +
         ", classes=" + std::to_string(o_.num_classes) + ")";
}

std::shared_ptr<DCGANGenerator> dcgan_generator(GeneratorOptions options) {
  return std::make_shared<DCGANGenerator>(options);
}
std::shared_ptr<DCGANDiscriminator> dcgan_discriminator(DiscriminatorOptions options) {
  return std::make_shared<DCGANDiscriminator>(options);
}

}  // namespace nabla::nn
