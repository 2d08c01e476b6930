// CPU kernels of the FFT ops. Complex tensors are real tensors with a trailing dim of 2
// (real, imaginary). Each kernel transforms every line along `dim`: a line is gathered
// (from any strides) into a complex buffer, transformed by a cached plan (fft_plan.h) and
// scaled into the contiguous output. Lines run in parallel, one set of buffers per thread.
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "backend/cpu/fft_plan.h"
#include "backend/cpu/parallel.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

Strides dense_strides(const Shape& s) {
  Strides st(s.size());
  int64_t acc = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// The lines along `dim` of an input and of the output: their count and each one's start.
struct Lines {
  std::vector<int64_t> sizes, in_strides, out_strides;
  int64_t count = 1;

  Lines(const Node& in, bool in_complex, const Node& out, int64_t dim) {
    Strides os = dense_strides(out.shape);
    std::size_t ni = in.shape.size() - (in_complex ? 1 : 0);
    std::size_t o = 0;
    for (std::size_t i = 0; i < ni; ++i, ++o) {
      if (int64_t(i) == dim) continue;
      sizes.push_back(in.shape[i]);
      in_strides.push_back(in.strides[i]);
      out_strides.push_back(os[i]);
      count *= in.shape[i];
    }
  }
  std::pair<int64_t, int64_t> offsets(int64_t b) const {
    int64_t io = 0, oo = 0;
    for (std::size_t i = sizes.size(); i-- > 0;) {
      int64_t r = b % sizes[i];
      b /= sizes[i];
      io += r * in_strides[i];
      oo += r * out_strides[i];
    }
    return {io, oo};
  }
};

enum class Kind { c2c, r2c, c2r };

template <class T, Kind K>
void fft_kernel(const KernelArgs& a) {
  using C = std::complex<T>;
  const Node& x = *a.inputs[0];
  Node& y = a.out;
  if (y.numel() == 0) return;
  const int64_t dim = a.attrs.get<int64_t>("dim");
  const T scale = T(a.attrs.get<double>("scale"));
  const bool inverse = K == Kind::c2r || (K == Kind::c2c && a.attrs.get<bool>("inverse"));
  const bool in_complex = K != Kind::r2c;
  const int64_t n = K == Kind::c2r ? y.shape[std::size_t(dim)] : x.shape[std::size_t(dim)];
  const int64_t m = K == Kind::c2c ? n : n / 2 + 1;  // complex entries kept (r2c) / read (c2r)
  Lines lines(x, in_complex, y, dim);
  const int64_t xs = x.strides[std::size_t(dim)];
  const int64_t xc = in_complex ? x.strides.back() : 0;
  const int64_t ys = dense_strides(y.shape)[std::size_t(dim)];
  const T* xp = x.ptr<T>();
  T* yp = y.ptr<T>();
  // Real transforms of even n run one complex transform of n/2 on z_j = x_2j + i x_2j+1 and
  // untangle the even and odd halves with the twiddles w^k = exp(-2 pi i k / n).
  const bool packed = K != Kind::c2c && n % 2 == 0;
  const int64_t len = packed ? n / 2 : n;
  auto p = fft::plan<T>(len);
  std::vector<C> tw;
  if (packed) {
    tw.resize(static_cast<std::size_t>(len + 1));
    for (int64_t k = 0; k <= len; ++k) {
      double ang = -2 * std::numbers::pi * double(k) / double(n);
      tw[std::size_t(k)] = C(T(std::cos(ang)), T(std::sin(ang)));
    }
  }
  int64_t grain = std::max<int64_t>(1, kGrain / (8 * n));
  parallel_for(lines.count, grain, [&](int64_t b0, int64_t b1) {
    std::vector<C> buf(static_cast<std::size_t>(len + 1)), res(static_cast<std::size_t>(len + 1)),
        scratch(static_cast<std::size_t>(p->scratch_size()));
    for (int64_t b = b0; b < b1; ++b) {
      auto [io, oo] = lines.offsets(b);
      const T* xl = xp + io;
      T* yl = yp + oo;
      if constexpr (K == Kind::c2c) {
        for (int64_t j = 0; j < n; ++j) buf[j] = C(xl[j * xs], xl[j * xs + xc]);
      } else if constexpr (K == Kind::r2c) {
        if (packed)
          for (int64_t j = 0; j < len; ++j) buf[j] = C(xl[2 * j * xs], xl[(2 * j + 1) * xs]);
        else
          for (int64_t j = 0; j < n; ++j) buf[j] = C(xl[j * xs], T(0));
      } else if (packed) {  // Z_k = E_k + i O_k from the half spectrum
        const T h(0.5);
        for (int64_t k = 0; k < len; ++k) {
          C xk(xl[k * xs], xl[k * xs + xc]), xr(xl[(len - k) * xs], -xl[(len - k) * xs + xc]);
          if (k == 0) xk = C(xk.real(), T(0)), xr = C(xr.real(), T(0));  // as PyTorch: ignored
          C e = (xk + xr) * h, o = (xk - xr) * h * std::conj(tw[std::size_t(k)]);
          buf[k] = C(e.real() - o.imag(), e.imag() + o.real());
        }
      } else {  // the Hermitian extension of the m stored entries
        for (int64_t k = 0; k < m; ++k) buf[k] = C(xl[k * xs], xl[k * xs + xc]);
        for (int64_t k = m; k < n; ++k) buf[k] = std::conj(buf[n - k]);
      }
      p->run(buf.data(), res.data(), inverse, scratch.data());
      if constexpr (K == Kind::c2r) {
        if (packed) {
          for (int64_t j = 0; j < len; ++j) {
            yl[2 * j * ys] = res[j].real() * scale * T(2);
            yl[(2 * j + 1) * ys] = res[j].imag() * scale * T(2);
          }
        } else {
          for (int64_t j = 0; j < n; ++j) yl[j * ys] = res[j].real() * scale;
        }
      } else if (K == Kind::r2c && packed) {  // X_k = E_k + w^k O_k
        res[len] = res[0];
        const T h(0.5);
        for (int64_t k = 0; k <= len; ++k) {
          C zk = res[k], zr = std::conj(res[len - k]);
          C e = (zk + zr) * h, d = (zk - zr) * h;  // O_k = d / i = (d.imag, -d.real)
          C o(d.imag(), -d.real());
          C w = tw[std::size_t(k)];
          C xk(e.real() + w.real() * o.real() - w.imag() * o.imag(),
               e.imag() + w.real() * o.imag() + w.imag() * o.real());
          yl[k * ys] = xk.real() * scale;
          yl[k * ys + 1] = xk.imag() * scale;
        }
      } else {
        for (int64_t k = 0; k < m; ++k) {
          yl[k * ys] = res[k].real() * scale;
          yl[k * ys + 1] = res[k].imag() * scale;
        }
      }
    }
  });
}

template <class T>
void register_all() {
  register_kernel("fft_c2c", DeviceType::cpu, dtype_of_v<T>, fft_kernel<T, Kind::c2c>);
  register_kernel("fft_r2c", DeviceType::cpu, dtype_of_v<T>, fft_kernel<T, Kind::r2c>);
  register_kernel("fft_c2r", DeviceType::cpu, dtype_of_v<T>, fft_kernel<T, Kind::c2r>);
}

const bool registered = [] {
  register_all<float>();
  register_all<double>();
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
