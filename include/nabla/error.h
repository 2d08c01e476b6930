// Typed errors. Every message names the op (in brackets) and the shapes or file at fault:
//   [matmul] cannot multiply (12, 18) by (19, 56): 18 != 19
#pragma once
#include <stdexcept>
#include <string>

namespace nabla {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { using Error::Error; };
class DTypeError : public Error { using Error::Error; };
class IndexError : public Error { using Error::Error; };
class ValueError : public Error { using Error::Error; };
class IOError : public Error { using Error::Error; };
class AutogradError : public Error { using Error::Error; };
class NotImplementedError : public Error { using Error::Error; };

}  // namespace nabla
