// Prints the op list (docs/ops.md) from the op registry: name, flags, differentiable,
// and the dtypes with a CPU kernel.
#include <iostream>

#include "ir/op.h"

int main() {
  using namespace nabla;
  std::cout << "# Op list\n\nGenerated from the op registry by `nabla_oplist` (tools/oplist.cpp); "
               "a test fails when this file is out of date.\n\n"
               "| op | kind | gradient | CPU dtypes |\n| --- | --- | --- | --- |\n";
  for (const OpDef* op : all_ops()) {
    std::string kind;
    auto add = [&](OpFlags f, const char* n) {
      if (op->has(f)) kind += kind.empty() ? n : std::string(", ") + n;
    };
    add(kElementwise, "elementwise");
    add(kReduction, "reduction");
    add(kView, "view");
    add(kRandom, "random");
    add(kCreation, "creation");
    std::string dtypes;
    for (int t = 0; t < kNumDTypes; ++t)
      if (op->kernels[0][std::size_t(t)] || op->has(kView))
        dtypes += (dtypes.empty() ? "" : " ") + std::string(dtype_name(DType(t)));
    std::cout << "| " << op->name << " | " << (kind.empty() ? "-" : kind) << " | "
              << (op->vjp ? "yes" : "no") << " | " << dtypes << " |\n";
  }
}
