// The example of docs/data.md, run on the real data set when it is installed.
#include <gtest/gtest.h>

#include <filesystem>

#include "nabla/nabla.h"

namespace nb = nabla;

TEST(DataGuide, ExampleRuns) {
  if (!std::filesystem::exists(std::string(nb::data::kFashionMNISTDir) +
                               "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is not installed";
  int64_t batches = 0;
  // --- docs/data.md
  namespace nd = nb::data;
  nd::FashionMNIST train(nd::kFashionMNISTDir, /*train=*/true);
  nd::TransformDataset augmented(
      train,
      nd::compose({nd::random_crop(28, /*padding=*/2), nd::random_horizontal_flip(),
                   nd::normalize({0.286}, {0.353})}),
      /*seed=*/1);
  nd::DataLoader loader(augmented, {.batch_size = 64,
                                    .shuffle = true,
                                    .seed = 0,
                                    .drop_last = true,
                                    .num_workers = 2,
                                    .prefetch = 4});
  for (int epoch = 0; epoch < 2; ++epoch)
    for (auto& batch : loader) {
      // --- end of the example
      ASSERT_EQ(batch.inputs.shape(), (nb::Shape{64, 1, 28, 28}));
      ASSERT_EQ(batch.targets.shape(), (nb::Shape{64}));
      ++batches;
      if (batches % 3 == 0) break;  // two short epochs keep the test fast
    }
  EXPECT_EQ(batches, 6);
  EXPECT_EQ(loader.size(), 60000 / 64);
}
