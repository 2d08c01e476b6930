#include <iostream>
#include <nabla/nabla.h>

int main() {
  namespace nb = nabla;
  nb::Tensor d = nb::ones({10}) * 2 * nb::ones({10}) + 1;
  std::cout << d.sum().item<float>() << "\n";
}
