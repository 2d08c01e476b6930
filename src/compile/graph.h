// The compiler's graph: the symbolic nodes reachable from some outputs, copied into a flat,
// topologically ordered list that passes rewrite, the executor runs, and DOT export and graph
// files walk. Node ids are indices into `nodes`; every node's inputs come before it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/attrs.h"
#include "ir/op.h"
#include "nabla/compile.h"

namespace nabla {
struct Node;
}

namespace nabla::compile_detail {

class PrepackedWeights;  // compile/prepacked.h

enum class NodeKind {
  input,     // a placeholder: the value comes from the call
  constant,  // a frozen value (nb::constant, a C++ literal, a folded subgraph)
  captured,  // a concrete tensor the graph uses: read afresh at each call (weights)
  op,        // an op on other nodes, replayed at each call
};

struct GraphNode {
  NodeKind kind = NodeKind::op;
  const OpDef* op = nullptr;
  Attrs attrs;
  std::vector<int> inputs;
  Shape shape;  // as recorded: -1 where it follows a dynamic input dim
  DType dtype = float32;
  std::string name;  // inputs: the placeholder's name
  Tensor value;      // constant and captured nodes
  // Set by passes/prepack_weights.cpp on a conv/matmul whose weight (input 1) comes from a
  // captured or constant node: the weight in oneDNN's layout, packed once and reused per call.
  std::shared_ptr<PrepackedWeights> prepacked;
};

struct Graph {
  std::vector<GraphNode> nodes;  // topological order
  std::vector<int> inputs;       // placeholder nodes, in positional order
  std::vector<int> outputs;
};

// The graph reachable from `outputs` (symbolic or concrete). Placeholders are the inputs, in
// `order` if given, else sorted by name; two placeholders with one name are a ValueError.
// A concrete tensor autograd recorded (an op run eagerly on a parameter while tracing: Linear's
// `weight.t()`, a masked weight) becomes an op node on its own inputs, replayed at each call, so
// every call's autograd graph reaches the parameters afresh; one that cannot be replayed (a
// custom function, a random op, a freed or stale history) is an AutogradError naming its op.
Graph build_graph(const std::vector<Tensor>& outputs, const std::vector<Tensor>& order = {});

// Whether build_graph replays this concrete node (it has an autograd history) instead of
// capturing its value; and those nodes among the ones reachable from `outputs`.
bool is_recorded(const Node& n);
std::vector<const Node*> replayed_nodes(const std::vector<Tensor>& outputs);
// Whether a constant node holds a small value passes compare by content.
bool is_frozen(const GraphNode& n);
// How many nodes use each node (outputs count as uses).
std::vector<int> use_counts(const Graph& g);
// Redirects every use of node `from` (inputs of later nodes, outputs) to node `to`.
void replace_uses(Graph& g, int from, int to);
// One line per node, for tests and debugging: "%3 = mul(%0, %1) (10) float32".
std::string describe(const Graph& g);

// Passes (src/compile/passes/). Each returns how many nodes it changed or removed.
int eliminate_dead_code(Graph& g);
int eliminate_common_subexpressions(Graph& g);
int fold_constants(Graph& g);
int simplify(Graph& g);
int transpose_matmuls(Graph& g);
int prepack_weights(Graph& g);
void optimize(Graph& g, const CompileOptions& options);

// A fused group as a register-machine program (fused_program.cpp): registers 0..sources-1 hold
// the group's outside inputs, the others the members' values; register num_regs is the root's
// output, num_regs + 1 + j the group's j-th escaping member's.
struct FusedProgram {
  // dst = post(code(a, b)). b_scalar: b names a one-element source read as a value. post: 0
  // none, 1 multiply by, 2 add the one-element source post_k (a following `* c` or `+ c` folded
  // in, so its value never goes through a register).
  struct Instr {
    uint8_t code, dst, a, b;
    uint8_t b_scalar = 0, post = 0, post_k = 0;
  };
  DType dtype = float32;
  std::vector<int> sources;  // node ids
  std::vector<Instr> code;   // one per member, in order
  int num_regs = 0;
  // A group that ends in a reduction: the elementwise result (register reduce_reg) is folded
  // chunk by chunk into the reduction's output, laid out as [outer, red, inner] -> [outer, inner].
  enum Reduce : uint8_t { none, sum, max, min } reduce = none;
  int reduce_reg = -1;
  int64_t outer = 1, red = 1, inner = 1;
};

// Whether a fused program has an instruction for this op.
bool has_instruction(const std::string& op);
// Whether a reduction over `axes` (normalised, empty: all) of `shape` reads as [outer, red,
// inner] (its reduced dims, size-1 dims aside, are adjacent), and those three sizes.
bool reduce_layout(const Shape& shape, const Shape& axes, int64_t& outer, int64_t& red,
                   int64_t& inner);

// A tree of elementwise ops run as one loop (passes/fuse_elementwise.cpp), possibly ending in a
// reduction: the members' intermediate values live in cache-sized chunks instead of whole tensors.
struct FusedGroup {
  std::vector<int> members;   // topological; the last one (the root) gives the result
  std::vector<int> escaping;  // members other than the root that are graph outputs
  std::shared_ptr<const FusedProgram> program;  // null: some op has no instruction
  bool reduces = false;  // the root is a sum/max/min of the member before it (program only)
};

// What a Function holds: the optimised graph and the run order's bookkeeping.
struct Plan {
  Graph graph;
  std::vector<int> last_use;      // per node: the last node that reads it (-1: none)
  std::vector<int> random_order;  // random op nodes, in the order their streams are drawn
  std::vector<FusedGroup> groups;
  std::vector<int> group_of;  // per node: its group (-1: none)
  // Memory plan (passes/plan_memory.cpp): per node, its byte offset in the call's arena (-1: it
  // allocates its own, or aliases another value); the arena's size; and the bytes of all values
  // that die inside a call, as op-by-op execution allocates them.
  std::vector<int64_t> arena_offset;
  std::size_t arena_bytes = 0;
  std::size_t naive_bytes = 0;
  // Per node: the operand whose buffer it writes its result over (-1: none). In the arena the
  // two share an offset; elsewhere the executor reuses the operand's storage when no one else
  // holds it.
  std::vector<int> in_place;
};

std::shared_ptr<const Plan> make_plan(Graph graph, bool fuse = true);
// Groups chains of elementwise ops (each intermediate used once, all of one static shape large
// enough to pay off) and charges the members' reads to the group's root in last_use.
void plan_fusion(Plan& plan);
// The group as a program, or null when one of its ops or dtypes has no instruction.
std::shared_ptr<const FusedProgram> compile_program(const Plan& plan, int group);
// Runs the group's program over its inputs in `value` when their devices, dtypes and layouts
// allow (any strides and broadcasts do), setting value[root]; false: not run.
bool run_program(const Plan& plan, int group, std::vector<Tensor>& value);
// Liveness, buffer reuse and in-place execution: fills the plan's in-place operands and, for
// static shapes, its arena offsets (`in_place` false: no value writes over another).
void plan_memory(Plan& plan, bool in_place = true);
// describe() with each node's arena offset and in-place operand, then the arena and naive bytes.
std::string describe_memory(const Plan& plan);
// Runs a group at its root: as a program, else block by block when its inputs allow (CPU,
// contiguous or one-element inputs, no autograd recording), else op by op. Sets value[root].
void run_group(const Plan& plan, int group, std::vector<Tensor>& value);
// Runs one op node on values (the executor's step; constant folding uses it too).
Tensor run_node(const GraphNode& n, std::span<const Tensor> inputs, const Attrs& attrs);
std::vector<Tensor> execute(const Plan& plan, const std::vector<Tensor>& inputs);

}  // namespace nabla::compile_detail
