#include "backend/cpu/strided_matrix.h"

#include <dnnl.hpp>
#include <string>

#include "nabla/error.h"

namespace nabla::cpu {

void sgemm(const Mat<float>& a, const Mat<float>& b, float alpha, float* c, int64_t ldc,
           const char* op) {
  thread_local std::vector<float> abuf, bbuf;
  char ta, tb;
  int64_t lda, ldb;
  Mat<float> x = blas_layout(a, ta, lda) ? a : pack<float>(a, abuf);
  Mat<float> y = blas_layout(b, tb, ldb) ? b : pack<float>(b, bbuf);
  blas_layout(x, ta, lda);
  blas_layout(y, tb, ldb);
  dnnl_status_t st =
      dnnl_sgemm(ta, tb, a.rows, b.cols, a.cols, alpha, x.p, lda, y.p, ldb, 0.f, c, ldc);
  if (st != dnnl_success)
    throw Error(std::string("[") + op + "] oneDNN sgemm failed with status " +
                std::to_string(int(st)));
}

}  // namespace nabla::cpu
