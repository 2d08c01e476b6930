// Vocabulary (levels, frequencies, specials, encode/decode, JSON files) and language-model
// windows.
#include "nabla/data/text.h"

#include <gtest/gtest.h>

#include "data/temp_dir.h"
#include "nabla/data/loader.h"
#include "nabla/ops/creation.h"

namespace nd = nabla::data;
using nabla::testing::error_of;

namespace {

class TextTest : public nabla::testing::TempDirTest {};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST_F(TextTest, WordVocabularyOrdersByFrequencyThenName) {
  auto v = nd::Vocabulary::build("the cat  sat\non the\tmat the cat");
  // <pad>, <unk>, the(3), cat(2), then mat, on, sat (1 each, by name).
  EXPECT_EQ(v.tokens(),
            (std::vector<std::string>{"<pad>", "<unk>", "the", "cat", "mat", "on", "sat"}));
  EXPECT_EQ(v.pad_id(), 0);
  EXPECT_EQ(v.unk_id(), 1);
  EXPECT_EQ(v.encode("the dog sat"), (std::vector<int64_t>{2, 1, 6}));
  EXPECT_EQ(v.decode(std::vector<int64_t>{2, 3, 0, 6}), "the cat <pad> sat");
  EXPECT_EQ(v.decode(std::vector<int64_t>{0, 2, 3, 1}, /*skip_specials=*/true), "the cat");
  EXPECT_EQ(v.decode(v.encode_tensor("cat on mat")), "cat on mat");
  EXPECT_THROW(v.decode(std::vector<int64_t>{7}), nabla::IndexError);
  EXPECT_THROW(v.decode(std::vector<int64_t>{-1}), nabla::IndexError);
  EXPECT_THROW(v.token(99), nabla::IndexError);
}

TEST_F(TextTest, MinFrequencyMaxSizeLowercaseAndExtraSpecials) {
  auto v = nd::Vocabulary::build(
      "A a b B c", {.lowercase = true, .min_frequency = 2, .extra_specials = {"<bos>", "<eos>"}});
  EXPECT_EQ(v.tokens(), (std::vector<std::string>{"<pad>", "<unk>", "<bos>", "<eos>", "a", "b"}));
  EXPECT_EQ(v.encode("C b"), (std::vector<int64_t>{1, 5}));
  auto small = nd::Vocabulary::build("x x x y y z", {.max_size = 3});
  EXPECT_EQ(small.tokens(), (std::vector<std::string>{"<pad>", "<unk>", "x"}));
  // Without <unk>, unknown tokens are errors that name the token.
  auto strict = nd::Vocabulary::build("a b", {.pad_token = "", .unk_token = ""});
  EXPECT_EQ(strict.pad_id(), -1);
  EXPECT_EQ(strict.size(), 2);
  std::string m = error_of<nabla::ValueError>([&] { strict.encode("a q"); });
  EXPECT_TRUE(contains(m, "\"q\" is not in the vocabulary")) << m;
  EXPECT_THROW(nd::Vocabulary::build("a", {.min_frequency = 0}), nabla::ValueError);
  EXPECT_THROW(nd::Vocabulary::build("a", {.max_size = 1}), nabla::ValueError);
  EXPECT_THROW(nd::Vocabulary::build("a", {.pad_token = "<x>", .unk_token = "<x>"}),
               nabla::ValueError);
}

TEST_F(TextTest, CharacterLevelSplitsUtf8CodePoints) {
  auto v = nd::Vocabulary::build("héé\xffz", {.level = nd::TokenLevel::character});
  // é is one token; the stray byte 0xFF becomes U+FFFD.
  EXPECT_EQ(v.tokenize("hé\xff"), (std::vector<std::string>{"h", "é", "\xEF\xBF\xBD"}));
  EXPECT_EQ(v.tokens()[2], "é");
  EXPECT_EQ(v.decode(v.encode("zéh")), "zéh");
  // Overlong and surrogate encodings are not valid UTF-8 either.
  EXPECT_EQ(v.tokenize("\xC0\xAF").size(), 2u);
  EXPECT_EQ(v.tokenize("\xED\xA0\x80").size(), 3u);
  EXPECT_EQ(v.tokenize("\xF0\x9F\x98\x80").size(), 1u);  // an emoji is one code point
}

TEST_F(TextTest, SaveAndLoadRoundTrip) {
  for (auto level : {nd::TokenLevel::word, nd::TokenLevel::character}) {
    auto v = nd::Vocabulary::build("Ünïcode \"quotes\" and\\slashes ünïcode",
                                   {.level = level, .lowercase = true, .extra_specials = {"<s>"}});
    std::string p = path("vocab.json");
    v.save(p);
    auto w = nd::Vocabulary::load(p);
    EXPECT_EQ(w.tokens(), v.tokens());
    EXPECT_EQ(w.level(), level);
    EXPECT_EQ(w.pad_id(), v.pad_id());
    EXPECT_EQ(w.unk_id(), v.unk_id());
    EXPECT_EQ(w.encode("AND zzz"), v.encode("AND zzz"));  // lowercase and <unk> survive
    EXPECT_EQ(w.decode(std::vector<int64_t>{0, 2, 3}, true),
              v.decode(std::vector<int64_t>{0, 2, 3}, true));
  }
}

TEST_F(TextTest, LoadRejectsBadFiles) {
  auto msg_of = [&](const std::string& name, const std::string& text) {
    std::string p = write(name, text);
    return error_of<nabla::IOError>([&] { nd::Vocabulary::load(p); });
  };
  std::string m = error_of<nabla::IOError>([&] { nd::Vocabulary::load(path("none.json")); });
  EXPECT_TRUE(contains(m, "none.json: cannot open")) << m;
  EXPECT_TRUE(contains(msg_of("a.json", "{\"tokens\": ["), "a.json: is not valid JSON"));
  EXPECT_TRUE(contains(msg_of("b.json", "[1, 2]"), "is not a saved vocabulary"));
  std::string head = R"({"format": "nabla.vocabulary", "version": 1, )";
  m = msg_of("c.json", head + R"("level": "word", "lowercase": false, "tokens": ["a"]})");
  EXPECT_TRUE(contains(m, "missing or has the wrong type")) << m;
  m = msg_of("d.json", head + R"("level": "byte", "lowercase": false, "specials": 0,
                                  "pad_token": "", "unk_token": "", "tokens": []})");
  EXPECT_TRUE(contains(m, "level \"byte\"")) << m;
  m = msg_of("e.json", head + R"("level": "word", "lowercase": false, "specials": 1,
                                  "pad_token": "<pad>", "unk_token": "", "tokens": ["<pad>", "a", "a"]})");
  EXPECT_TRUE(contains(m, "\"a\" appears twice")) << m;
  m = msg_of("f.json", head + R"("level": "word", "lowercase": false, "specials": 1,
                                  "pad_token": "<pad>", "unk_token": "<unk>", "tokens": ["<pad>", "a"]})");
  EXPECT_TRUE(contains(m, "unk_token \"<unk>\" is not among the special tokens")) << m;
  m = msg_of("g.json", head + R"("level": "word", "lowercase": false, "specials": 5,
                                  "pad_token": "", "unk_token": "", "tokens": ["a"]})");
  EXPECT_TRUE(contains(m, "\"specials\" 5 is not in 0..1")) << m;
  m = msg_of("h.json", head + R"("level": "word", "lowercase": false, "specials": 0,
                                  "pad_token": "", "unk_token": "", "tokens": [1]})");
  EXPECT_TRUE(contains(m, "wrong type")) << m;
}

