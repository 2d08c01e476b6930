// Random tensors from a counter-based generator (Philox 4x32-10, as in cuRAND and PyTorch's
// CUDA generator). A generator is a seed and an offset counter. Each random op takes the
// generator's (seed, offset) at call time into its attributes and advances the offset by the
// counters it uses, so its values are a pure function of (seed, offset, element index): the
// same for any number of threads, and when a compiled graph replays the op.
//
// Element i of a 32-bit draw uses Philox counter offset + i / 4, word i % 4. float64 values,
// randint ranges above 2^32 and permutation keys take 64 bits: counter offset + i / 2, words
// 2 (i % 2) and 2 (i % 2) + 1. randn/normal pair consecutive elements by Box-Muller.
#pragma once
#include <cstdint>
#include <mutex>

#include "nabla/tensor.h"

namespace nabla {

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // the next unused Philox counter
  friend bool operator==(const GeneratorState&, const GeneratorState&) = default;
};

// Thread-safe: concurrent draws get disjoint counter ranges.
class Generator {
 public:
  static constexpr uint64_t kDefaultSeed = 67280421310721ull;  // PyTorch's default

  explicit Generator(uint64_t seed = kDefaultSeed) : seed_(seed) {}
  Generator(const Generator& other) : Generator(other.state().seed) { set_state(other.state()); }
  Generator& operator=(const Generator& other) {
    set_state(other.state());
    return *this;
  }

  // Restarts the stream of `seed` (offset 0).
  void manual_seed(uint64_t seed);
  uint64_t seed() const { return state().seed; }
  uint64_t offset() const { return state().offset; }
  GeneratorState state() const;
  void set_state(const GeneratorState& s);
  // Reserves `counters` consecutive counters; returns the state to draw them from.
  GeneratorState advance(uint64_t counters);

 private:
  mutable std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The generator used when an op gets none.
Generator& default_generator();
// Reseeds the default generator.
void manual_seed(uint64_t seed);

// Uniform on [0, 1) and on [low, high). Floating dtypes only.
Tensor rand(const Shape& shape, DType dtype = float32, Generator* gen = nullptr);
Tensor uniform(double low, double high, const Shape& shape, DType dtype = float32,
               Generator* gen = nullptr);
// Standard normal, and normal with a mean and a standard deviation (std >= 0).
Tensor randn(const Shape& shape, DType dtype = float32, Generator* gen = nullptr);
Tensor normal(double mean, double std, const Shape& shape, DType dtype = float32,
              Generator* gen = nullptr);
// Integers uniform on [low, high); any numeric dtype that holds both ends.
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = int64,
               Generator* gen = nullptr);
// 1 with probability p, else 0. The tensor form draws one value per element of p (floating,
// values in [0, 1]) and returns p's dtype and shape.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(double p, const Shape& shape, DType dtype = float32, Generator* gen = nullptr);
// A random ordering of 0..n-1 (int64 or int32).
Tensor permutation(int64_t n, DType dtype = int64, Generator* gen = nullptr);
// rand/randn with the shape and (floating) dtype of `t`.
Tensor rand_like(const Tensor& t, Generator* gen = nullptr);
Tensor randn_like(const Tensor& t, Generator* gen = nullptr);

}  // namespace nabla
