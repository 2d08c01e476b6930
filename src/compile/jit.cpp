// nb::jit's cache: one traced and compiled Function per input signature (shapes, dtypes,
// devices), traced with placeholders named arg0, arg1... A trace also notes the concrete tensors
// ops ran on eagerly (values computed from weights alone are frozen into the graph): when one of
// them has changed in place since, the signature is traced again.
#include <set>

#include "compile/graph.h"
#include "core/storage.h"
#include "ir/concrete_reads.h"
#include "ir/node.h"
#include "nabla/compile.h"

namespace nabla::compile_detail {

struct JitCache::Traced {
  Function f;
  ConcreteReads reads;  // storages still alive after the trace, with their versions then

  bool stale() const {
    for (const ConcreteRead& r : reads) {
      std::shared_ptr<Storage> s = r.storage.lock();
      if (s && s->version.load() != r.version) return true;
    }
    return false;
  }
};

namespace {

std::string signature(const std::vector<Tensor>& args) {
  // A trace without grad mode records no autograd history, so it freezes views of parameters
  // (a captured leaf no gradient reaches): traces with and without grad mode are kept apart.
  std::string key = grad_mode_enabled() ? "grad;" : "nograd;";
  for (const Tensor& t : args) {
    key += std::string(dtype_name(t.dtype())) + shape_str(t.shape()) + "@" + t.device().str() + ";";
  }
  return key;
}

// Restores the thread's previous collector even when the traced function throws.
class CollectReads {
 public:
  explicit CollectReads(ConcreteReads* reads) : previous_(concrete_reads()) {
    set_concrete_reads(reads);
  }
  ~CollectReads() { set_concrete_reads(previous_); }
  CollectReads(const CollectReads&) = delete;
  CollectReads& operator=(const CollectReads&) = delete;

 private:
  ConcreteReads* previous_;
};

// Removes the reads of ops whose results the graph replays (graph.h: ops autograd recorded on
// parameters), which need no retrace when what they read changes, since each call recomputes
// them. Unless the trace also read such a result eagerly (a value it froze or branched on):
// then what that result was computed from still counts.
void drop_replayed_reads(ConcreteReads& reads, const std::vector<Tensor>& outs) {
  std::vector<const Node*> replayed = replayed_nodes(outs);
  if (replayed.empty()) return;
  std::set<const Node*> dropped(replayed.begin(), replayed.end());
  auto dropped_by = [&](const ConcreteRead& r) {
    std::shared_ptr<const Node> by = r.by.lock();
    return by && dropped.count(by.get()) > 0;
  };
  for (bool changed = true; changed;) {
    changed = false;
    std::set<const Storage*> read_eagerly;
    for (const ConcreteRead& r : reads)
      if (!dropped_by(r))
        if (std::shared_ptr<Storage> s = r.storage.lock()) read_eagerly.insert(s.get());
    for (auto it = dropped.begin(); it != dropped.end();) {
      if (read_eagerly.count((*it)->storage.get())) {
        it = dropped.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
  }
  std::erase_if(reads, dropped_by);
}

}  // namespace

std::vector<Tensor> JitCache::call(const std::vector<Tensor>& args, const TraceFn& trace) {
  for (std::size_t i = 0; i < args.size(); ++i)
    if (!args[i].defined())
      throw ValueError("[jit] argument " + std::to_string(i) + " is undefined");
  // Called while another function is traced (or on placeholders): inline the function there.
  for (const Tensor& t : args)
    if (!t.is_concrete()) return trace(args);

  std::string key = signature(args);
  std::shared_ptr<const Traced> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && !it->second->stale()) entry = it->second;
  }
  if (!entry) {  // traced outside the lock: fn may call other jitted functions
    std::vector<Tensor> ph;
    for (std::size_t i = 0; i < args.size(); ++i)
      ph.push_back(placeholder("arg" + std::to_string(i), args[i].shape(), args[i].dtype()));
    auto traced = std::make_shared<Traced>();
    std::vector<Tensor> outs;
    {
      RecordRandomGuard record;
      CollectReads collect(&traced->reads);
      outs = trace(ph);
    }
    if (outs.empty()) throw ValueError("[jit] the function returned no tensors");
    for (const Tensor& o : outs)
      if (!o.defined()) throw ValueError("[jit] the function returned an undefined tensor");
    CompileOptions options = options_;
    options.inputs = ph;
    traced->f = compile(outs, options);
    drop_replayed_reads(traced->reads, outs);
    outs.clear();
    // Trace-time temporaries are gone now (or frozen in the graph, where nothing writes them).
    // The versions are taken after the trace: a function that updates a tensor it read (a
    // running statistic) must not find its own update stale at the next call.
    std::map<const Storage*, ConcreteRead> live;
    for (const ConcreteRead& r : traced->reads)
      if (std::shared_ptr<Storage> s = r.storage.lock())
        live.emplace(s.get(), ConcreteRead{r.storage, s->version.load(), {}});
    traced->reads.clear();
    for (auto& [ptr, read] : live) traced->reads.push_back(read);
    std::lock_guard lock(mutex_);
    ++traces_;
    auto& slot = cache_[key];
    if (!slot || slot->stale()) slot = traced;
    entry = slot;
  }
  return entry->f.run(args);
}

std::size_t JitCache::size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

std::size_t JitCache::traces() const {
  std::lock_guard lock(mutex_);
  return traces_;
}

}  // namespace nabla::compile_detail
