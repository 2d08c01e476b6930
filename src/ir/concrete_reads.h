// While set on this thread (nb::jit sets it while tracing), ops that run eagerly note the storage
// and version of each input: a trace freezes what it computes from concrete tensors alone (`b * 2`
// of a weight b), so it must be redone once one of them changes. Set and read by the dispatch
// path (src/ir/dispatch.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace nabla {

struct Node;
struct Storage;
struct ConcreteRead {
  std::weak_ptr<Storage> storage;
  uint32_t version = 0;
  // The node the reading op made. A result autograd recorded (an op on a parameter) is replayed
  // by the compiled graph rather than frozen (compile/graph.cpp), so its reads alone need no
  // retrace; empty when unknown.
  std::weak_ptr<const Node> by;
};
using ConcreteReads = std::vector<ConcreteRead>;
ConcreteReads* concrete_reads();
void set_concrete_reads(ConcreteReads* reads);

}  // namespace nabla
