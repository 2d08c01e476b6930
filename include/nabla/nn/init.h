// Parameter initialisers (torch.nn.init); they write in place under no-grad.
#pragma once
#include "nabla/random.h"
#include "nabla/tensor.h"

namespace nabla::nn::init {

// fan_in and fan_out of a weight: dims 1 and 0 times the receptive field (dims 2...).
std::pair<int64_t, int64_t> fans(const Tensor& w);
// The gain torch.nn.init.calculate_gain gives: "linear", "relu", "leaky_relu", "tanh", "sigmoid", "selu".
double gain(const std::string& nonlinearity, double param = 0.01);

void uniform_(Tensor& t, double low = 0, double high = 1, Generator* gen = nullptr);
void normal_(Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);
void constant_(Tensor& t, double value);
void zeros_(Tensor& t);
void ones_(Tensor& t);
void xavier_uniform_(Tensor& t, double gain = 1, Generator* gen = nullptr);
void xavier_normal_(Tensor& t, double gain = 1, Generator* gen = nullptr);
// mode: "fan_in" or "fan_out"; a: the negative slope for leaky_relu.
void kaiming_uniform_(Tensor& t, double a = 0, const std::string& mode = "fan_in",
                      const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
void kaiming_normal_(Tensor& t, double a = 0, const std::string& mode = "fan_in",
                     const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
// A (semi-)orthogonal matrix from the QR of a Gaussian, scaled by gain (dims 1... flattened).
void orthogonal_(Tensor& t, double gain = 1, Generator* gen = nullptr);

}  // namespace nabla::nn::init
