#include "layers.h"

#include <algorithm>
#include <cctype>

#include "nabla/nn/layers.h"
#include "nabla/nn/norm.h"

namespace nabla::cli {
namespace {

std::string shape_text(const Shape& s) { return shape_str(s); }

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Linear and convolutions: a multiply-add per weight element per output position.
std::function<double(const Shape&, const Shape&)> weight_flops(const Tensor& weight, bool bias) {
  return [weight, bias](const Shape&, const Shape& out) {
    const double per_output =
        double(weight.numel()) / double(weight.size(0));  // MACs per output value
    return double(numel(out)) * (2 * per_output + (bias ? 1 : 0));
  };
}

// "expects (N, C, H, W) input, got (1, 784)" unless `in` has `rank` dims; then channel dim 1.
std::function<std::string(const Shape&)> channels_check(int rank, const char* layout,
                                                        int64_t channels) {
  return [=](const Shape& in) -> std::string {
    if (int(in.size()) != rank)
      return std::string("expects ") + layout + " input, got " + shape_text(in);
    if (channels > 0 && in[1] != channels)
      return "expects " + std::to_string(channels) + " input channels, got " +
             std::to_string(in[1]);
    return "";
  };
}

nn::ConvOptions conv_options(LayerArgs& a) {
  nn::ConvOptions o;
  o.stride = a.integer("stride", 1);
  if (a.has("padding") && a.node().at("padding").is_string()) {
    const std::string p = a.string("padding", "");
    if (p != "same" && p != "valid")
      a.node().at("padding").fail("expects an integer, \"same\" or \"valid\", got \"" + p + "\"");
    o.same = p == "same";
  } else {
    o.padding = a.integer("padding", 0);
  }
  o.dilation = a.integer("dilation", 1);
  o.groups = a.integer("groups", 1);
  o.bias = a.boolean("bias", true);
  return o;
}

template <class Conv>
Layer conv(LayerArgs& a, int rank, const char* layout) {
  const int64_t in = a.integer("in_channels"), out = a.integer("out_channels"),
                k = a.integer("kernel_size");
  const nn::ConvOptions o = conv_options(a);
  auto m = std::make_shared<Conv>(in, out, k, o);
  return {m, channels_check(rank, layout, in), weight_flops(m->weight, o.bias)};
}

template <class M, class... Args>
Layer plain(Args&&... args) {
  return {std::make_shared<M>(std::forward<Args>(args)...), nullptr, nullptr};
}

template <class Conv>
Layer conv_transpose(LayerArgs& a, int rank, const char* layout) {
  const int64_t in = a.integer("in_channels"), out = a.integer("out_channels"),
                k = a.integer("kernel_size");
  nn::ConvTransposeOptions o;
  o.stride = a.integer("stride", 1);
  o.padding = a.integer("padding", 0);
  o.output_padding = a.integer("output_padding", 0);
  o.groups = a.integer("groups", 1);
  o.dilation = a.integer("dilation", 1);
  o.bias = a.boolean("bias", true);
  auto m = std::make_shared<Conv>(in, out, k, o);
  // Each input value is multiplied by every weight of its group: MACs per input position.
  auto flops = [w = m->weight, bias = o.bias](const Shape& input, const Shape& output) {
    const double macs = double(numel(input)) * double(w.numel()) / double(w.size(0));
    return 2 * macs + (bias ? double(numel(output)) : 0.0);
  };
  return {m, channels_check(rank, layout, in), flops};
}

template <class Pool>
Layer pool(LayerArgs& a, int rank, const char* layout) {
  return {std::make_shared<Pool>(a.integer("kernel_size"), a.integer("stride", 0),
                                 a.integer("padding", 0)),
          channels_check(rank, layout, 0), nullptr};
}

template <class Pool>
Layer avg_pool(LayerArgs& a, int rank, const char* layout) {
  return {std::make_shared<Pool>(a.integer("kernel_size"), a.integer("stride", 0),
                                 a.integer("padding", 0), a.boolean("count_include_pad", true)),
          channels_check(rank, layout, 0), nullptr};
}

nn::BatchNormOptions batch_norm_options(LayerArgs& a) {
  nn::BatchNormOptions o;
  o.eps = a.number("eps", 1e-5);
  o.momentum = a.number("momentum", 0.1);
  o.affine = a.boolean("affine", true);
  o.track_running_stats = a.boolean("track_running_stats", true);
  return o;
}

// Channel dim 1 must match; `ranks` lists the accepted input ranks.
std::function<std::string(const Shape&)> norm_check(std::vector<int> ranks, const char* layout,
                                                    int64_t channels) {
  return [=](const Shape& in) -> std::string {
    if (std::find(ranks.begin(), ranks.end(), int(in.size())) == ranks.end())
      return std::string("expects ") + layout + " input, got " + shape_text(in);
    if (in[1] != channels)
      return "expects " + std::to_string(channels) + " channels, got " + std::to_string(in[1]);
    return "";
  };
}
}  // namespace

const std::map<std::string, LayerFactory>& layer_table() {
  static const std::map<std::string, LayerFactory> table = {
      {"Linear",
       [](LayerArgs& a) {
         const int64_t in = a.integer("in_features"), out = a.integer("out_features");
         const bool bias = a.boolean("bias", true);
         auto m = std::make_shared<nn::Linear>(in, out, bias);
         auto check = [in](const Shape& s) -> std::string {
           if (s.size() < 2)
             return "expects (N, ..., " + std::to_string(in) + ") input, got " + shape_text(s);
           if (s.back() != in)
             return "expects " + std::to_string(in) + " input features, got " +
                    std::to_string(s.back());
           return "";
         };
         return Layer{m, check, weight_flops(m->weight, bias)};
       }},
      {"Conv1d", [](LayerArgs& a) { return conv<nn::Conv1d>(a, 3, "(N, C, L)"); }},
      {"Conv2d", [](LayerArgs& a) { return conv<nn::Conv2d>(a, 4, "(N, C, H, W)"); }},
      {"Conv3d", [](LayerArgs& a) { return conv<nn::Conv3d>(a, 5, "(N, C, D, H, W)"); }},
      {"ConvTranspose1d",
       [](LayerArgs& a) { return conv_transpose<nn::ConvTranspose1d>(a, 3, "(N, C, L)"); }},
      {"ConvTranspose2d",
       [](LayerArgs& a) { return conv_transpose<nn::ConvTranspose2d>(a, 4, "(N, C, H, W)"); }},
      {"MaxPool1d", [](LayerArgs& a) { return pool<nn::MaxPool1d>(a, 3, "(N, C, L)"); }},
      {"MaxPool3d", [](LayerArgs& a) { return pool<nn::MaxPool3d>(a, 5, "(N, C, D, H, W)"); }},
      {"AvgPool1d", [](LayerArgs& a) { return avg_pool<nn::AvgPool1d>(a, 3, "(N, C, L)"); }},
      {"AvgPool3d", [](LayerArgs& a) { return avg_pool<nn::AvgPool3d>(a, 5, "(N, C, D, H, W)"); }},
      {"AdaptiveAvgPool1d",
       [](LayerArgs& a) {
         return Layer{std::make_shared<nn::AdaptiveAvgPool1d>(a.integer("output_size")),
                      channels_check(3, "(N, C, L)", 0), nullptr};
       }},
      {"AdaptiveMaxPool1d",
       [](LayerArgs& a) {
         return Layer{std::make_shared<nn::AdaptiveMaxPool1d>(a.integer("output_size")),
                      channels_check(3, "(N, C, L)", 0), nullptr};
       }},
      {"AdaptiveMaxPool2d",
       [](LayerArgs& a) {
         return Layer{std::make_shared<nn::AdaptiveMaxPool2d>(a.shape("output_size", 2)),
                      channels_check(4, "(N, C, H, W)", 0), nullptr};
       }},
      {"Upsample",
       [](LayerArgs& a) {
         UpsampleOptions o;
         if (a.has("size")) o.size = a.shape("size");
         if (a.has("scale_factor")) o.scale_factor = {a.number("scale_factor")};
         o.align_corners = a.boolean("align_corners", false);
         return plain<nn::Upsample>(o, a.string("mode", "nearest"));
       }},
      {"BatchNorm1d",
       [](LayerArgs& a) {
         const int64_t c = a.integer("num_features");
         return Layer{std::make_shared<nn::BatchNorm1d>(c, batch_norm_options(a)),
                      norm_check({2, 3}, "(N, C) or (N, C, L)", c), nullptr};
       }},
      {"BatchNorm2d",
       [](LayerArgs& a) {
         const int64_t c = a.integer("num_features");
         return Layer{std::make_shared<nn::BatchNorm2d>(c, batch_norm_options(a)),
                      norm_check({4}, "(N, C, H, W)", c), nullptr};
       }},
      {"LayerNorm",
       [](LayerArgs& a) {
         nn::LayerNormOptions o;
         o.eps = a.number("eps", 1e-5);
         o.elementwise_affine = a.boolean("elementwise_affine", true);
         const bool one_dim =
             a.has("normalized_shape") && a.node().at("normalized_shape").value().is_number();
         return plain<nn::LayerNorm>(a.shape("normalized_shape", one_dim ? 1 : 0), o);
       }},
      {"GroupNorm",
       [](LayerArgs& a) {
         const int64_t groups = a.integer("num_groups"), c = a.integer("num_channels");
         nn::GroupNormOptions o;
         o.eps = a.number("eps", 1e-5);
         o.affine = a.boolean("affine", true);
         return Layer{std::make_shared<nn::GroupNorm>(groups, c, o),
                      norm_check({2, 3, 4, 5}, "(N, C, *)", c), nullptr};
       }},
      {"MaxPool2d",
       [](LayerArgs& a) {
         auto m = std::make_shared<nn::MaxPool2d>(a.integer("kernel_size"), a.integer("stride", 0),
                                                  a.integer("padding", 0));
         return Layer{m, channels_check(4, "(N, C, H, W)", 0), nullptr};
       }},
      {"AvgPool2d",
       [](LayerArgs& a) {
         auto m = std::make_shared<nn::AvgPool2d>(a.integer("kernel_size"), a.integer("stride", 0),
                                                  a.integer("padding", 0));
         return Layer{m, channels_check(4, "(N, C, H, W)", 0), nullptr};
       }},
      {"AdaptiveAvgPool2d",
       [](LayerArgs& a) {
         return Layer{std::make_shared<nn::AdaptiveAvgPool2d>(a.shape("output_size", 2)),
                      channels_check(4, "(N, C, H, W)", 0), nullptr};
       }},
      {"Flatten",
       [](LayerArgs& a) {
         return plain<nn::Flatten>(a.integer("start_dim", 1), a.integer("end_dim", -1));
       }},
      {"Unflatten",
       [](LayerArgs& a) { return plain<nn::Unflatten>(a.integer("dim"), a.shape("sizes")); }},
      {"Dropout", [](LayerArgs& a) { return plain<nn::Dropout>(a.number("p", 0.5)); }},
      {"Identity", [](LayerArgs&) { return plain<nn::Identity>(); }},
      {"Embedding",
       [](LayerArgs& a) {
         return plain<nn::Embedding>(a.integer("num_embeddings"), a.integer("embedding_dim"));
       }},
      {"ReLU", [](LayerArgs&) { return plain<nn::ReLU>(); }},
      {"Sigmoid", [](LayerArgs&) { return plain<nn::Sigmoid>(); }},
      {"Tanh", [](LayerArgs&) { return plain<nn::Tanh>(); }},
      {"SELU", [](LayerArgs&) { return plain<nn::SELU>(); }},
      {"SiLU", [](LayerArgs&) { return plain<nn::SiLU>(); }},
      {"Mish", [](LayerArgs&) { return plain<nn::Mish>(); }},
      {"LeakyReLU",
       [](LayerArgs& a) { return plain<nn::LeakyReLU>(a.number("negative_slope", 0.01)); }},
      {"ELU", [](LayerArgs& a) { return plain<nn::ELU>(a.number("alpha", 1.0)); }},
      {"GELU", [](LayerArgs& a) { return plain<nn::GELU>(a.string("approximate", "none")); }},
      {"Softplus",
       [](LayerArgs& a) {
         return plain<nn::Softplus>(a.number("beta", 1.0), a.number("threshold", 20.0));
       }},
      {"Hardtanh",
       [](LayerArgs& a) {
         return plain<nn::Hardtanh>(a.number("min_val", -1.0), a.number("max_val", 1.0));
       }},
      {"Softmax", [](LayerArgs& a) { return plain<nn::Softmax>(a.integer("dim", -1)); }},
      {"LogSoftmax", [](LayerArgs& a) { return plain<nn::LogSoftmax>(a.integer("dim", -1)); }},
  };
  return table;
}

Layer make_layer(const JsonNode& node) {
  std::string type;
  if (node.is_string()) {
    type = node.string();
  } else if (node.is_object()) {
    type = node.at("type").string();
  } else {
    node.fail("expects a layer name or an object with \"type\", got " +
              describe_json(node.value()));
  }
  const auto& table = layer_table();
  auto it = table.find(type);
  if (it == table.end()) {
    auto lower = [](std::string s) {
      for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    std::string known, close;
    for (const auto& [name, f] : table) {
      known += (known.empty() ? "" : ", ") + name;
      if (lower(name) == lower(type)) close = "; did you mean '" + name + "'?";
    }
    node.fail("unknown layer '" + type + "'" + (close.empty() ? " (known: " + known + ")" : close));
  }
  static const nlohmann::json no_args = nlohmann::json::object();
  LayerArgs args(node.is_string() ? JsonNode(no_args, node.file(), node.path()) : node);
  args = LayerArgs(args.node().renamed(node.path() + " (" + type + ")"));
  Layer layer;
  try {
    layer = it->second(args);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    args.fail(e.what());  // the layer's own validation, e.g. "[Dropout] p must be in [0, 1)"
  }
  args.check_all_used();
  return layer;
}

}  // namespace nabla::cli
