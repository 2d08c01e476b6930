// Vocabulary (build, encode/decode, JSON save/load) and language-model token windows.
#include "nabla/data/text.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "data/file_bytes.h"
#include "io/atomic_file.h"
#include "nabla/ops/creation.h"

namespace nabla::data {
namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates) at
// p[0..n), or 0 when it is not one.
size_t utf8_length(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else
    return 0;
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  return len;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Calls emit(token) for each token of text, in order.
template <class Emit>
void split(std::string_view text, TokenLevel level, bool lowercase, Emit&& emit) {
  std::string word;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    size_t len = utf8_length(p + i, n - i);
    std::string piece = len ? std::string(text.substr(i, len)) : kReplacement;
    i += len ? len : 1;
    if (lowercase && piece.size() == 1 && piece[0] >= 'A' && piece[0] <= 'Z') piece[0] += 32;
    if (level == TokenLevel::character) {
      emit(piece);
    } else if (piece.size() == 1 && is_space(piece[0])) {
      if (!word.empty()) emit(word);
      word.clear();
    } else {
      word += piece;
    }
  }
  if (!word.empty()) emit(word);
}

const char* level_name(TokenLevel level) {
  return level == TokenLevel::character ? "character" : "word";
}

}  // namespace

void Vocabulary::add(const std::string& token, const std::string& source) {
  if (!ids_.emplace(token, int64_t(tokens_.size())).second)
    throw ValueError("[Vocabulary] " + source + ": token \"" + token + "\" appears twice");
  tokens_.push_back(token);
}

Vocabulary Vocabulary::build(std::string_view text, const VocabularyOptions& o) {
  if (o.min_frequency < 1 || o.max_size < 0)
    throw ValueError("[Vocabulary] min_frequency must be >= 1 and max_size >= 0, got " +
                     std::to_string(o.min_frequency) + " and " + std::to_string(o.max_size));
  Vocabulary v;
  v.level_ = o.level;
  v.lowercase_ = o.lowercase;
  if (!o.pad_token.empty()) v.pad_id_ = v.size(), v.add(o.pad_token, "special tokens");
  if (!o.unk_token.empty()) v.unk_id_ = v.size(), v.add(o.unk_token, "special tokens");
  for (const std::string& s : o.extra_specials) v.add(s, "special tokens");
  v.specials_ = v.size();
  if (o.max_size && o.max_size < v.size())
    throw ValueError("[Vocabulary] max_size " + std::to_string(o.max_size) +
                     " leaves no room for " + std::to_string(v.size()) + " special tokens");

  std::unordered_map<std::string, int64_t> counts;
  split(text, o.level, o.lowercase, [&](const std::string& t) { ++counts[t]; });
  std::vector<std::pair<std::string, int64_t>> ranked;
  for (auto& [token, count] : counts)
    if (count >= o.min_frequency && !v.contains(token)) ranked.emplace_back(token, count);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  for (auto& [token, count] : ranked) {
    if (o.max_size && v.size() >= o.max_size) break;
    v.add(token, "text");
  }
  return v;
}

std::vector<std::string> Vocabulary::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  split(text, level_, lowercase_, [&](const std::string& t) { out.push_back(t); });
  return out;
}

int64_t Vocabulary::id(const std::string& token) const {
  auto it = ids_.find(token);
  if (it != ids_.end()) return it->second;
  if (unk_id_ >= 0) return unk_id_;
  throw ValueError("[Vocabulary] token \"" + token +
                   "\" is not in the vocabulary, which has no unknown token");
}

const std::string& Vocabulary::token(int64_t id) const {
  if (id < 0 || id >= size())
    throw IndexError("[Vocabulary] id " + std::to_string(id) + " is out of range for " +
                     std::to_string(size()) + " tokens");
  return tokens_[size_t(id)];
}

std::vector<int64_t> Vocabulary::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  split(text, level_, lowercase_, [&](const std::string& t) { ids.push_back(id(t)); });
  return ids;
}

Tensor Vocabulary::encode_tensor(std::string_view text) const { return tensor(encode(text)); }

std::string Vocabulary::decode(const std::vector<int64_t>& ids, bool skip_specials) const {
  std::string out;
  bool first = true;
  for (int64_t i : ids) {
    const std::string& t = token(i);
    if (skip_specials && i < specials_) continue;
    if (level_ == TokenLevel::word && !first) out += ' ';
    out += t;
    first = false;
  }
  return out;
}

