// CPU kernels of the normalisations. Statistics come from two passes over cache-sized chunks
// (mean, then squared deviations from it: no cancellation), merged across chunks with Chan's
// formula, so every input element is read from memory once for the statistics. Inputs are
// contiguous (the public functions make them so); 16-bit floats compute in float32.
#include <cmath>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

constexpr int kL = 16;            // accumulator lanes: lets the compiler vectorise sums
constexpr int64_t kChunk = 4096;  // elements per two-pass chunk (stays in L1/L2)

// Count, mean and sum of squared deviations of a set of values.
template <class C>
struct Moments {
  int64_t n = 0;
  C mean = 0, m2 = 0;
  void merge(int64_t nb, C mean_b, C m2_b) {
    if (nb == 0) return;
    int64_t tot = n + nb;
    C delta = mean_b - mean, fb = C(nb) / C(tot);
    m2 += m2_b + delta * delta * C(n) * fb;
    mean += delta * fb;
    n = tot;
  }
  C var() const { return n ? m2 / C(n) : C(0); }
};

template <class T, class C = compute_t<T>>
Moments<C> line_moments(const T* p, int64_t len) {
  Moments<C> m;
  for (int64_t b = 0; b < len; b += kChunk) {
    const int64_t n = std::min(kChunk, len - b);
    const T* q = p + b;
    C lanes[kL] = {};
    int64_t i = 0;
    for (; i + kL <= n; i += kL)
      for (int l = 0; l < kL; ++l) lanes[l] += C(q[i + l]);
    for (; i < n; ++i) lanes[0] += C(q[i]);
    C s = 0;
    for (C v : lanes) s += v;
    const C mean = s / C(n);
    C sq[kL] = {};
    for (i = 0; i + kL <= n; i += kL)
      for (int l = 0; l < kL; ++l) {
        C d = C(q[i + l]) - mean;
        sq[l] += d * d;
      }
    for (; i < n; ++i) sq[0] += (C(q[i]) - mean) * (C(q[i]) - mean);
    C m2 = 0;
    for (C v : sq) m2 += v;
    m.merge(n, mean, m2);
  }
  return m;
}

// y = x * a + b over a line.
template <class T, class C = compute_t<T>>
inline void line_affine(const T* x, int64_t n, C a, C b, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = T(C(x[i]) * a + b);
}

