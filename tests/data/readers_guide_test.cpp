// The reader examples of docs/data.md, run on small files made here.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <cmath>

#include "data/temp_dir.h"
#include "nabla/nabla.h"

namespace nb = nabla;
namespace nd = nb::data;

namespace {

class ReadersGuide : public nb::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    old_ = std::filesystem::current_path();
    std::filesystem::current_path(dir_);  // the examples use relative paths
  }
  void TearDown() override {
    std::filesystem::current_path(old_);
    TempDirTest::TearDown();
  }
  void image(const std::string& name, int h, int w, unsigned char v) {
    std::filesystem::create_directories(std::filesystem::path(path(name)).parent_path());
    std::vector<unsigned char> px(size_t(h * w * 3), v);
    if (name.ends_with(".jpg"))
      ASSERT_TRUE(stbi_write_jpg(path(name).c_str(), w, h, 3, px.data(), 90));
    else
      ASSERT_TRUE(stbi_write_png(path(name).c_str(), w, h, 3, px.data(), w * 3));
  }
  std::filesystem::path old_;
};

TEST_F(ReadersGuide, Csv) {
  write("iris.csv",
        "sepal_length,sepal_width,petal_length,petal_width,species\n"
        "5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n6.3,3.3,6.0,2.5,virginica\n");
  write("houses.csv", "rooms;area;city;price\n3;70;\"Paris; FR\";420.5\n4;;Lyon;310\n");
  // --- docs/data.md: CSV
  nd::CsvDataset iris("iris.csv", {.target = "species"});  // a TensorDataset
  nd::CsvDataset houses("houses.csv", {.delimiter = ';',
                                       .target = "price",
                                       .target_type = nd::CsvTarget::regression,
                                       .features = {"rooms", "area"},
                                       .missing = nd::CsvMissing::fill,
                                       .fill_value = 0});
  // --- end
  EXPECT_EQ(iris.inputs().shape(), (nb::Shape{3, 4}));
  EXPECT_EQ(iris.classes(), (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(houses.inputs().to_vector<float>(), (std::vector<float>{3, 70, 4, 0}));
  EXPECT_EQ(houses.targets().to_vector<float>(), (std::vector<float>{420.5f, 310}));
}

TEST_F(ReadersGuide, ImageFolder) {
  image("pets/train/cat/1.png", 10, 12, 10);
  image("pets/train/cat/2.jpg", 80, 70, 20);
  image("pets/train/dog/1.png", 64, 64, 30);
  image("cat.jpg", 5, 6, 40);
  // --- docs/data.md: image folders
  nd::ImageFolder pets("pets/train", {.image = {.grayscale = false, .size = {64, 64}}});
  auto [image, label] = pets.get(0);  // float32 (3, 64, 64) in [0, 1], int64 0-d
  nd::DataLoader loader(pets, {.batch_size = 32, .shuffle = true, .num_workers = 2});
  nb::Tensor photo = nd::read_image("cat.jpg", {.grayscale = true});  // (1, H, W)
  // --- end
  EXPECT_EQ(image.shape(), (nb::Shape{3, 64, 64}));
  EXPECT_EQ(label.item<int64_t>(), 0);
  EXPECT_EQ(pets.classes(), (std::vector<std::string>{"cat", "dog"}));
  int64_t seen = 0;
  for (auto& batch : loader) seen += batch.inputs.size(0);
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(photo.shape(), (nb::Shape{1, 5, 6}));
}

TEST_F(ReadersGuide, Wav) {
  std::vector<float> tone;
  for (int t = 0; t < 800; ++t) tone.push_back(0.8f * float(std::sin(t * 0.1)));
  nd::write_wav("speech.wav", nb::tensor(tone, {1, 800}), 8000);
  // --- docs/data.md: WAV audio
  nd::Audio a = nd::read_wav("speech.wav");  // a.samples float32 (channels, frames)
  nd::write_wav("quiet.wav", a.samples * 0.5, a.sample_rate, nd::WavFormat::pcm16);
  // --- end
  nd::Audio q = nd::read_wav("quiet.wav");
  EXPECT_EQ(q.samples.shape(), (nb::Shape{1, 800}));
  EXPECT_EQ(q.sample_rate, 8000);
  EXPECT_NEAR(q.samples.to_vector<float>()[16], 0.4f * std::sin(1.6f), 1e-4);
}

TEST_F(ReadersGuide, Text) {
  std::string corpus;
  for (int i = 0; i < 20; ++i) corpus += "the cat sat on the mat . ";
  // --- docs/data.md: text
  auto vocab = nd::Vocabulary::build(corpus, {.level = nd::TokenLevel::word, .min_frequency = 2});
  std::vector<int64_t> ids = vocab.encode("the cat sat");  // unknown words -> vocab.unk_id()
  std::string text = vocab.decode(ids);
  vocab.save("vocab.json");  // atomic; Vocabulary::load reads it
  nd::LanguageModelDataset lm(vocab.encode(corpus), /*length=*/32);
  auto [input, target] = lm.get(0);  // int64 (32); target = input shifted by one
  // --- end
  EXPECT_EQ(text, "the cat sat");
  EXPECT_EQ(nd::Vocabulary::load("vocab.json").tokens(), vocab.tokens());
  EXPECT_EQ(input.slice(0, 1, 32).to_vector<int64_t>(),
            target.slice(0, 0, 31).to_vector<int64_t>());
  EXPECT_EQ(lm.size(), (140 - 1) / 32);
}

TEST_F(ReadersGuide, TimeSeries) {
  nb::Tensor series = nb::randn({200, 3});
  // --- docs/data.md: time series
  auto [train, valid] = nd::chronological_split(series, 0.8, /*context=*/24);  // series: (T, F)
  nd::TimeSeriesDataset ds(train, {.window = 24, .horizon = 6, .stride = 1, .targets = {0}});
  auto [x, y] = ds.get(0);  // x (24, F): steps 0..23; y (6, 1): feature 0 at steps 24..29
  // --- end
  EXPECT_EQ(x.shape(), (nb::Shape{24, 3}));
  EXPECT_EQ(y.shape(), (nb::Shape{6, 1}));
  EXPECT_EQ(train.size(0), 160);
  EXPECT_EQ(valid.size(0), 64);
  EXPECT_EQ(ds.size(), 160 - 30 + 1);
}

}  // namespace