std::string Vocabulary::decode(const Tensor& ids, bool skip_specials) const {
  if (!ids.defined() || ids.ndim() > 1 || is_floating(ids.dtype()))
    throw ValueError("[Vocabulary] decode expects a 0-d or 1-d integer tensor of ids");
  return decode(ids.to_vector<int64_t>(), skip_specials);
}

void Vocabulary::save(const std::string& path) const {
  nlohmann::ordered_json j;
  j["format"] = "nabla.vocabulary";
  j["version"] = 1;
  j["level"] = level_name(level_);
  j["lowercase"] = lowercase_;
  j["pad_token"] = pad_id_ >= 0 ? tokens_[size_t(pad_id_)] : "";
  j["unk_token"] = unk_id_ >= 0 ? tokens_[size_t(unk_id_)] : "";
  j["specials"] = specials_;
  j["tokens"] = tokens_;
  std::string text;
  try {
    text = j.dump(1) + "\n";
  } catch (const nlohmann::json::exception& e) {
    throw ValueError("[Vocabulary] " + path + ": a special token is not valid UTF-8 (" + e.what() +
                     ")");
  }
  write_file_atomically(path, {text});
}

Vocabulary Vocabulary::load(const std::string& path) {
  auto fail = [&](const std::string& what) -> Vocabulary {
    throw IOError("Vocabulary: " + path + ": " + what);
  };
  std::string bytes = detail::read_file_bytes(path, "Vocabulary");
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("is not valid JSON");
  if (!j.is_object() || j.value("format", nlohmann::json()) != "nabla.vocabulary")
    return fail("is not a saved vocabulary (no \"format\": \"nabla.vocabulary\")");
  try {
    Vocabulary v;
    std::string level = j.at("level").get<std::string>();
    if (level != "character" && level != "word")
      return fail("level \"" + level + "\" is not \"character\" or \"word\"");
    v.level_ = level == "character" ? TokenLevel::character : TokenLevel::word;
    v.lowercase_ = j.at("lowercase").get<bool>();
    for (const auto& t : j.at("tokens")) v.add(t.get<std::string>(), path);
    v.specials_ = j.at("specials").get<int64_t>();
    if (v.specials_ < 0 || v.specials_ > v.size())
      return fail("\"specials\" " + std::to_string(v.specials_) + " is not in 0.." +
                  std::to_string(v.size()));
    for (auto [key, slot] : {std::pair{"pad_token", &v.pad_id_}, {"unk_token", &v.unk_id_}}) {
      std::string t = j.at(key).get<std::string>();
      if (t.empty()) continue;
      auto it = v.ids_.find(t);
      if (it == v.ids_.end() || it->second >= v.specials_)
        return fail(std::string(key) + " \"" + t + "\" is not among the special tokens");
      *slot = it->second;
    }
    return v;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("a field is missing or has the wrong type (") + e.what() + ")");
  } catch (const ValueError& e) {
    return fail(e.what());
  }
}

LanguageModelDataset::LanguageModelDataset(Tensor tokens, int64_t length, int64_t stride)
    : length_(length), stride_(stride ? stride : length) {
  if (!tokens.defined() || tokens.ndim() != 1 || is_floating(tokens.dtype()) ||
      tokens.dtype() == bool_)
    throw ValueError("[LanguageModelDataset] expects a 1-d integer tensor of token ids");
  if (length_ <= 0 || stride_ <= 0)
    throw ValueError("[LanguageModelDataset] length and stride must be positive, got " +
                     std::to_string(length) + " and " + std::to_string(stride));
  int64_t n = tokens.size(0);
  if (n < length_ + 1)
    throw ValueError("[LanguageModelDataset] a window of " + std::to_string(length_) +
                     " tokens and its next-token targets need " + std::to_string(length_ + 1) +
                     " tokens, got " + std::to_string(n));
  tokens_ = tokens.astype(int64).contiguous();
  size_ = (n - length_ - 1) / stride_ + 1;
}

LanguageModelDataset::LanguageModelDataset(const std::vector<int64_t>& tokens, int64_t length,
                                           int64_t stride)
    : LanguageModelDataset(tensor(tokens), length, stride) {}

Example LanguageModelDataset::get(int64_t index) const {
  int64_t i = index < 0 ? index + size_ : index;
  if (i < 0 || i >= size_)
    throw IndexError("[LanguageModelDataset] index " + std::to_string(index) +
                     " is out of range for " + std::to_string(size_) + " windows");
  int64_t s = i * stride_;
  return {tokens_.slice(0, s, s + length_), tokens_.slice(0, s + 1, s + length_ + 1)};
}

}  // namespace nabla::data