// (N, C, S) -> out (2, C): mean and biased variance of each channel.
template <class T>
void batch_norm_stats_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& in = *a.inputs[0];
  const Shape& s = in.shape;
  int64_t sp = 1;
  for (std::size_t d = 2; d < s.size(); ++d) sp *= s[d];
  const int64_t n = s[0], ch = s[1];
  const T* x = in.ptr<T>();
  C* out = a.out.ptr<C>();
  if (in.numel() == 0) {  // no values: zeros (the caller leaves running stats alone then)
    std::fill(out, out + 2 * ch, C(0));
    return;
  }
  if (sp >= 32) {  // per channel: the (n, c) planes are lines
    parallel_for(ch, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n * sp)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t c = b; c < e; ++c) {
                     Moments<C> m;
                     for (int64_t i = 0; i < n; ++i) {
                       Moments<C> l = line_moments(x + (i * ch + c) * sp, sp);
                       m.merge(l.n, l.mean, l.m2);
                     }
                     out[c] = m.mean, out[ch + c] = m.var();
                   }
                 });
    return;
  }
  // Small planes: columns of the (N, C * S) matrix, vectorised across columns over chunks of
  // rows, then the S columns of each channel merged.
  const int64_t width = ch * sp, cpb = std::max<int64_t>(1, 256 / sp);
  const int64_t nblocks = (ch + cpb - 1) / cpb;
  parallel_for(nblocks, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n * cpb * sp)),
               [&](int64_t bb, int64_t be) {
                 std::vector<C> sum(std::size_t(cpb * sp)), sq(sum.size());
                 std::vector<Moments<C>> cols(sum.size());
                 for (int64_t blk = bb; blk < be; ++blk) {
                   const int64_t c0 = blk * cpb, c1 = std::min(ch, c0 + cpb);
                   const int64_t j0 = c0 * sp, w = (c1 - c0) * sp;
                   const int64_t rows = std::max<int64_t>(1, kChunk / w);
                   std::fill(cols.begin(), cols.end(), Moments<C>{});
                   for (int64_t r0 = 0; r0 < n; r0 += rows) {
                     const int64_t r1 = std::min(n, r0 + rows);
                     std::fill(sum.begin(), sum.begin() + w, C(0));
                     std::fill(sq.begin(), sq.begin() + w, C(0));
                     for (int64_t r = r0; r < r1; ++r) {
                       const T* q = x + r * width + j0;
                       for (int64_t j = 0; j < w; ++j) sum[std::size_t(j)] += C(q[j]);
                     }
                     const C inv = C(1) / C(r1 - r0);
                     for (int64_t j = 0; j < w; ++j) sum[std::size_t(j)] *= inv;
                     for (int64_t r = r0; r < r1; ++r) {
                       const T* q = x + r * width + j0;
                       for (int64_t j = 0; j < w; ++j) {
                         C d = C(q[j]) - sum[std::size_t(j)];
                         sq[std::size_t(j)] += d * d;
                       }
                     }
                     for (int64_t j = 0; j < w; ++j)
                       cols[std::size_t(j)].merge(r1 - r0, sum[std::size_t(j)], sq[std::size_t(j)]);
                   }
                   for (int64_t c = c0; c < c1; ++c) {
                     Moments<C> m;
                     for (int64_t k = 0; k < sp; ++k) {
                       const Moments<C>& col = cols[std::size_t((c - c0) * sp + k)];
                       m.merge(col.n, col.mean, col.m2);
                     }
                     out[c] = m.mean, out[ch + c] = m.var();
                   }
                 }
               });
}

// (g, x) -> (2, C): per channel, sums of g * x and of g; laid out like the statistics.
template <class T>
void batch_norm_sums_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& in = *a.inputs[1];
  const Shape& s = in.shape;
  int64_t sp = 1;
  for (std::size_t d = 2; d < s.size(); ++d) sp *= s[d];
  const int64_t n = s[0], ch = s[1];
  const T *g = a.inputs[0]->ptr<T>(), *x = in.ptr<T>();
  C* out = a.out.ptr<C>();
  if (in.numel() == 0) {
    std::fill(out, out + 2 * ch, C(0));
    return;
  }
  if (sp >= 32) {
    parallel_for(ch, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n * sp)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t c = b; c < e; ++c) {
                     C sgx[kL] = {}, sg[kL] = {};
                     for (int64_t i = 0; i < n; ++i) {
                       const T *q = x + (i * ch + c) * sp, *r = g + (i * ch + c) * sp;
                       int64_t k = 0;
                       for (; k + kL <= sp; k += kL)
                         for (int l = 0; l < kL; ++l) {
                           sgx[l] += C(r[k + l]) * C(q[k + l]);
                           sg[l] += C(r[k + l]);
                         }
                       for (; k < sp; ++k) sgx[0] += C(r[k]) * C(q[k]), sg[0] += C(r[k]);
                     }
                     C t0 = 0, t1 = 0;
                     for (int l = 0; l < kL; ++l) t0 += sgx[l], t1 += sg[l];
                     out[c] = t0, out[ch + c] = t1;
                   }
                 });
    return;
  }
  const int64_t width = ch * sp, cpb = std::max<int64_t>(1, 256 / sp);
  const int64_t nblocks = (ch + cpb - 1) / cpb;
  parallel_for(nblocks, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n * cpb * sp)),
               [&](int64_t bb, int64_t be) {
                 std::vector<C> sgx(std::size_t(cpb * sp)), sg(sgx.size());
                 for (int64_t blk = bb; blk < be; ++blk) {
                   const int64_t c0 = blk * cpb, c1 = std::min(ch, c0 + cpb);
                   const int64_t j0 = c0 * sp, w = (c1 - c0) * sp;
                   std::fill(sgx.begin(), sgx.end(), C(0));
                   std::fill(sg.begin(), sg.end(), C(0));
                   for (int64_t r = 0; r < n; ++r) {
                     const T *q = x + r * width + j0, *p = g + r * width + j0;
                     for (int64_t j = 0; j < w; ++j) {
                       sgx[std::size_t(j)] += C(p[j]) * C(q[j]);
                       sg[std::size_t(j)] += C(p[j]);
                     }
                   }
                   for (int64_t c = c0; c < c1; ++c) {
                     C t0 = 0, t1 = 0;
                     for (int64_t k = 0; k < sp; ++k)
                       t0 += sgx[std::size_t((c - c0) * sp + k)],
                           t1 += sg[std::size_t((c - c0) * sp + k)];
                     out[c] = t0, out[ch + c] = t1;
                   }
                 }
               });
}

