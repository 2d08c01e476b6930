// The example of docs/attention.md, run as written.
#include <gtest/gtest.h>
#include <nabla/nabla.h>

namespace nb = nabla;

TEST(AttentionGuide, ExampleRuns) {
  // --- docs/attention.md
  namespace nn = nb::nn;
  nn::Embedding embed(1000, 256);
  nn::SinusoidalPositionalEncoding pos(256, /*max_len=*/512, /*dropout=*/0.1);
  nn::TransformerEncoder encoder(nn::TransformerEncoderLayer(256, 4, {.batch_first = true}), 2,
                                 nn::LayerNorm({256}));
  nb::Tensor tokens = nb::randint(0, 1000, {8, 40}, nb::int64);  // (N, L)
  nb::Tensor padding = nb::zeros({8, 40}, nb::bool_);            // true: a padded key, ignored
  nb::Tensor h = encoder.forward(pos.forward(embed.forward(tokens)), /*mask=*/{}, padding);
  // h: (8, 40, 256)
  // --- end
  EXPECT_EQ(h.shape(), (nb::Shape{8, 40, 256}));
}
