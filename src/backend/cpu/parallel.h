// OpenMP parallel loops above a grain size: small tensors stay on the calling thread,
// where starting a parallel region would cost more than the work.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace nabla::cpu {

inline constexpr int64_t kGrain = 32768;  // elements per thread, at least

// Calls fn(begin, end) over [0, n) in contiguous chunks, one per thread when worthwhile.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  int max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t chunks = std::min<int64_t>(max_threads, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (chunks <= 1) {
    fn(int64_t(0), n);
    return;
  }
#pragma omp parallel for num_threads(int(chunks)) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    if (b < e) fn(b, e);
  }
}

}  // namespace nabla::cpu
