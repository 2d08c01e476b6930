// CPU kernels of matmul. out (batch..., M, N) is contiguous; a (..., M, K) and b (..., K, N)
// are strided, with batch dims that broadcast. float32 goes to oneDNN's sgemm, which takes
// row-major or transposed operands with a leading dimension, so transposed and row-sliced
// views need no copy; bfloat16 goes to oneDNN's matmul primitive (cached per shape and
// layout); float16 computes in float32; float64 and integers use a cache-blocked loop.
#include <cstring>
#include <dnnl.hpp>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/parallel.h"
#include "backend/cpu/strided_matrix.h"
#include "ir/node.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

// m with the strides its BLAS layout implies (size-1 dims may carry any stride in a view).
template <class T>
Mat<T> with_layout(const Mat<T>& m, char trans, int64_t ld) {
  return trans == 'N' ? Mat<T>{m.p, m.rows, m.cols, ld, 1} : Mat<T>{m.p, m.rows, m.cols, 1, ld};
}

// The batch loop: offsets of each batch's a and b (broadcast dims read offset 0), and a plan
// that folds the batch into M when b is shared and a's batches are evenly stacked rows, so one
// large GEMM replaces many small ones (the (B, T, K) x (K, N) case of linear layers).
struct Batches {
  int64_t count = 1, M, N, K;
  std::vector<int64_t> a_off, b_off;
  int64_t a_rs, a_cs, b_rs, b_cs;
};

Batches plan_batches(const Node& a, const Node& b, const Node& out) {
  Batches p;
  std::size_t na = a.shape.size(), nb = b.shape.size(), no = out.shape.size();
  p.M = a.shape[na - 2];
  p.K = a.shape[na - 1];
  p.N = b.shape[nb - 1];
  p.a_rs = a.strides[na - 2];
  p.a_cs = a.strides[na - 1];
  p.b_rs = b.strides[nb - 2];
  p.b_cs = b.strides[nb - 1];
  std::size_t nbatch = no - 2;
  for (std::size_t d = 0; d < nbatch; ++d) p.count *= out.shape[d];
  p.a_off.assign(std::size_t(p.count), a.offset);
  p.b_off.assign(std::size_t(p.count), b.offset);
  if (nbatch == 0 || p.count == 0) return p;
  auto stride_at = [&](const Node& n, std::size_t d) -> int64_t {  // d indexes out's batch dims
    std::size_t lead = nbatch - (n.shape.size() - 2);
    if (d < lead || n.shape[d - lead] == 1) return 0;
    return n.strides[d - lead];
  };
  std::vector<int64_t> idx(nbatch, 0);
  int64_t oa = a.offset, ob = b.offset;
  for (int64_t i = 0; i < p.count; ++i) {
    p.a_off[std::size_t(i)] = oa;
    p.b_off[std::size_t(i)] = ob;
    for (std::size_t d = nbatch; d-- > 0;) {
      oa += stride_at(a, d);
      ob += stride_at(b, d);
      if (++idx[d] < out.shape[d]) break;
      oa -= stride_at(a, d) * out.shape[d];
      ob -= stride_at(b, d) * out.shape[d];
      idx[d] = 0;
    }
  }
  bool b_shared = true;
  for (int64_t off : p.b_off) b_shared &= off == p.b_off[0];
  if (p.count < 2) return p;
  int64_t rs = p.M > 1 ? p.a_rs : p.a_off[1] - p.a_off[0];
  bool stacked = b_shared && (p.a_cs == 1 || p.K <= 1) && rs >= std::max<int64_t>(p.K, 1);
  for (int64_t i = 0; stacked && i < p.count; ++i)
    stacked = p.a_off[std::size_t(i)] == p.a_off[0] + i * p.M * rs;
  if (stacked) {
    p.M *= p.count;
    p.a_rs = rs;
    p.a_off.resize(1);
    p.b_off.resize(1);
    p.count = 1;
  }
  return p;
}

