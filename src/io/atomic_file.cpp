#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "nabla/error.h"

namespace nabla {
namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError(path + ": " + what + ": " + std::strerror(errno));
}
}  // namespace

void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> parts) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create " + tmp);
  for (std::string_view part : parts) {
    const char* p = part.data();
    std::size_t left = part.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        ::unlink(tmp.c_str());
        fail(path, "write failed");
      }
      p += n;
      left -= std::size_t(n);
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(path, "fsync failed");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail(path, "rename failed");
  }
  std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace nabla