// (x, scale, shift) -> x * scale[c] + shift[c].
template <class T>
void batch_norm_affine_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& in = *a.inputs[0];
  const int64_t n = in.shape[0], ch = in.shape[1];
  if (in.numel() == 0) return;
  const int64_t sp = in.numel() / (n * ch);
  const T* x = in.ptr<T>();
  const C *scale = a.inputs[1]->ptr<C>(), *shift = a.inputs[2]->ptr<C>();
  T* y = a.out.ptr<T>();
  if (sp >= 16) {
    parallel_for(n * ch, std::max<int64_t>(1, kGrain / sp), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        line_affine(x + r * sp, sp, scale[r % ch], shift[r % ch], y + r * sp);
    });
    return;
  }
  parallel_for(n, std::max<int64_t>(1, kGrain / (ch * sp)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* q = x + r * ch * sp;
      T* o = y + r * ch * sp;
      if (sp == 1) {
        for (int64_t c = 0; c < ch; ++c) o[c] = T(C(q[c]) * scale[c] + shift[c]);
      } else {
        for (int64_t c = 0; c < ch; ++c)
          line_affine(q + c * sp, sp, scale[c], shift[c], o + c * sp);
      }
    }
  });
}

// Optional weight and bias inputs after x, as the attrs say.
template <class T>
std::pair<const T*, const T*> params(const KernelArgs& a) {
  std::size_t next = 1;
  const T* w = a.attrs.get<bool>("weight") ? a.inputs[next++]->ptr<T>() : nullptr;
  const T* b = a.attrs.get<bool>("bias") ? a.inputs[next++]->ptr<T>() : nullptr;
  return {w, b};
}

template <class T>
void layer_norm_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& in = *a.inputs[0];
  const int64_t k = a.attrs.get<int64_t>("norm_ndim");
  int64_t len = 1;
  for (std::size_t d = in.shape.size() - std::size_t(k); d < in.shape.size(); ++d)
    len *= in.shape[d];
  if (in.numel() == 0) return;
  const int64_t rows = in.numel() / len;
  const C eps = C(a.attrs.get<double>("eps"));
  auto [w, bias] = params<T>(a);
  const T* x = in.ptr<T>();
  T* y = a.out.ptr<T>();
  parallel_for(rows, std::max<int64_t>(1, kGrain / len), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* q = x + r * len;
      T* o = y + r * len;
      Moments<C> m = line_moments(q, len);
      const C mean = m.mean, rstd = C(1) / std::sqrt(m.var() + eps);
      if (w && bias) {
        for (int64_t i = 0; i < len; ++i) o[i] = T((C(q[i]) - mean) * rstd * C(w[i]) + C(bias[i]));
      } else if (w) {
        for (int64_t i = 0; i < len; ++i) o[i] = T((C(q[i]) - mean) * rstd * C(w[i]));
      } else if (bias) {
        for (int64_t i = 0; i < len; ++i) o[i] = T((C(q[i]) - mean) * rstd + C(bias[i]));
      } else {
        line_affine(q, len, rstd, -mean * rstd, o);
      }
    }
  });
}

