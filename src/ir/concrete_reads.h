// While set on this thread (nb::jit sets it while tracing), ops that run eagerly note the storage
// and version of each input: a trace freezes what it computes from concrete tensors alone (`b * 2`
// of a weight b), so it must be redone once one of them changes. Set and read by the dispatch
// path (src/ir/dispatch.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace nabla {

struct Storage;
using ConcreteReads = std::vector<std::pair<std::weak_ptr<Storage>, uint32_t>>;
ConcreteReads* concrete_reads();
void set_concrete_reads(ConcreteReads* reads);

}  // namespace nabla
