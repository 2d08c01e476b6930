// Zero-copy exchange with other frameworks (NumPy, PyTorch, JAX, CuPy...) through DLPack
// (https://dmlc.github.io/dlpack). Needs the DLPack header (Debian: libdlpack-dev).
#pragma once
#include <dlpack/dlpack.h>

#include "nabla/tensor.h"

namespace nabla {

// Shares `t`'s memory (no copy, strides kept). The storage stays alive until the consumer
// calls the returned tensor's deleter, which it must do exactly once. bool is exported with
// type code 6 (kDLBool of DLPack 0.8). Symbolic tensors raise ValueError.
DLManagedTensor* to_dlpack(const Tensor& t);

// Views a producer's tensor without copying (strides and byte_offset respected) and calls
// its deleter once the last view dies. On error (null, a device other than CPU: ValueError;
// an unsupported dtype or lanes != 1: DTypeError) nothing is taken: the caller still owns
// `managed`.
Tensor from_dlpack(DLManagedTensor* managed);

}  // namespace nabla