template <class T>
void group_norm_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& in = *a.inputs[0];
  if (in.numel() == 0) return;
  const int64_t n = in.shape[0], ch = in.shape[1], groups = a.attrs.get<int64_t>("groups");
  const int64_t sp = in.numel() / (n * ch), cpg = ch / groups, len = cpg * sp;
  const C eps = C(a.attrs.get<double>("eps"));
  auto [w, bias] = params<T>(a);
  const T* x = in.ptr<T>();
  T* y = a.out.ptr<T>();
  parallel_for(n * groups, std::max<int64_t>(1, kGrain / len), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* q = x + r * len;
      T* o = y + r * len;
      Moments<C> m = line_moments(q, len);
      const C rstd = C(1) / std::sqrt(m.var() + eps);
      const int64_t c0 = (r % groups) * cpg;
      for (int64_t c = 0; c < cpg; ++c) {
        const C scale = w ? rstd * C(w[c0 + c]) : rstd;
        const C shift = (bias ? C(bias[c0 + c]) : C(0)) - m.mean * scale;
        line_affine(q + c * sp, sp, scale, shift, o + c * sp);
      }
    }
  });
}

// Row statistics and the per-parameter index of each row element: layer_norm rows run along
// their parameters; group_norm rows are (sample, group) with one parameter per channel.
struct Rows {
  int64_t count = 0, len = 0;
  int64_t groups = 0, cpg = 0, sp = 0;  // group_norm only
  bool layer = true;
  int64_t param_count() const { return layer ? len : groups * cpg; }
};

Rows rows_of(const Node& x, const Attrs& a) {
  Rows r;
  const Shape& s = x.shape;
  if (!a.has("groups")) {
    std::size_t lead = s.size() - std::size_t(a.get<int64_t>("norm_ndim"));
    r.count = r.len = 1;
    for (std::size_t d = 0; d < s.size(); ++d) (d < lead ? r.count : r.len) *= s[d];
    return r;
  }
  r.layer = false;
  r.groups = a.get<int64_t>("groups");
  r.cpg = s[1] / r.groups;
  r.sp = 1;
  for (std::size_t d = 2; d < s.size(); ++d) r.sp *= s[d];
  r.count = s[0] * r.groups;
  r.len = r.cpg * r.sp;
  return r;
}

// Calls f(i, p) for each element i of row `row` with its parameter index p, channel by
// channel for group_norm (so the inner loops stay unit-stride and branch-free).
template <class F>
inline void for_row(const Rows& r, int64_t row, F&& f) {
  if (r.layer) {
    f(int64_t(0), r.len, int64_t(0));
    return;
  }
  const int64_t c0 = (row % r.groups) * r.cpg;
  for (int64_t c = 0; c < r.cpg; ++c) f(c * r.sp, (c + 1) * r.sp, c0 + c);
}

// (g, x, [w]) -> dx = rstd * (gx - mean(gx) - xhat * mean(gx * xhat)), gx = g * w.
template <class T>
void norm_backward_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& xn = *a.inputs[1];
  if (xn.numel() == 0) return;
  const Rows rs = rows_of(xn, a.attrs);
  const T *g = a.inputs[0]->ptr<T>(), *x = xn.ptr<T>();
  const T* w = a.attrs.get<bool>("weight") ? a.inputs[2]->ptr<T>() : nullptr;
  const C eps = C(a.attrs.get<double>("eps"));
  T* out = a.out.ptr<T>();
  parallel_for(rs.count, std::max<int64_t>(1, kGrain / rs.len), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const T *xr = x + row * rs.len, *gr = g + row * rs.len;
      T* o = out + row * rs.len;
      Moments<C> m = line_moments(xr, rs.len);
      const C mean = m.mean, rstd = C(1) / std::sqrt(m.var() + eps);
      C sa[kL] = {}, sb[kL] = {};
      for_row(rs, row, [&](int64_t i0, int64_t i1, int64_t p0) {
        // layer_norm: w[p0 + i - i0] with p0 = 0 and i0 = 0; group_norm: w[p0] for the channel.
        for (int64_t i = i0; i < i1; ++i) {
          C wv = w ? C(w[rs.layer ? i : p0]) : C(1);
          C gx = C(gr[i]) * wv;
          sa[i % kL] += gx;
          sb[i % kL] += gx * (C(xr[i]) - mean);
        }
      });
      C sum_a = 0, sum_b = 0;
      for (int l = 0; l < kL; ++l) sum_a += sa[l], sum_b += sb[l];
      const C ma = sum_a / C(rs.len), mb = sum_b * rstd / C(rs.len);
      for_row(rs, row, [&](int64_t i0, int64_t i1, int64_t p0) {
        for (int64_t i = i0; i < i1; ++i) {
          C wv = w ? C(w[rs.layer ? i : p0]) : C(1);
          C xh = (C(xr[i]) - mean) * rstd;
          o[i] = T(rstd * (C(gr[i]) * wv - ma - xh * mb));
        }
      });
    }
  });
}