// Runs fn(i) for each batch. One parallel region over the batches (each GEMM then runs on
// one thread) when the products are small or there are enough of them to share out evenly:
// that costs one fork/join instead of one per product. Otherwise the products run in turn,
// each GEMM using every thread.
template <class F>
void for_each_batch(const Batches& p, F&& fn) {
  int64_t work = std::max<int64_t>(1, p.M * p.N * std::max<int64_t>(p.K, 1));
  constexpr int64_t kSmall = 1 << 18, kLarge = int64_t(1) << 27;
  int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  bool across = p.count > 1 && (work < kSmall || (p.count >= 2 * threads && work < kLarge));
  if (across) {
    parallel_for(p.count, std::max<int64_t>(1, kSmall / work / 4), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) fn(i);
    });
  } else {
    for (int64_t i = 0; i < p.count; ++i) fn(i);
  }
}

// Offsets in Batches count from the start of storage.
template <class T>
const T* storage_base(const Node& n) {
  return static_cast<const T*>(n.storage->data);
}
template <class T>
Mat<T> mat_a(const Node& a, const Batches& p, int64_t i) {
  return {storage_base<T>(a) + p.a_off[std::size_t(i)], p.M, p.K, p.a_rs, p.a_cs};
}
template <class T>
Mat<T> mat_b(const Node& b, const Batches& p, int64_t i) {
  return {storage_base<T>(b) + p.b_off[std::size_t(i)], p.K, p.N, p.b_rs, p.b_cs};
}

// float16 (and bfloat16 where oneDNN declines): convert to float32, multiply, convert back.
template <class T>
void via_f32(const Mat<T>& a, const Mat<T>& b, T* c) {
  thread_local std::vector<float> abuf, bbuf, cbuf;
  Mat<float> x = pack<float>(a, abuf), y = pack<float>(b, bbuf);
  cbuf.resize(std::size_t(a.rows * b.cols));
  sgemm(x, y, 1.f, cbuf.data(), std::max<int64_t>(y.cols, 1), "matmul");
  for (std::size_t j = 0; j < cbuf.size(); ++j) c[j] = T(cbuf[j]);
}

// bfloat16 through oneDNN's matmul primitive (bf16 in and out, f32 accumulation).
struct Bf16Matmul {
  dnnl::memory::desc a, b, c;
  dnnl::matmul prim;
};
using Bf16Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>;

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// The primitive for this shape and layout, or null when oneDNN has none on this CPU.
const Bf16Matmul* bf16_primitive(const Mat<bfloat16_t>& a, const Mat<bfloat16_t>& b) {
  thread_local std::map<Bf16Key, std::unique_ptr<Bf16Matmul>> cache;
  Bf16Key key{a.rows, a.cols, b.cols, a.rs, a.cs, b.rs, b.cs};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second.get();
  std::unique_ptr<Bf16Matmul> m;
  try {
    using md = dnnl::memory::desc;
    auto bf16 = dnnl::memory::data_type::bf16;
    auto r = std::make_unique<Bf16Matmul>();
    r->a = md({a.rows, a.cols}, bf16, {a.rs, a.cs});
    r->b = md({b.rows, b.cols}, bf16, {b.rs, b.cs});
    r->c = md({a.rows, b.cols}, bf16, {b.cols, 1});
    r->prim = dnnl::matmul(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(r->a, r->b, r->c), cpu_engine()));
    m = std::move(r);
  } catch (const dnnl::error&) {
  }
  return (cache[key] = std::move(m)).get();
}

void bf16_gemm(const Mat<bfloat16_t>& a, const Mat<bfloat16_t>& b, bfloat16_t* c) {
  thread_local std::vector<bfloat16_t> abuf, bbuf;
  char t;
  int64_t ld;
  Mat<bfloat16_t> x = blas_layout(a, t, ld) ? with_layout(a, t, ld) : pack<bfloat16_t>(a, abuf);
  Mat<bfloat16_t> y = blas_layout(b, t, ld) ? with_layout(b, t, ld) : pack<bfloat16_t>(b, bbuf);
  const Bf16Matmul* m = bf16_primitive(x, y);
  if (!m) return via_f32(x, y, c);
  auto& eng = cpu_engine();
  thread_local dnnl::stream stream(eng);
  dnnl::memory ma(m->a, eng, const_cast<bfloat16_t*>(x.p)),
      mb(m->b, eng, const_cast<bfloat16_t*>(y.p)), mc(m->c, eng, c);
  m->prim.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  stream.wait();
}