TEST_F(TextTest, LanguageModelWindowsShiftTargetsByOne) {
  std::vector<int64_t> ids = {10, 11, 12, 13, 14, 15, 16, 17};
  nd::LanguageModelDataset lm(ids, 3);  // stride 3: windows at 0 and 3 (6 would need 10 tokens)
  EXPECT_EQ(lm.size(), 2);
  auto e = lm.get(1);
  EXPECT_EQ(e.input.to_vector<int64_t>(), (std::vector<int64_t>{13, 14, 15}));
  EXPECT_EQ(e.target.to_vector<int64_t>(), (std::vector<int64_t>{14, 15, 16}));
  nd::LanguageModelDataset dense(nabla::tensor(ids).astype(nabla::int32), 4, 1);
  EXPECT_EQ(dense.size(), 4);
  EXPECT_EQ(dense.get(-1).target.to_vector<int64_t>(), (std::vector<int64_t>{14, 15, 16, 17}));
  EXPECT_EQ(dense.get(0).input.dtype(), nabla::int64);
  EXPECT_THROW(dense.get(4), nabla::IndexError);
  nd::DataLoader loader(dense, {.batch_size = 4});
  auto it = loader.begin();
  EXPECT_EQ(it->inputs.shape(), (nabla::Shape{4, 4}));
  EXPECT_EQ(it->targets.shape(), (nabla::Shape{4, 4}));

  std::string m = error_of<nabla::ValueError>([&] { nd::LanguageModelDataset(ids, 8); });
  EXPECT_TRUE(contains(m, "need 9 tokens, got 8")) << m;
  EXPECT_THROW(nd::LanguageModelDataset(ids, 0), nabla::ValueError);
  EXPECT_THROW(nd::LanguageModelDataset(ids, 2, -1), nabla::ValueError);
  EXPECT_THROW(nd::LanguageModelDataset(nabla::zeros({2, 5}), 2), nabla::ValueError);
  EXPECT_THROW(nd::LanguageModelDataset(nabla::zeros({9}), 2), nabla::ValueError);
}

// Corrupted vocabulary files: every prefix and single-byte change loads or raises IOError.
TEST_F(TextTest, CorruptedVocabularyFilesGiveTypedErrors) {
  std::string p = path("v.json");
  nd::Vocabulary::build("b a c a", {.extra_specials = {"<s>"}}).save(p);
  std::string good = read(p);
  int ok = 0;
  for (size_t i = 0; i <= good.size(); ++i)
    for (int variant = 0; variant < 4; ++variant) {
      std::string v = good.substr(0, i);
      if (variant && i < good.size()) v = good, v[i] = "\"\xff,"[variant - 1];
      write("f.json", v);
      try {
        nd::Vocabulary::load(path("f.json"));
        ++ok;
      } catch (const nabla::IOError&) {
      }
    }
  EXPECT_GT(ok, 0);
}

}  // namespace
