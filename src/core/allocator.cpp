// Caching allocator: blocks are rounded up to a size class and kept on a free list per
// class when released, so the training loop's repeating shapes stop reaching malloc.
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/storage.h"
#include "nabla/memory.h"

namespace nabla {
namespace {

constexpr std::size_t kAlign = 64;
// Blocks above this size go straight back to the system: caching them would pin memory.
constexpr std::size_t kMaxCached = std::size_t(1) << 30;

// Size classes: multiples of 64 bytes up to 4 KiB, then 4 steps per power of two.
std::size_t size_class(std::size_t n) {
  if (n <= 4096) return (n + kAlign - 1) / kAlign * kAlign;
  std::size_t p = 4096;
  while (p * 2 < n) p *= 2;
  std::size_t step = p / 4;
  return (n + step - 1) / step * step;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;
  MemoryStats stats;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: storages may outlive static teardown
  return *c;
}

void* take_block(std::size_t cls) {
  Cache& c = cache();
  {
    std::lock_guard lock(c.mu);
    ++c.stats.num_allocs;
    c.stats.bytes_in_use += cls;
    if (c.stats.bytes_in_use > c.stats.peak_bytes) c.stats.peak_bytes = c.stats.bytes_in_use;
    auto it = c.free_blocks.find(cls);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.bytes_cached -= cls;
      return p;
    }
    ++c.stats.num_system_allocs;
  }
  void* p = std::aligned_alloc(kAlign, cls);
  if (!p) {
    std::lock_guard lock(c.mu);
    c.stats.bytes_in_use -= cls;
    throw std::bad_alloc();
  }
  return p;
}

void give_block(void* p, std::size_t cls) {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  c.stats.bytes_in_use -= cls;
  if (cls > kMaxCached) {
    std::free(p);
    return;
  }
  c.free_blocks[cls].push_back(p);
  c.stats.bytes_cached += cls;
}

}  // namespace

std::shared_ptr<Storage> allocate_storage(std::size_t nbytes, Device device) {
  std::size_t cls = size_class(nbytes == 0 ? 1 : nbytes);
  auto s = std::make_shared<Storage>();
  s->data = take_block(cls);
  s->nbytes = nbytes;
  s->device = device;
  s->release = [cls](void* p) { give_block(p, cls); };
  return s;
}

std::shared_ptr<Storage> wrap_storage(void* data, std::size_t nbytes, Device device,
                                      std::function<void(void*)> release) {
  auto s = std::make_shared<Storage>();
  s->data = data;
  s->nbytes = nbytes;
  s->device = device;
  s->release = std::move(release);
  return s;
}

MemoryStats memory_stats() {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  return c.stats;
}

void reset_peak_memory() {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  c.stats.peak_bytes = c.stats.bytes_in_use;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  for (auto& [cls, blocks] : c.free_blocks)
    for (void* p : blocks) std::free(p);
  c.free_blocks.clear();
  c.stats.bytes_cached = 0;
}

}  // namespace nabla
