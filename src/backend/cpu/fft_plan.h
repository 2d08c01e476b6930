// Complex DFTs of any length on contiguous buffers. Lengths whose prime factors are all at
// most 13 run a mixed-radix Cooley-Tukey transform (radix 4, 2, 3 and 5 butterflies, a
// generic one for 7, 11, 13); other lengths use Bluestein's chirp-z algorithm, which turns
// the DFT into a circular convolution of a smooth length. Plans (factors and twiddles,
// computed in double precision) are cached per (length, precision) and shared by threads.
#pragma once
#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

namespace nabla::cpu::fft {

template <class T>
class Plan {
 public:
  using C = std::complex<T>;
  explicit Plan(int64_t n);
  int64_t size() const { return n_; }
  // out[k] = sum_j in[j] exp(-+2 pi i jk/n) (minus: forward), unscaled; in and out are
  // distinct buffers of n elements. scratch must hold scratch_size() elements.
  void run(const C* in, C* out, bool inverse, C* scratch) const;
  int64_t scratch_size() const;

 private:
  void mixed(const C* in, C* out) const;  // forward, mixed radix
  void work(C* out, const C* in, int64_t fstride, const int* factors) const;

  int64_t n_;
  std::vector<int> factors_;  // (radix, remaining length) pairs
  std::vector<C> twiddles_;   // exp(-2 pi i k / n)
  // Bluestein: the chirp exp(-i pi k^2 / n), the transformed conjugate chirp, the inner plan.
  std::vector<C> chirp_, chirp_fft_;
  std::shared_ptr<const Plan<T>> inner_;
};

// The cached plan for length n (n >= 1).
template <class T>
std::shared_ptr<const Plan<T>> plan(int64_t n);

}  // namespace nabla::cpu::fft
