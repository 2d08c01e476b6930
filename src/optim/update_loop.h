// Runs an elementwise update over a parameter, its gradient and state tensors of the same
// shape, as one parallel loop over raw memory (float32 or float64).
#pragma once
#include <omp.h>

#include "ir/node.h"
#include "nabla/error.h"
#include "nabla/tensor.h"

namespace nabla::optim {

template <class F>
void update_loop(Tensor& p, const Tensor& grad, std::initializer_list<Tensor*> state, F f) {
  Tensor g = grad.dtype() == p.dtype() && grad.is_contiguous() ? grad : grad.astype(p.dtype()).contiguous();
  auto run = [&]<class T>() {
    T* pp = p.data_ptr<T>();
    const T* gp = g.data_ptr<T>();
    T* s[4] = {nullptr, nullptr, nullptr, nullptr};
    std::size_t k = 0;
    for (Tensor* t : state) s[k++] = t->data_ptr<T>();
    int64_t n = p.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) f(pp[i], gp[i], s, i);
  };
  if (p.dtype() == float32) run.template operator()<float>();
  else if (p.dtype() == float64) run.template operator()<double>();
  else throw DTypeError("[optimizer] parameters must be float32 or float64, got " + std::string(dtype_name(p.dtype())));
  ++p.node()->storage->version;  // the parameter changed in place: graphs that saved it are stale
}

}  // namespace nabla::optim
