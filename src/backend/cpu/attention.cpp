// CPU kernels of scaled_masked_softmax and the fused scaled_dot_product_attention.
// The fused kernel splits the work into (batch, block of query rows) tasks; each computes its
// scores q k^T * scale with one GEMM into a thread-local buffer that stays in cache, applies
// mask, causal limit and softmax row by row in that buffer, and multiplies by v straight into
// the output, so no (L, S) tensor ever reaches memory. float32 GEMMs go to oneDNN's sgemm
// (any row- or column-major view without a copy); other dtypes use a plain loop in their
// compute type.
#include <algorithm>
#include <limits>
#include <vector>

#include "backend/cpu/dtype_switch.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/parallel.h"
#include "backend/cpu/reduce_loops.h"
#include "backend/cpu/strided_matrix.h"
#include "ir/op.h"

namespace nabla::cpu {
namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

// The same for other dtypes, accumulating in C.
template <class C, class A, class B>
void loop_gemm(Mat<A> a, Mat<B> b, C alpha, C* c, int64_t ldc) {
  for (int64_t i = 0; i < a.rows; ++i) {
    C* row = c + i * ldc;
    std::fill(row, row + b.cols, C(0));
    for (int64_t k = 0; k < a.cols; ++k) {
      C av = alpha * C(a.at(i, k));
      for (int64_t j = 0; j < b.cols; ++j) row[j] += av * C(b.at(k, j));
    }
  }
}

// One row in place: w[j] = softmax_j(w[j] + mask[j * ms]) for j < limit, 0 from limit to n.
// The row's scale has already been applied. ms == 1 takes the vectorised path.
template <class C, class M>
void softmax_row(C* w, int64_t n, int64_t limit, const M* mask, int64_t ms) {
  if (mask) {
    if (ms == 1)
      for (int64_t j = 0; j < limit; ++j) w[j] += C(mask[j]);
    else
      for (int64_t j = 0; j < limit; ++j) w[j] += C(mask[j * ms]);
  }
  // Max and sum over 16 lanes and the exp as a plain map: the forms GCC vectorises.
  constexpr int kL = 16;
  C lanes[kL];
  std::fill(lanes, lanes + kL, -std::numeric_limits<C>::infinity());
  int64_t j = 0;
  for (; j + kL <= limit; j += kL)
    for (int l = 0; l < kL; ++l) lanes[l] = w[j + l] > lanes[l] ? w[j + l] : lanes[l];
  for (; j < limit; ++j) lanes[0] = w[j] > lanes[0] ? w[j] : lanes[0];
  C m = *std::max_element(lanes, lanes + kL);
  if (std::isinf(m)) m = m > 0 ? m : C(0);  // all -inf: the sum is 0 and the row NaN, as PyTorch
  for (j = 0; j < limit; ++j) w[j] = fast_exp(C(w[j] - m));
  std::fill(lanes, lanes + kL, C(0));
  for (j = 0; j + kL <= limit; j += kL)
    for (int l = 0; l < kL; ++l) lanes[l] += w[j + l];
  for (; j < limit; ++j) lanes[0] += w[j];
  C s = 0;
  for (int l = 0; l < kL; ++l) s += lanes[l];
  C inv = C(1) / s;
  for (int64_t j = 0; j < limit; ++j) w[j] *= inv;
  std::fill(w + limit, w + n, C(0));
}

// Row-major offsets of the leading dims (all but the last `tail`) of a node's strides.
DimList leading_dims(const Node& x, int tail) {
  DimList d;
  for (int i = 0; i + tail < int(x.shape.size()); ++i)
    d.add(x.shape[std::size_t(i)], x.strides[std::size_t(i)]);
  return d;
}

// The mask as a view of the scores' shape: dims where it has size 1 read with stride 0. The ops
// pass a mask that only broadcasts to the scores when their batch is sized at run time.
void view_as_scores(const Node& mask, const Shape& scores, Node& view) {
  view.storage = mask.storage;
  view.dtype = mask.dtype;
  view.offset = mask.offset;
  view.shape = scores;
  view.strides.clear();
  for (std::size_t d = 0; d < scores.size(); ++d)
    view.strides.push_back(mask.shape[d] == scores[d] ? mask.strides[d] : 0);
}

template <class T>
void masked_softmax_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node& x = *a.inputs[0];
  const Node* mask = a.inputs.size() > 1 ? a.inputs[1] : nullptr;
  Node broadcast;
  if (mask && mask->shape != x.shape) {
    view_as_scores(*mask, x.shape, broadcast);
    mask = &broadcast;
  }
  const C scale = C(a.attrs.get<double>("scale"));
  const bool causal = a.attrs.get<bool>("causal");
  const int64_t nd = int64_t(x.shape.size()), n = x.shape.back(), rows = n ? x.numel() / n : 0;
  const int64_t L = nd >= 2 ? x.shape[std::size_t(nd - 2)] : 1;
  const int64_t xs = x.strides.back(), ms = mask ? mask->strides.back() : 0;
  DimList xl = leading_dims(x, 1), ml = leading_dims(mask ? *mask : x, 1);
  const T* xp = x.ptr<T>();
  const T* mp = mask ? mask->ptr<T>() : nullptr;
  T* out = a.out.ptr<T>();
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)),
               [&](int64_t b, int64_t e) {
                 std::vector<C> buf(static_cast<std::size_t>(n));
                 for (int64_t r = b; r < e; ++r) {
                   const T* src = xp + xl.offset(r);
                   C* w = std::is_same_v<T, C> ? reinterpret_cast<C*>(out + r * n) : buf.data();
                   if (xs == 1)
                     for (int64_t j = 0; j < n; ++j) w[j] = C(src[j]) * scale;
                   else
                     for (int64_t j = 0; j < n; ++j) w[j] = C(src[j * xs]) * scale;
                   int64_t limit = causal ? std::min(n, r % L + 1) : n;
                   softmax_row(w, n, limit, mp ? mp + ml.offset(r) : mp, ms);
                   if constexpr (!std::is_same_v<T, C>)
                     for (int64_t j = 0; j < n; ++j) out[r * n + j] = T(w[j]);
                 }
               });
}

