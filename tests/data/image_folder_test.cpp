// read_image and ImageFolder on small PNG/BMP/JPEG files written with stb_image_write, and
// truncated or corrupted images that must raise IOError.
#include "nabla/data/image_folder.h"

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <cmath>

#include "data/temp_dir.h"
#include "nabla/data/loader.h"

namespace nd = nabla::data;
using nabla::testing::error_of;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class ImageFolderTest : public nabla::testing::TempDirTest {
 protected:
  // An h x w image of `channels` interleaved bytes; pixel (y, x) channel k = 40y + 10x + 3k.
  static std::vector<unsigned char> pixels(int h, int w, int channels) {
    std::vector<unsigned char> p;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int k = 0; k < channels; ++k) p.push_back((unsigned char)(40 * y + 10 * x + 3 * k));
    return p;
  }
  std::string png(const std::string& name, int h, int w, int channels) {
    std::string p = path(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    auto px = pixels(h, w, channels);
    EXPECT_TRUE(stbi_write_png(p.c_str(), w, h, channels, px.data(), w * channels));
    return p;
  }
  std::string bmp(const std::string& name, int h, int w) {
    std::string p = path(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    auto px = pixels(h, w, 3);
    EXPECT_TRUE(stbi_write_bmp(p.c_str(), w, h, 3, px.data()));
    return p;
  }
  std::string jpg(const std::string& name, int h, int w, unsigned char value) {
    std::string p = path(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::vector<unsigned char> px(size_t(h * w * 3), value);
    EXPECT_TRUE(stbi_write_jpg(p.c_str(), w, h, 3, px.data(), 95));
    return p;
  }
};

TEST_F(ImageFolderTest, ReadsRgbAsPlanarFloats) {
  nabla::Tensor t = nd::read_image(png("a.png", 2, 3, 3));
  ASSERT_EQ(t.shape(), (nabla::Shape{3, 2, 3}));
  EXPECT_EQ(t.dtype(), nabla::float32);
  std::vector<float> v = t.to_vector<float>();
  for (int k = 0; k < 3; ++k)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_EQ(v[size_t((k * 2 + y) * 3 + x)], float(40 * y + 10 * x + 3 * k) / 255.0f);
  // BMP is lossless too.
  EXPECT_EQ(nd::read_image(bmp("a.bmp", 2, 3)).to_vector<float>(), v);
  // RGBA drops alpha; a gray PNG read as RGB repeats its channel.
  EXPECT_EQ(nd::read_image(png("rgba.png", 2, 3, 4)).to_vector<float>(), v);
  nabla::Tensor g = nd::read_image(png("g.png", 2, 3, 1));
  EXPECT_EQ(g.shape(), (nabla::Shape{3, 2, 3}));
  EXPECT_EQ(g.select(0, 2).to_vector<float>(), g.select(0, 0).to_vector<float>());
}

TEST_F(ImageFolderTest, GrayscaleAndResizeOptions) {
  nabla::Tensor g = nd::read_image(png("g.png", 2, 3, 1), {.grayscale = true});
  EXPECT_EQ(g.shape(), (nabla::Shape{1, 2, 3}));
  EXPECT_EQ(g.to_vector<float>()[5], float(40 + 20) / 255.0f);
  // A JPEG of a constant colour, resized: still (nearly) constant.
  nabla::Tensor j = nd::read_image(jpg("c.jpg", 8, 8, 200), {.size = {5, 3}});
  EXPECT_EQ(j.shape(), (nabla::Shape{3, 5, 3}));
  for (float x : j.to_vector<float>()) EXPECT_NEAR(x, 200.0f / 255, 3.0f / 255);
  nabla::Tensor same = nd::read_image(png("s.png", 4, 4, 3), {.size = {4, 4}});
  EXPECT_EQ(same.to_vector<float>(), nd::read_image(path("s.png")).to_vector<float>());
  EXPECT_THROW(nd::read_image(path("s.png"), {.size = {4, 0}}), nabla::ValueError);
}

TEST_F(ImageFolderTest, FolderOfClasses) {
  png("root/dog/b.png", 4, 6, 3);
  png("root/cat/z.PNG", 2, 2, 1);
  bmp("root/cat/a.bmp", 3, 3);
  png("root/dog/sub/c.png", 5, 5, 4);
  write("root/dog/notes.txt", "not an image");
  write("root/readme.md", "files at the root are not classes");
  std::filesystem::create_directories(path("root/.hidden_but_empty_is_a_class_too"));
  std::filesystem::remove_all(path("root/.hidden_but_empty_is_a_class_too"));
  nd::ImageFolder f(path("root"), {.image = {.size = {4, 4}}});
  EXPECT_EQ(f.classes(), (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(f.size(), 4);
  EXPECT_TRUE(contains(f.samples()[0].first, "cat/a.bmp"));
  EXPECT_TRUE(contains(f.samples()[1].first, "cat/z.PNG"));
  EXPECT_TRUE(contains(f.samples()[2].first, "dog/b.png"));
  EXPECT_TRUE(contains(f.samples()[3].first, "dog/sub/c.png"));
  auto e = f.get(3);
  EXPECT_EQ(e.input.shape(), (nabla::Shape{3, 4, 4}));
  EXPECT_EQ(e.target.dtype(), nabla::int64);
  EXPECT_EQ(e.target.item<int64_t>(), 1);
  EXPECT_EQ(f.get(-4).target.item<int64_t>(), 0);
  EXPECT_THROW(f.get(4), nabla::IndexError);
  // Batches on worker threads.
  nd::DataLoader loader(f, {.batch_size = 4, .num_workers = 2});
  auto it = loader.begin();
  EXPECT_EQ(it->inputs.shape(), (nabla::Shape{4, 3, 4, 4}));
  EXPECT_EQ(it->targets.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1}));
  nd::ImageFolder gray(path("root"), {.image = {.grayscale = true}, .extensions = {".png"}});
  EXPECT_EQ(gray.size(), 3);
  EXPECT_EQ(gray.get(1).input.shape(), (nabla::Shape{1, 4, 6}));
}

TEST_F(ImageFolderTest, BadFoldersAndFilesNameTheFault) {
  std::string m = error_of<nabla::IOError>([&] { nd::ImageFolder f(path("none")); });
  EXPECT_TRUE(contains(m, "none: not a folder")) << m;
  std::filesystem::create_directories(path("flat"));
  png("flat/a.png", 2, 2, 3);
  m = error_of<nabla::IOError>([&] { nd::ImageFolder f(path("flat")); });
  EXPECT_TRUE(contains(m, "holds no class folders")) << m;
  png("r/cat/a.png", 2, 2, 3);
  write("r/dog/a.txt", "x");
  m = error_of<nabla::IOError>([&] { nd::ImageFolder f(path("r")); });
  EXPECT_TRUE(contains(m, "dog: class folder holds no image (.png .jpg .jpeg .bmp)")) << m;
  EXPECT_THROW(nd::ImageFolder(path("r"), {.image = {.size = {-1, 2}}}), nabla::ValueError);

  write("r/dog/b.png", "\x89PNG\r\n\x1a\n not really");
  nd::ImageFolder f(path("r"));
  m = error_of<nabla::IOError>([&] { f.get(1); });
  EXPECT_TRUE(contains(m, "dog/b.png")) << m;
  m = error_of<nabla::IOError>([&] { nd::read_image(path("missing.png")); });
  EXPECT_TRUE(contains(m, "missing.png: cannot open")) << m;
  m = error_of<nabla::IOError>([&] { nd::read_image(write("t.png", "hello")); });
  EXPECT_TRUE(contains(m, "t.png: is not a PNG, JPEG or BMP file")) << m;
  m = error_of<nabla::IOError>([&] { nd::read_image(write("t.jpg", "\xFF\xD8\xFF\xE0")); });
  EXPECT_TRUE(contains(m, "t.jpg: not a readable image (stb_image:")) << m;
  m = error_of<nabla::IOError>(
      [&] { nd::read_image(png("big.png", 10, 20, 3), {.max_pixels = 199}); });
  EXPECT_TRUE(contains(m, "big.png: header says 20x10 pixels (max_pixels allows 1 to 199)")) << m;
}

// A DHT segment listing more than 256 codes made Debian's stb_image 2.27 write past its tables.
TEST_F(ImageFolderTest, JpegWithOversizedHuffmanTableIsRefused) {
  std::string good = read(jpg("ok.jpg", 8, 8, 90));
  size_t dht = good.find("\xFF\xC4");
  ASSERT_NE(dht, std::string::npos);
  std::string bad = good;
  for (size_t k = 0; k < 16; ++k) bad[dht + 5 + k] = '\x20';  // 16 x 32 = 512 codes
  std::string m = error_of<nabla::IOError>([&] { nd::read_image(write("bad.jpg", bad)); });
  EXPECT_TRUE(contains(m, "bad.jpg: JPEG Huffman table at byte " + std::to_string(dht + 4) +
                              " lists 512 codes (at most 256)"))
      << m;
  EXPECT_EQ(nd::read_image(path("ok.jpg")).shape(), (nabla::Shape{3, 8, 8}));
}

// Every prefix of a PNG, BMP and JPEG, and copies with bytes overwritten, decode or raise
// IOError; never a crash.
TEST_F(ImageFolderTest, TruncatedOrCorruptedImagesGiveTypedErrors) {
  for (const std::string& p : {png("f.png", 5, 7, 3), bmp("f.bmp", 5, 7), jpg("f.jpg", 9, 9, 77)}) {
    std::string good = read(p);
    std::vector<std::string> variants;
    for (size_t cut = 0; cut < good.size(); ++cut) variants.push_back(good.substr(0, cut));
    for (size_t i = 0; i < good.size(); ++i)
      for (char j : {'\x00', '\xff', '\x41'}) {
        std::string v = good;
        v[i] = j;
        variants.push_back(v);
      }
    int failed = 0;
    for (const std::string& v : variants) {
      std::string f = write("fuzz" + std::filesystem::path(p).extension().string(), v);
      try {
        // A small max_pixels keeps headers corrupted into large sizes quick to refuse.
        nabla::Tensor t = nd::read_image(f, {.size = {4, 4}, .max_pixels = 4096});
        ASSERT_EQ(t.shape(), (nabla::Shape{3, 4, 4}));
      } catch (const nabla::IOError& e) {
        EXPECT_TRUE(contains(e.what(), "fuzz")) << e.what();
        ++failed;
      }
    }
    EXPECT_GT(failed, 0) << p;
  }
}

}  // namespace
