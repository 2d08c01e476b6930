// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
// the counter-based generator of cuRAND and PyTorch's CUDA generator. A block of four
// 32-bit words is a pure function of (key, counter), so any element of a random tensor can
// be computed by any thread in any order.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>

namespace nabla::philox {

inline constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
inline constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
inline constexpr int kRounds = 10;

using Block = std::array<uint32_t, 4>;

// The full generator: 128-bit counter, 64-bit key (the known-answer tests use this form).
inline Block philox4x32_10(Block ctr, std::array<uint32_t, 2> key) {
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    uint64_t p0 = uint64_t(kMul0) * ctr[0], p1 = uint64_t(kMul1) * ctr[2];
    ctr = {uint32_t(p1 >> 32) ^ ctr[1] ^ key[0], uint32_t(p1), uint32_t(p0 >> 32) ^ ctr[3] ^ key[1],
           uint32_t(p0)};
  }
  return ctr;
}

// nabla's stream: key = seed, counter = (counter, 0) with a 64-bit counter.
inline Block block(uint64_t seed, uint64_t counter) {
  return philox4x32_10({uint32_t(counter), uint32_t(counter >> 32), 0, 0},
                       {uint32_t(seed), uint32_t(seed >> 32)});
}

// W consecutive blocks, counters first..first+W-1, lane-major (out[lane][j]). The four
// words ride in 64-bit vector lanes (GCC/Clang vector extensions) so that the ten rounds
// run as SIMD multiplies whatever the calling loop looks like.
template <int W>
inline void blocks(uint64_t seed, uint64_t first, uint32_t (&out)[4][W]) {
  typedef uint64_t Vec __attribute__((vector_size(64)));
  constexpr int kLanes = 8, kVecs = W / kLanes;
  static_assert(W % kLanes == 0);
  constexpr uint64_t kLow = 0xffffffffull;
  const Vec iota = {0, 1, 2, 3, 4, 5, 6, 7};
  Vec c0[kVecs], c1[kVecs], c2[kVecs], c3[kVecs];
  for (int v = 0; v < kVecs; ++v) {
    Vec c = iota + (first + uint64_t(v * kLanes));  // wraps like the scalar counter
    c0[v] = c & kLow;
    c1[v] = c >> 32;
    c2[v] = c3[v] = Vec{};
  }
  uint64_t k0 = seed & kLow, k1 = seed >> 32;
  for (int r = 0; r < kRounds; ++r) {
    for (int v = 0; v < kVecs; ++v) {
      Vec p0 = c0[v] * uint64_t(kMul0), p1 = c2[v] * uint64_t(kMul1);
      Vec n0 = (p1 >> 32) ^ c1[v] ^ k0, n2 = (p0 >> 32) ^ c3[v] ^ k1;
      c1[v] = p1 & kLow;
      c3[v] = p0 & kLow;
      c0[v] = n0;
      c2[v] = n2;
    }
    k0 = (k0 + kWeyl0) & kLow;
    k1 = (k1 + kWeyl1) & kLow;
  }
  alignas(64) uint64_t lanes[4][W];
  for (int v = 0; v < kVecs; ++v) {
    std::memcpy(&lanes[0][v * kLanes], &c0[v], sizeof(Vec));
    std::memcpy(&lanes[1][v * kLanes], &c1[v], sizeof(Vec));
    std::memcpy(&lanes[2][v * kLanes], &c2[v], sizeof(Vec));
    std::memcpy(&lanes[3][v * kLanes], &c3[v], sizeof(Vec));
  }
  for (int l = 0; l < 4; ++l)
    for (int j = 0; j < W; ++j) out[l][j] = uint32_t(lanes[l][j]);
}

}  // namespace nabla::philox
