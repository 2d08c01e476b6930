// Whole-file reads shared by the readers: an IOError that names the reader and the file.
#pragma once
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "nabla/error.h"

namespace nabla::data::detail {

// The bytes of `path`. IOError "<reader>: <path>: cannot open (<reason>)" when it cannot be read.
inline std::string read_file_bytes(const std::string& path, const char* reader) {
  auto fail = [&](const std::string& what) {
    throw IOError(std::string(reader) + ": " + path + ": " + what + " (" + std::strerror(errno) +
                  ")");
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("cannot open");
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    size_t n = std::fread(buf, 1, sizeof buf, f.get());
    bytes.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(f.get())) fail("read error");
  return bytes;
}

}  // namespace nabla::data::detail
