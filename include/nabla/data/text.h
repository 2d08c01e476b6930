// Text: a token vocabulary and fixed-length windows of token ids for language modelling.
//
//   auto vocab = nd::Vocabulary::build(corpus, {.level = nd::TokenLevel::character});
//   nd::LanguageModelDataset lm(vocab.encode(corpus), /*length=*/64);
//   auto [input, target] = lm.get(0);   // int64 (64) each; target is input shifted by one
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nabla/data/dataset.h"

namespace nabla::data {

enum class TokenLevel {
  character,  // UTF-8 code points (a byte that is not valid UTF-8 becomes U+FFFD)
  word,       // runs of non-whitespace between ASCII whitespace
};

struct VocabularyOptions {
  TokenLevel level = TokenLevel::word;
  bool lowercase = false;     // ASCII letters only
  int64_t min_frequency = 1;  // tokens seen fewer times map to <unk>
  int64_t max_size = 0;       // 0: no limit; else the most frequent tokens (specials included)
  std::string pad_token = "<pad>";  // empty: none
  std::string unk_token = "<unk>";  // empty: none (encoding an unknown token is a ValueError)
  std::vector<std::string> extra_specials = {};  // e.g. {"<bos>", "<eos>"}
};

// Ids: pad, unk, the extra specials, then tokens by falling frequency (ties in string order),
// so a vocabulary built from the same text is the same everywhere.
class Vocabulary {
 public:
  static Vocabulary build(std::string_view text, const VocabularyOptions& options = {});
  // IOError naming the file when it is missing, not JSON or not a saved vocabulary.
  static Vocabulary load(const std::string& path);
  // Writes JSON atomically; IOError when the file cannot be written.
  void save(const std::string& path) const;

  std::vector<std::string> tokenize(std::string_view text) const;
  std::vector<int64_t> encode(std::string_view text) const;
  Tensor encode_tensor(std::string_view text) const;  // int64 (tokens)
  // Words are joined by spaces, characters concatenated. IndexError for an id out of range.
  std::string decode(const std::vector<int64_t>& ids, bool skip_specials = false) const;
  std::string decode(const Tensor& ids, bool skip_specials = false) const;

  int64_t size() const { return int64_t(tokens_.size()); }
  bool contains(const std::string& token) const { return ids_.count(token) > 0; }
  // The id of `token`: unk_id() when it is unknown and there is an <unk>, else ValueError.
  int64_t id(const std::string& token) const;
  const std::string& token(int64_t id) const;  // IndexError when out of range
  int64_t pad_id() const { return pad_id_; }   // -1 when there is none
  int64_t unk_id() const { return unk_id_; }   // -1 when there is none
  const std::vector<std::string>& tokens() const { return tokens_; }
  TokenLevel level() const { return level_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  int64_t pad_id_ = -1, unk_id_ = -1, specials_ = 0;
  TokenLevel level_ = TokenLevel::word;
  bool lowercase_ = false;
  void add(const std::string& token, const std::string& source);
};

// Windows over a 1-d token sequence: example i is (tokens[s, s + length), tokens[s + 1,
// s + length + 1)) with s = i * stride, both int64 (length). The windows are views of the
// sequence (no copy). ValueError for a sequence shorter than length + 1 or a non-positive
// length or stride.
class LanguageModelDataset : public Dataset {
 public:
  LanguageModelDataset(Tensor tokens, int64_t length, int64_t stride = 0 /* = length */);
  LanguageModelDataset(const std::vector<int64_t>& tokens, int64_t length, int64_t stride = 0);
  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;
  const Tensor& tokens() const { return tokens_; }

 private:
  Tensor tokens_;
  int64_t length_, stride_, size_;
};

}  // namespace nabla::data
