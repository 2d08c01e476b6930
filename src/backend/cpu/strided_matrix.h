// A strided view of one matrix, and float32 products of such views through oneDNN's sgemm:
// shared by the matmul and attention kernels.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace nabla::cpu {

// Element (r, c) is at p[r * rs + c * cs].
template <class T>
struct Mat {
  const T* p;
  int64_t rows, cols, rs, cs;
  Mat t() const { return {p, cols, rows, cs, rs}; }
  T at(int64_t r, int64_t c) const { return p[r * rs + c * cs]; }
};

// How a BLAS routine can read a matrix without a copy: 'N' (row-major, ld = row stride)
// or 'T' (column-major, ld = column stride). False when neither fits.
template <class T>
bool blas_layout(const Mat<T>& m, char& trans, int64_t& ld) {
  int64_t r = m.rows, c = m.cols;
  if ((c <= 1 || m.cs == 1) && (r <= 1 || m.rs >= std::max<int64_t>(c, 1))) {
    trans = 'N';
    ld = r <= 1 ? std::max<int64_t>(c, 1) : m.rs;
    return true;
  }
  if ((r <= 1 || m.rs == 1) && (c <= 1 || m.cs >= std::max<int64_t>(r, 1))) {
    trans = 'T';
    ld = c <= 1 ? std::max<int64_t>(r, 1) : m.cs;
    return true;
  }
  return false;
}

// A row-major copy of m in `buf`, converted to U.
template <class U, class T>
Mat<U> pack(const Mat<T>& m, std::vector<U>& buf) {
  buf.resize(std::size_t(m.rows * m.cols));
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) buf[std::size_t(r * m.cols + c)] = U(m.at(r, c));
  return {buf.data(), m.rows, m.cols, m.cols, 1};
}

// c (a.rows x b.cols, row stride ldc) = alpha * a b. Layouts oneDNN cannot read (steps in both
// dims, stride 0) are packed row-major first. A failure is an Error naming `op`.
void sgemm(const Mat<float>& a, const Mat<float>& b, float alpha, float* c, int64_t ldc,
           const char* op);

}  // namespace nabla::cpu