// (g, x) -> (2, P): per parameter, sums of g * xhat and of g over every row.
template <class T>
void norm_param_grads_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& xn = *a.inputs[1];
  const Rows rs = rows_of(xn, a.attrs);
  const int64_t np = rs.param_count();
  C* out = a.out.ptr<C>();
  std::fill(out, out + 2 * np, C(0));
  if (xn.numel() == 0) return;
  const T *g = a.inputs[0]->ptr<T>(), *x = xn.ptr<T>();
  const C eps = C(a.attrs.get<double>("eps"));
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t chunks =
      std::max<int64_t>(1, std::min<int64_t>({threads, rs.count, xn.numel() / kGrain}));
  std::vector<C> partial(std::size_t(chunks * 2 * np), C(0));
  parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t ch = cb; ch < ce; ++ch) {
      C *p0 = partial.data() + ch * 2 * np, *p1 = p0 + np;
      for (int64_t row = rs.count * ch / chunks; row < rs.count * (ch + 1) / chunks; ++row) {
        const T *xr = x + row * rs.len, *gr = g + row * rs.len;
        Moments<C> m = line_moments(xr, rs.len);
        const C mean = m.mean, rstd = C(1) / std::sqrt(m.var() + eps);
        if (rs.layer) {
          for (int64_t i = 0; i < rs.len; ++i) {
            p0[i] += C(gr[i]) * ((C(xr[i]) - mean) * rstd);
            p1[i] += C(gr[i]);
          }
          continue;
        }
        for_row(rs, row, [&](int64_t i0, int64_t i1, int64_t p) {
          C s0[kL] = {}, s1[kL] = {};
          for (int64_t i = i0; i < i1; ++i) {
            s0[i % kL] += C(gr[i]) * ((C(xr[i]) - mean) * rstd);
            s1[i % kL] += C(gr[i]);
          }
          for (int l = 0; l < kL; ++l) p0[p] += s0[l], p1[p] += s1[l];
        });
      }
    }
  });
  for (int64_t ch = 0; ch < chunks; ++ch)
    for (int64_t i = 0; i < 2 * np; ++i) out[i] += partial[std::size_t(ch * 2 * np + i)];
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    register_kernel("batch_norm_stats", DeviceType::cpu, dtype_of_v<T>, batch_norm_stats_kernel<T>);
    register_kernel("batch_norm_affine", DeviceType::cpu, dtype_of_v<T>,
                    batch_norm_affine_kernel<T>);
    register_kernel("batch_norm_sums", DeviceType::cpu, dtype_of_v<T>, batch_norm_sums_kernel<T>);
    register_kernel("layer_norm", DeviceType::cpu, dtype_of_v<T>, layer_norm_kernel<T>);
    register_kernel("group_norm", DeviceType::cpu, dtype_of_v<T>, group_norm_kernel<T>);
    for (const char* op : {"layer_norm", "group_norm"}) {
      register_kernel(std::string(op) + "_backward", DeviceType::cpu, dtype_of_v<T>,
                      norm_backward_kernel<T>);
      register_kernel(std::string(op) + "_param_grads", DeviceType::cpu, dtype_of_v<T>,
                      norm_param_grads_kernel<T>);
    }
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
