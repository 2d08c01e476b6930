#include <algorithm>
#include <map>
#include <memory>

#include "ir/op.h"

namespace nabla {
namespace {
std::map<std::string, std::unique_ptr<OpDef>>& registry() {
  static auto* r = new std::map<std::string, std::unique_ptr<OpDef>>();
  return *r;
}
}  // namespace

OpDef& op_entry(const std::string& name) {
  auto& slot = registry()[name];
  if (!slot) {
    slot = std::make_unique<OpDef>();
    slot->name = name;
  }
  return *slot;
}

const OpDef& define_op(OpDef def) {
  OpDef& e = op_entry(def.name);
  auto kernels = e.kernels;  // registrations that ran first are kept
  e = std::move(def);
  for (int d = 0; d < kNumDeviceTypes; ++d)
    for (int t = 0; t < kNumDTypes; ++t)
      if (kernels[d][t]) e.kernels[d][t] = kernels[d][t];
  return e;
}

void register_kernel(const std::string& op, DeviceType device, DType dtype, KernelFn fn) {
  op_entry(op).kernels[int(device)][int(dtype)] = fn;
}

std::vector<const OpDef*> all_ops() {
  std::vector<const OpDef*> out;
  for (auto& [name, def] : registry()) out.push_back(def.get());
  return out;
}

const OpDef* find_op(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.get();
}

}  // namespace nabla