template <class T>
void attention_kernel(const KernelArgs& a) {
  using C = compute_t<T>;
  const Node &q = *a.inputs[0], &k = *a.inputs[1], &v = *a.inputs[2];
  const Node* mask = a.inputs.size() > 3 ? a.inputs[3] : nullptr;
  const C scale = C(a.attrs.get<double>("scale"));
  const bool causal = a.attrs.get<bool>("causal");
  const std::size_t nd = q.shape.size();
  const int64_t L = q.shape[nd - 2], E = q.shape[nd - 1], S = k.shape[nd - 2], Ev = v.shape[nd - 1];
  Node broadcast;
  if (mask) {
    Shape scores(q.shape.begin(), q.shape.end() - 1);
    scores.push_back(S);
    if (mask->shape != scores) {
      view_as_scores(*mask, scores, broadcast);
      mask = &broadcast;
    }
  }
  const int64_t batches = L ? a.out.numel() / (L * std::max<int64_t>(Ev, 1)) : 0;
  if (a.out.numel() == 0) return;
  T* out = a.out.ptr<T>();
  DimList ql = leading_dims(q, 2), kl = leading_dims(k, 2), vl = leading_dims(v, 2),
          ml = leading_dims(mask ? *mask : q, 2);
  auto rs = [](const Node& n, std::size_t back) { return n.strides[n.strides.size() - back]; };
  // Row blocks small enough for the scores to stay in L2, large enough for an efficient GEMM.
  // Causal blocks are smaller so that each skips more of the keys after its last row.
  int64_t block = std::clamp<int64_t>((int64_t(1) << 15) / std::max<int64_t>(S, 1), 8, 128);
  if (causal) block = std::min(block, std::max<int64_t>(32, (L + 3) / 4));
  const int64_t nblocks = (L + block - 1) / block, work = block * S * (E + Ev);
  parallel_for(
      batches * nblocks, std::max<int64_t>(1, (int64_t(1) << 17) / std::max<int64_t>(work, 1)),
      [&](int64_t tb, int64_t te) {
        thread_local std::vector<C> scores, acc;
        for (int64_t t = tb; t < te; ++t) {
          const int64_t bi = t / nblocks, r0 = (t % nblocks) * block, r1 = std::min(L, r0 + block);
          const int64_t rows = r1 - r0, cols = causal ? std::min(S, r1) : S;
          scores.resize(std::size_t(rows * std::max<int64_t>(cols, 1)));
          Mat<T> qm{q.ptr<T>() + ql.offset(bi) + r0 * rs(q, 2), rows, E, rs(q, 2), rs(q, 1)};
          Mat<T> km{k.ptr<T>() + kl.offset(bi), cols, E, rs(k, 2), rs(k, 1)};
          Mat<T> vm{v.ptr<T>() + vl.offset(bi), cols, Ev, rs(v, 2), rs(v, 1)};
          T* o = out + (bi * L + r0) * Ev;
          if (cols == 0) {
            std::fill(o, o + rows * Ev, T(0));
            continue;
          }
          if constexpr (std::is_same_v<T, float>) {
            if (E == 0)
              std::fill(scores.begin(), scores.end(), 0.f);
            else
              sgemm(qm, km.t(), scale, scores.data(), cols, kOp);
          } else {
            loop_gemm<C>(qm, km.t(), scale, scores.data(), cols);
          }
          const T* mrow = mask ? mask->ptr<T>() + ml.offset(bi) : nullptr;
          for (int64_t i = 0; i < rows; ++i)
            softmax_row(scores.data() + i * cols, cols, causal ? std::min(cols, r0 + i + 1) : cols,
                        mrow ? mrow + (r0 + i) * rs(*mask, 2) : mrow, mask ? rs(*mask, 1) : 0);
          Mat<C> pm{scores.data(), rows, cols, cols, 1};
          if constexpr (std::is_same_v<T, float>) {
            sgemm(pm, vm, 1.f, o, Ev, kOp);
          } else {
            acc.resize(std::size_t(rows * Ev));
            loop_gemm<C>(pm, vm, C(1), acc.data(), Ev);
            for (int64_t j = 0; j < rows * Ev; ++j) o[j] = T(acc[std::size_t(j)]);
          }
        }
      });
}

const bool registered = [] {
  for_each_float_dtype([]<class T>() {
    register_kernel("scaled_masked_softmax", DeviceType::cpu, dtype_of_v<T>,
                    masked_softmax_kernel<T>);
    register_kernel("scaled_dot_product_attention", DeviceType::cpu, dtype_of_v<T>,
                    attention_kernel<T>);
  });
  return true;
}();

}  // namespace
}  // namespace nabla::cpu
