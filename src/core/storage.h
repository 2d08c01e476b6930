// A block of memory shared by every tensor that views it, with the version counter that
// autograd reads to detect in-place changes to saved tensors.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "nabla/device.h"

namespace nabla {

struct Storage {
  void* data = nullptr;
  std::size_t nbytes = 0;
  Device device;
  std::function<void(void*)> release;  // returns the block to its owner
  std::atomic<uint32_t> version{0};

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (release) release(data);
  }
};

// A fresh, 64-byte aligned block from the caching CPU allocator.
std::shared_ptr<Storage> allocate_storage(std::size_t nbytes, Device device);
// Wraps memory owned elsewhere; `release` runs when the last view goes away.
std::shared_ptr<Storage> wrap_storage(void* data, std::size_t nbytes, Device device,
                                      std::function<void(void*)> release);

}  // namespace nabla
