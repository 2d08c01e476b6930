// nb::jit's cache: one traced and compiled Function per input signature (shapes, dtypes,
// devices), traced with placeholders named arg0, arg1...
#include "ir/node.h"
#include "nabla/compile.h"

namespace nabla::compile_detail {
namespace {

std::string signature(const std::vector<Tensor>& args) {
  std::string key;
  for (const Tensor& t : args) {
    key += std::string(dtype_name(t.dtype())) + shape_str(t.shape()) + "@" + t.device().str() + ";";
  }
  return key;
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
  Function f;
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) f = it->second;
  }
  if (!f.defined()) {  // traced outside the lock: fn may call other jitted functions
    std::vector<Tensor> ph;
    for (std::size_t i = 0; i < args.size(); ++i)
      ph.push_back(placeholder("arg" + std::to_string(i), args[i].shape(), args[i].dtype()));
    std::vector<Tensor> outs;
    {
      RecordRandomGuard record;
      outs = trace(ph);
    }
    if (outs.empty()) throw ValueError("[jit] the function returned no tensors");
    for (const Tensor& o : outs)
      if (!o.defined()) throw ValueError("[jit] the function returned an undefined tensor");
    CompileOptions options = options_;
    options.inputs = ph;
    f = compile(outs, options);
    std::lock_guard lock(mutex_);
    f = cache_.emplace(key, f).first->second;
  }
  return f.run(args);
}

std::size_t JitCache::size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

}  // namespace nabla::compile_detail
