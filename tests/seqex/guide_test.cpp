// The code of docs/examples_sequence.md, as written there.
#include <gtest/gtest.h>
#include <nabla/nabla.h>
#include <nabla/nn/nn.h>

namespace nb = nabla;
namespace nn = nabla::nn;

TEST(SequenceGuide, SamplingSnippetRuns) {
  // --- docs/examples_sequence.md: sampling ---
  nb::Tensor logits = nb::randn({2, 50});       // a model's next-token logits for 2 sequences
  nb::Tensor best = nn::greedy_sample(logits);  // int64 (2): the argmax
  nb::Generator gen(42);
  nb::Tensor next = nn::sample_logits(logits, {.temperature = 0.8, .top_k = 10}, &gen);
  // --- end ---
  EXPECT_EQ(best.shape(), nb::Shape{2});
  EXPECT_EQ(next.shape(), nb::Shape{2});
  EXPECT_EQ(next.dtype(), nb::int64);
}
