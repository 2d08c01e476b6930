#include "backend/cpu/fft_plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numbers>
#include <utility>

namespace nabla::cpu::fft {
namespace {

constexpr int kMaxRadix = 13;

// std::complex's operator* checks for NaN/inf and calls a slow library routine.
template <class T>
inline std::complex<T> mul(std::complex<T> a, std::complex<T> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

// Radices 4, then 2, then odd primes; empty when a prime factor exceeds kMaxRadix.
std::vector<int> factorize(int64_t n) {
  std::vector<int> f;
  int64_t p = 4;
  while (n > 1) {
    while (n % p) {
      p = p == 4 ? 2 : p == 2 ? 3 : p + 2;
      if (p > kMaxRadix) return {};
    }
    n /= p;
    f.push_back(int(p));
    f.push_back(int(n));
  }
  return f;
}

template <class T>
void butterfly2(std::complex<T>* F, const std::complex<T>* tw, int64_t fs, int64_t m) {
  for (int64_t k = 0; k < m; ++k) {
    std::complex<T> t = mul(F[m + k], tw[k * fs]);
    F[m + k] = F[k] - t;
    F[k] += t;
  }
}

template <class T>
void butterfly4(std::complex<T>* F, const std::complex<T>* tw, int64_t fs, int64_t m) {
  using C = std::complex<T>;
  for (int64_t k = 0; k < m; ++k) {
    C s0 = mul(F[k + m], tw[k * fs]), s1 = mul(F[k + 2 * m], tw[2 * k * fs]),
      s2 = mul(F[k + 3 * m], tw[3 * k * fs]);
    C s5 = F[k] - s1;
    C f0 = F[k] + s1;
    C s3 = s0 + s2, s4 = s0 - s2;
    F[k + 2 * m] = f0 - s3;
    F[k] = f0 + s3;
    F[k + m] = C(s5.real() + s4.imag(), s5.imag() - s4.real());
    F[k + 3 * m] = C(s5.real() - s4.imag(), s5.imag() + s4.real());
  }
}

// Radix 3 and 5 as KISS FFT's butterflies: the stage's twiddles, then the small DFT with
// its constant roots (ya, yb) instead of a table walk.
template <class T>
void butterfly3(std::complex<T>* F, const std::complex<T>* tw, int64_t fs, int64_t m) {
  using C = std::complex<T>;
  const T epi3 = tw[fs * m].imag();
  for (int64_t k = 0; k < m; ++k) {
    C s1 = mul(F[k + m], tw[k * fs]), s2 = mul(F[k + 2 * m], tw[2 * k * fs]);
    C s3 = s1 + s2, s0 = (s1 - s2) * epi3;
    C f1 = F[k] - s3 * T(0.5);
    F[k] += s3;
    F[k + 2 * m] = C(f1.real() + s0.imag(), f1.imag() - s0.real());
    F[k + m] = C(f1.real() - s0.imag(), f1.imag() + s0.real());
  }
}

template <class T>
void butterfly5(std::complex<T>* F, const std::complex<T>* tw, int64_t fs, int64_t m) {
  using C = std::complex<T>;
  const C ya = tw[fs * m], yb = tw[2 * fs * m];
  for (int64_t u = 0; u < m; ++u) {
    C s0 = F[u];
    C s1 = mul(F[u + m], tw[u * fs]), s2 = mul(F[u + 2 * m], tw[2 * u * fs]),
      s3 = mul(F[u + 3 * m], tw[3 * u * fs]), s4 = mul(F[u + 4 * m], tw[4 * u * fs]);
    C s7 = s1 + s4, s10 = s1 - s4, s8 = s2 + s3, s9 = s2 - s3;
    F[u] = s0 + s7 + s8;
    C s5(s0.real() + s7.real() * ya.real() + s8.real() * yb.real(),
         s0.imag() + s7.imag() * ya.real() + s8.imag() * yb.real());
    C s6(s10.imag() * ya.imag() + s9.imag() * yb.imag(),
         -(s10.real() * ya.imag() + s9.real() * yb.imag()));
    F[u + m] = s5 - s6;
    F[u + 4 * m] = s5 + s6;
    C s11(s0.real() + s7.real() * yb.real() + s8.real() * ya.real(),
          s0.imag() + s7.imag() * yb.real() + s8.imag() * ya.real());
    C s12(-s10.imag() * yb.imag() + s9.imag() * ya.imag(),
          s10.real() * yb.imag() - s9.real() * ya.imag());
    F[u + 2 * m] = s11 + s12;
    F[u + 3 * m] = s11 - s12;
  }
}

// Any radix p <= kMaxRadix: the stage's twiddles and the p-point DFT in one O(p^2) pass.
template <class T>
void butterfly_generic(std::complex<T>* F, const std::complex<T>* tw, int64_t fs, int64_t m, int p,
                       int64_t n) {
  std::complex<T> sc[kMaxRadix];
  for (int64_t u = 0; u < m; ++u) {
    for (int q = 0; q < p; ++q) sc[q] = F[u + q * m];
    for (int q1 = 0; q1 < p; ++q1) {
      int64_t k = u + q1 * m, step = fs * k, idx = 0;
      std::complex<T> acc = sc[0];
      for (int q = 1; q < p; ++q) {
        idx += step;
        if (idx >= n) idx -= n;
        acc += mul(sc[q], tw[idx]);
      }
      F[k] = acc;
    }
  }
}

// The smallest 2^a 3^b 5^c >= n: a length the mixed-radix path runs fast.
int64_t next_smooth(int64_t n) {
  int64_t best = 1;
  while (best < n) best *= 2;
  for (int64_t p5 = 1; p5 < best; p5 *= 5)
    for (int64_t p35 = p5; p35 < best; p35 *= 3) {
      int64_t m = p35;
      while (m < n) m *= 2;
      best = std::min(best, m);
    }
  return best;
}

}  // namespace

template <class T>
Plan<T>::Plan(int64_t n) : n_(n), factors_(factorize(n)) {
  if (!factors_.empty() || n == 1) {
    twiddles_.resize(std::size_t(n));
    for (int64_t k = 0; k < n; ++k) {
      double a = -2 * std::numbers::pi * double(k) / double(n);
      twiddles_[std::size_t(k)] = C(T(std::cos(a)), T(std::sin(a)));
    }
    return;
  }
  // Bluestein: X_k = w_k sum_j (x_j w_j) conj(w_{k-j}) with w_k = exp(-i pi k^2 / n), a
  // circular convolution of a smooth length m >= 2n - 1 done with the inner plan.
  int64_t m = next_smooth(2 * n - 1);
  inner_ = plan<T>(m);
  chirp_.resize(std::size_t(n));
  std::vector<C> b(std::size_t(m), C(0));
  for (int64_t k = 0; k < n; ++k) {
    int64_t k2 = (k * k) % (2 * n);  // exact: exp(-i pi k^2/n) has period 2n in k^2
    double a = -std::numbers::pi * double(k2) / double(n);
    chirp_[std::size_t(k)] = C(T(std::cos(a)), T(std::sin(a)));
    C c = std::conj(chirp_[std::size_t(k)]) / T(m);  // the inverse's 1/m folded in
    b[std::size_t(k)] = c;
    if (k) b[std::size_t(m - k)] = c;
  }
  chirp_fft_.resize(std::size_t(m));
  std::vector<C> s(std::size_t(inner_->scratch_size()));
  inner_->run(b.data(), chirp_fft_.data(), false, s.data());
}

template <class T>
int64_t Plan<T>::scratch_size() const {
  if (!inner_) return n_;
  int64_t m = inner_->size();
  return n_ + 2 * m + inner_->scratch_size();
}

template <class T>
void Plan<T>::work(C* out, const C* in, int64_t fstride, const int* factors) const {
  int p = factors[0];
  int64_t m = factors[1];
  if (m == 1) {
    for (int j = 0; j < p; ++j) out[j] = in[j * fstride];
  } else {
    for (int j = 0; j < p; ++j) work(out + j * m, in + j * fstride, fstride * p, factors + 2);
  }
  switch (p) {
    case 2:
      butterfly2(out, twiddles_.data(), fstride, m);
      break;
    case 4:
      butterfly4(out, twiddles_.data(), fstride, m);
      break;
    default:
      butterfly_generic(out, twiddles_.data(), fstride, m, p, n_);
  }
}

template <class T>
void Plan<T>::mixed(const C* in, C* out) const {
  if (n_ == 1) {
    out[0] = in[0];
    return;
  }
  work(out, in, 1, factors_.data());
}

template <class T>
void Plan<T>::run(const C* in, C* out, bool inverse, C* scratch) const {
  // The inverse is conj(forward(conj(x))).
  const C* src = in;
  if (inverse) {
    for (int64_t k = 0; k < n_; ++k) scratch[k] = std::conj(in[k]);
    src = scratch;
  }
  if (!inner_) {
    mixed(src, out);
  } else {
    int64_t m = inner_->size();
    C* a = scratch + n_;
    C* b = a + m;
    C* s = b + m;
    for (int64_t k = 0; k < n_; ++k) a[k] = mul(src[k], chirp_[std::size_t(k)]);
    for (int64_t k = n_; k < m; ++k) a[k] = C(0);
    inner_->run(a, b, false, s);
    for (int64_t k = 0; k < m; ++k) b[k] = std::conj(mul(b[k], chirp_fft_[std::size_t(k)]));
    inner_->run(b, a, false, s);  // conj(forward(conj(.))) = the inverse transform
    for (int64_t k = 0; k < n_; ++k) out[k] = mul(std::conj(a[k]), chirp_[std::size_t(k)]);
  }
  if (inverse)
    for (int64_t k = 0; k < n_; ++k) out[k] = std::conj(out[k]);
}

template <class T>
std::shared_ptr<const Plan<T>> plan(int64_t n) {
  static std::mutex mu;
  static std::map<int64_t, std::shared_ptr<const Plan<T>>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(n);
    if (it != cache.end()) return it->second;
  }
  auto p = std::make_shared<const Plan<T>>(n);  // built unlocked: Bluestein plans recurse
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() > 256) cache.clear();  // callers keep their plans alive via shared_ptr
  return cache.emplace(n, std::move(p)).first->second;
}

template class Plan<float>;
template class Plan<double>;
template std::shared_ptr<const Plan<float>> plan<float>(int64_t);
template std::shared_ptr<const Plan<double>> plan<double>(int64_t);

}  // namespace nabla::cpu::fft