// Cache-blocked C = A B for float64 and integers: B is packed a block at a time so the inner
// loop streams a contiguous row of it, and rows of C are split across threads. Integers
// accumulate in their unsigned twin, wrapping like PyTorch without signed overflow.
template <class T>
struct Accumulator {
  using type = T;
};
template <std::integral T>
struct Accumulator<T> {
  using type = std::make_unsigned_t<T>;
};

template <class T>
void blocked_gemm(const Mat<T>& a, const Mat<T>& b, T* c) {
  using Acc = typename Accumulator<T>::type;
  constexpr int64_t kKc = 128, kNc = 256;
  const int64_t M = a.rows, N = b.cols, K = a.cols;
  std::fill(c, c + M * N, T(0));
  std::vector<Acc> packed(std::size_t(std::min(K, kKc) * std::min(N, kNc)));
  for (int64_t jc = 0; jc < N; jc += kNc) {
    int64_t nb = std::min(kNc, N - jc);
    for (int64_t kc = 0; kc < K; kc += kKc) {
      int64_t kb = std::min(kKc, K - kc);
      for (int64_t k = 0; k < kb; ++k)
        for (int64_t j = 0; j < nb; ++j)
          packed[std::size_t(k * nb + j)] = Acc(b.at(kc + k, jc + j));
      parallel_for(M, std::max<int64_t>(1, kGrain / (kb * nb)), [&](int64_t rb, int64_t re) {
        Acc row[kNc];
        for (int64_t i = rb; i < re; ++i) {
          Acc* crow = reinterpret_cast<Acc*>(c + i * N + jc);
          for (int64_t j = 0; j < nb; ++j) row[j] = crow[j];
          for (int64_t k = 0; k < kb; ++k) {
            Acc av = Acc(a.at(i, kc + k));
            const Acc* brow = packed.data() + k * nb;
            for (int64_t j = 0; j < nb; ++j) row[j] += av * brow[j];
          }
          for (int64_t j = 0; j < nb; ++j) crow[j] = row[j];
        }
      });
    }
  }
}

template <class T>
void matmul_kernel(const KernelArgs& args) {
  const Node &a = *args.inputs[0], &b = *args.inputs[1];
  Batches p = plan_batches(a, b, args.out);
  T* out = args.out.ptr<T>();
  for_each_batch(p, [&](int64_t i) {
    Mat<T> x = mat_a<T>(a, p, i), y = mat_b<T>(b, p, i);
    T* c = out + i * p.M * p.N;
    if (p.M == 0 || p.N == 0) return;
    if (p.K == 0) {
      std::fill(c, c + p.M * p.N, T(0));
    } else if constexpr (std::is_same_v<T, float>) {
      sgemm(x, y, 1.f, c, std::max<int64_t>(y.cols, 1), "matmul");
    } else if constexpr (std::is_same_v<T, bfloat16_t>) {
      bf16_gemm(x, y, c);
    } else if constexpr (std::is_same_v<T, half>) {
      via_f32(x, y, c);
    } else {
      blocked_gemm(x, y, c);
    }
  });
}

const bool registered = [] {
  register_kernel("matmul", DeviceType::cpu, float32, matmul_kernel<float>);
  register_kernel("matmul", DeviceType::cpu, float64, matmul_kernel<double>);
  register_kernel("matmul", DeviceType::cpu, float16, matmul_kernel<half>);
  register_kernel("matmul", DeviceType::cpu, bfloat16, matmul_kernel<bfloat16_t>);
  register_kernel("matmul", DeviceType::cpu, int32, matmul_kernel<int32_t>);
  register_kernel("matmul", DeviceType::cpu, int64, matmul_kernel<int64_t>);
  register_kernel("matmul", DeviceType::cpu, int8, matmul_kernel<int8_t>);
  register_kernel("matmul", DeviceType::cpu, uint8, matmul_kernel<uint8_t>);
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
