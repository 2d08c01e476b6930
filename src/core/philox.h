// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
// the counter-based generator of cuRAND and PyTorch's CUDA generator. A block of four
// 32-bit words is a pure function of (key, counter), so any element of a random tensor can
// be computed by any thread in any order.
#pragma once
#include <array>
#include <cstdint>

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

// W consecutive blocks, counters first..first+W-1, lane-major (out[lane][j]). Written as
// loops over j so the compiler turns the ten rounds into SIMD multiplies.
template <int W>
inline void blocks(uint64_t seed, uint64_t first, uint32_t (&out)[4][W]) {
  uint32_t c0[W], c1[W], c2[W], c3[W];
  for (int j = 0; j < W; ++j) {
    uint64_t c = first + uint64_t(j);
    c0[j] = uint32_t(c);
    c1[j] = uint32_t(c >> 32);
    c2[j] = 0;
    c3[j] = 0;
  }
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int r = 0; r < kRounds; ++r) {
    for (int j = 0; j < W; ++j) {
      uint64_t p0 = uint64_t(kMul0) * c0[j], p1 = uint64_t(kMul1) * c2[j];
      uint32_t n0 = uint32_t(p1 >> 32) ^ c1[j] ^ k0, n2 = uint32_t(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = uint32_t(p1);
      c3[j] = uint32_t(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  for (int j = 0; j < W; ++j) {
    out[0][j] = c0[j];
    out[1][j] = c1[j];
    out[2][j] = c2[j];
    out[3][j] = c3[j];
  }
}

}  // namespace nabla::philox
