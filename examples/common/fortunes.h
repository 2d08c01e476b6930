// Reading the fortune(6) cookie files of Debian's fortunes, fortunes-de, -es and -it packages:
// plain text files whose entries are separated by lines holding a single '%' (the .dat files
// are indexes, the .u8 files are links or duplicates). Shared by examples/char_lm and lang_id.
#pragma once
#include <nabla/error.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fortunes {

inline const char* kRoot = "/usr/share/games/fortunes";

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates).
inline bool is_utf8(const std::string& s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    if (c >= 0x80) {
      if (c >= 0xC2 && c <= 0xDF)
        extra = 1;
      else if ((c >> 4) == 0xE)
        extra = 2;
      else if (c >= 0xF0 && c <= 0xF4)
        extra = 3;
      else
        return false;
    }
    if (i + size_t(extra) >= n) return false;
    uint32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + size_t(k)]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += size_t(extra) + 1;
  }
  return true;
}

// Latin-1 bytes as UTF-8 (every byte is the code point of the same value).
inline std::string latin1_to_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += char(0xC0 | (c >> 6));
      out += char(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// Terminal formatting out: "x\bx" (bold) and "_\bx" (underline) keep x; other control bytes but
// newline and tab are dropped, \r\n becomes \n.
inline std::string strip_overstrike(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\b') {
      if (!out.empty()) out.pop_back();
    } else if (c == '\n' || c == '\t' || static_cast<unsigned char>(c) >= 0x20) {
      if (c != 0x7F) out += c;
    }
  }
  return out;
}

// The entries of one cookie file as UTF-8, trailing blanks trimmed, empty ones dropped.
// Files that are not valid UTF-8 are read as Latin-1. IOError when the file cannot be read.
inline std::vector<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw nabla::IOError("fortunes: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (!is_utf8(text)) text = latin1_to_utf8(text);
  text = strip_overstrike(text);
  std::vector<std::string> entries;
  std::string current, line;
  std::istringstream lines(text);
  auto flush = [&] {
    while (!current.empty() &&
           (current.back() == '\n' || current.back() == ' ' || current.back() == '\t'))
      current.pop_back();
    size_t start = current.find_first_not_of("\n");
    if (start != std::string::npos) entries.push_back(current.substr(start));
    current.clear();
  };
  while (std::getline(lines, line)) {
    if (line == "%") {
      flush();
    } else {
      current += line;
      current += '\n';
    }
  }
  flush();
  return entries;
}

// The cookie files of `dir`: regular files (not links: the top directory links the Italian
// files in) without the .dat/.u8 suffixes and not named in `skip`, in name order.
// IOError when `dir` is not a directory.
inline std::vector<std::string> files_in(const std::string& dir,
                                         const std::vector<std::string>& skip = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw nabla::IOError("fortunes: " + dir +
                         " is not a directory (install the Debian fortunes packages)");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_symlink() || !e.is_regular_file()) continue;
    std::string name = e.path().filename().string();
    auto ends = [&](const std::string& suffix) {
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends(".dat") || ends(".u8")) continue;
    if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Every entry of every cookie file of `dir`.
inline std::vector<std::string> read_dir(const std::string& dir,
                                         const std::vector<std::string>& skip = {}) {
  std::vector<std::string> all;
  for (const std::string& f : files_in(dir, skip)) {
    std::vector<std::string> e = read_file(f);
    all.insert(all.end(), e.begin(), e.end());
  }
  return all;
}

}  // namespace fortunes
