// Counters of the caching CPU allocator, for tests and for users watching memory.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nabla {

struct MemoryStats {
  std::size_t bytes_in_use = 0;   // handed out to live tensors
  std::size_t peak_bytes = 0;     // highest bytes_in_use since the last reset
  std::size_t bytes_cached = 0;   // freed blocks kept for reuse
  uint64_t num_allocs = 0;        // requests served (from the cache or the system)
  uint64_t num_system_allocs = 0; // requests that reached the system allocator
};

MemoryStats memory_stats();
void reset_peak_memory();
// Gives every cached block back to the system.
void empty_cache();

}  // namespace nabla
