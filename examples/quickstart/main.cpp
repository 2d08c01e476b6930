#include <iostream>
#include <nabla/nabla.h>
namespace nb = nabla;

int main() {
  nb::Tensor a = nb::ones({2, 3});
  nb::Tensor b = nb::arange(6, nb::float32).reshape({2, 3});
  nb::Tensor c = b * a + 1;                        // broadcasting elementwise ops
  std::cout << c << "\n";                          // NumPy-like printing
  std::cout << nb::sum(c, {1}) << "\n";            // reduce over axis 1: [6, 15]

  nb::Tensor x = nb::tensor(std::vector<float>{1, 2, 3}).requires_grad_();
  (x * x).sum().backward();                        // autograd
  std::cout << "d/dx sum(x*x) = " << x.grad() << "\n";  // [2, 4, 6]
}
