// The layers a config can name, as a table from name to factory. Adding a layer is one entry
// in layers.cpp: read its arguments from LayerArgs (by the C++/PyTorch argument names) and
// return the module, optionally with an input check and a FLOP count.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "json_node.h"
#include "nabla/nn/module.h"

namespace nabla::cli {

// The arguments of one layer entry ({"type": "Conv2d", "in_channels": 1, ...}).
using LayerArgs = Args;

struct Layer {
  std::shared_ptr<nn::Module> module;
  // Why an input of shape `in` (batch first) does not fit; empty when it does. Optional:
  // without it, the error of the dry forward pass is reported.
  std::function<std::string(const Shape& in)> check;
  // Floating-point operations per example (a multiply-add counts 2) for these input and
  // output shapes (batch first, batch 1). Optional: 0 without it.
  std::function<double(const Shape& in, const Shape& out)> flops;
};

using LayerFactory = std::function<Layer(LayerArgs&)>;

// Name -> factory for every layer of nabla/nn/layers.h.
const std::map<std::string, LayerFactory>& layer_table();

// Builds one layer entry: a string ("ReLU") or an object with "type". `node`'s path names
// the entry (model[3]); errors name it with the type: "model[3] (Linear)".
Layer make_layer(const JsonNode& node);

}  // namespace nabla::cli
