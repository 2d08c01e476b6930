// Op definitions (DESIGN.md, "Adding an op touches three places"): an op is defined once
// with its name, flags, shape/dtype inference and gradient rule; kernels are registered per
// (device, dtype) by the backends.
#pragma once
#include <array>
#include <span>
#include <string>
#include <vector>

#include "ir/attrs.h"
#include "nabla/tensor.h"

namespace nabla {

struct Node;

enum OpFlags : uint32_t {
  kElementwise = 1u << 0,  // out[i] depends on inputs at i only (after broadcasting)
  kReduction = 1u << 1,
  kView = 1u << 2,         // output aliases the first input's storage
  kRandom = 1u << 3,       // reads a generator (seed and offset live in attrs)
  kCreation = 1u << 4,     // no inputs
};

struct OutputMeta {
  Shape shape;
  DType dtype;
};

struct VjpContext {
  std::span<const Tensor> inputs;
  const Tensor& output;
  const Attrs& attrs;
  const Tensor& cotangent;
};

struct KernelArgs {
  std::span<const Node* const> inputs;
  Node& out;
  const Attrs& attrs;
};

using InferFn = OutputMeta (*)(std::span<const Tensor> inputs, const Attrs& attrs);
// One gradient per input (undefined where the input gets none), written with ops so the
// same rule serves eager, symbolic and higher-order differentiation.
using VjpFn = std::vector<Tensor> (*)(const VjpContext& ctx);
using KernelFn = void (*)(const KernelArgs& args);
// For view ops: sets out's offset and strides over the input's storage.
using ViewFn = void (*)(const Node& in, const Attrs& attrs, Node& out);

struct OpDef {
  std::string name;
  uint32_t flags = 0;
  int arity = 1;  // -1: any number of inputs
  InferFn infer = nullptr;
  VjpFn vjp = nullptr;  // null: not differentiable
  ViewFn view = nullptr;
  int dispatch_input = 0;  // whose dtype picks the kernel; -1: the output's
  std::array<std::array<KernelFn, kNumDTypes>, kNumDeviceTypes> kernels{};

  bool has(OpFlags f) const { return (flags & f) != 0; }
  KernelFn kernel(Device d, DType t) const { return kernels[int(d.type)][int(t)]; }
};

// The registry entry for `name`, made on first use so definitions and kernel
// registrations may run in any static-initialisation order.
OpDef& op_entry(const std::string& name);
// Defines an op (fills its entry); returns the entry for the public function to apply.
const OpDef& define_op(OpDef def);
void register_kernel(const std::string& op, DeviceType device, DType dtype, KernelFn fn);
// Every op, sorted by name (the op list in docs/ is generated from this).
std::vector<const OpDef*> all_ops();
const OpDef* find_op(const std::string& name);

// Runs (or, with symbolic inputs, records) one op: DESIGN.md's dispatch path.
Tensor apply(const OpDef& op, std::span<const Tensor> inputs, Attrs attrs = {});
inline Tensor apply(const OpDef& op, std::initializer_list<Tensor> inputs, Attrs attrs = {}) {
  return apply(op, std::span<const Tensor>(inputs.begin(), inputs.size()), std::move(attrs));
}

// Whether ops record their inputs for backward now (NoGradGuard turns this off).
bool grad_mode_enabled();
void set_grad_mode(bool enabled);
// Whether random ops record graph nodes even on concrete inputs (set while tracing).
bool record_random_enabled();
void set_record_random(bool enabled);

[[noreturn]] void throw_op_error(const std::string& op, const std::string& what);
}  // namespace nabla
