// DLPack export and import: a DLManagedTensor that keeps a nabla storage alive, and a nabla
// storage that owns a producer's DLManagedTensor.
#include "nabla/dlpack.h"

#include <algorithm>
#include <vector>

#include "core/storage.h"
#include "ir/node.h"

namespace nabla {
namespace {

constexpr uint8_t kDLBoolCode = 6;  // kDLBool from DLPack 0.8; the 0.6 header lacks it

DLDataType to_dl_dtype(DType t) {
  uint8_t bits = uint8_t(itemsize(t) * 8);
  switch (t) {
    case bool_:
      return {kDLBoolCode, 8, 1};
    case uint8:
      return {kDLUInt, bits, 1};
    case int8:
    case int32:
    case int64:
      return {kDLInt, bits, 1};
    case bfloat16:
      return {kDLBfloat, bits, 1};
    default:
      return {kDLFloat, bits, 1};
  }
}

DType from_dl_dtype(DLDataType t) {
  std::string what = "code " + std::to_string(int(t.code)) + ", " + std::to_string(int(t.bits)) +
                     " bits, " + std::to_string(int(t.lanes)) + " lanes";
  if (t.lanes != 1) throw DTypeError("[from_dlpack] vector dtypes are not supported: " + what);
  switch (t.code) {
    case kDLInt:
      if (t.bits == 8) return int8;
      if (t.bits == 32) return int32;
      if (t.bits == 64) return int64;
      break;
    case kDLUInt:
      if (t.bits == 8) return uint8;
      break;
    case kDLFloat:
      if (t.bits == 16) return float16;
      if (t.bits == 32) return float32;
      if (t.bits == 64) return float64;
      break;
    case kDLBfloat:
      if (t.bits == 16) return bfloat16;
      break;
    case kDLBoolCode:
      if (t.bits == 8) return bool_;
      break;
    default:
      break;
  }
  throw DTypeError("[from_dlpack] unsupported dtype: " + what);
}

struct Export {
  DLManagedTensor managed{};
  Tensor keep;  // holds the node, hence the storage
  std::vector<int64_t> shape, strides;
};

}  // namespace

DLManagedTensor* to_dlpack(const Tensor& t) {
  if (!t.defined()) throw ValueError("[to_dlpack] the tensor is undefined");
  if (!t.is_concrete()) throw ValueError("[to_dlpack] cannot export a symbolic tensor");
  auto* e = new Export;
  e->keep = t;
  const Node& n = *t.node();
  e->shape.assign(n.shape.begin(), n.shape.end());
  e->strides.assign(n.strides.begin(), n.strides.end());
  DLTensor& d = e->managed.dl_tensor;
  d.data = n.data();
  d.device = {n.device.type == DeviceType::cpu ? kDLCPU : kDLCUDA, n.device.index};
  d.ndim = int(n.shape.size());
  d.dtype = to_dl_dtype(n.dtype);
  d.shape = e->shape.data();
  d.strides = e->strides.data();
  d.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](DLManagedTensor* self) {
    delete static_cast<Export*>(self->manager_ctx);
  };
  return &e->managed;
}

Tensor from_dlpack(DLManagedTensor* managed) {
  if (!managed) throw ValueError("[from_dlpack] got a null DLManagedTensor");
  const DLTensor& d = managed->dl_tensor;
  if (d.device.device_type != kDLCPU)
    throw ValueError("[from_dlpack] only CPU tensors can be imported, got device type " +
                     std::to_string(int(d.device.device_type)));
  DType dtype = from_dl_dtype(d.dtype);
  if (d.ndim < 0) throw ValueError("[from_dlpack] negative ndim " + std::to_string(d.ndim));
  if (d.ndim > 0 && !d.shape) throw ValueError("[from_dlpack] shape is null");
  Shape shape(d.shape, d.shape + d.ndim);
  for (int64_t s : shape)
    if (s < 0) throw ShapeError("[from_dlpack] negative dimension in " + shape_str(shape));
  Strides strides = d.strides ? Strides(d.strides, d.strides + d.ndim) : contiguous_strides(shape);
  int64_t numel = numel_of(shape);
  if (numel > 0 && !d.data) throw ValueError("[from_dlpack] data is null");
  if (d.byte_offset % itemsize(dtype) != 0)
    throw ValueError("[from_dlpack] byte_offset " + std::to_string(d.byte_offset) +
                     " is not a multiple of the element size");

  // The storage spans every element the strides reach; negative strides reach below
  // element 0, so the block starts at the lowest address and the view is offset into it.
  int64_t lowest = 0, highest = 0;
  if (numel > 0)
    for (std::size_t i = 0; i < shape.size(); ++i) {
      int64_t reach = (shape[i] - 1) * strides[i];
      (reach < 0 ? lowest : highest) += reach;
    }
  std::size_t size = itemsize(dtype);
  char* first = static_cast<char*>(d.data) + d.byte_offset;
  auto n = std::make_shared<Node>();
  n->shape = std::move(shape);
  n->strides = std::move(strides);
  n->dtype = dtype;
  n->offset = -lowest;
  n->storage = wrap_storage(first + lowest * int64_t(size),
                            std::size_t(numel > 0 ? highest - lowest + 1 : 0) * size, kCPU,
                            [managed](void*) {
                              if (managed->deleter) managed->deleter(managed);
                            });
  return Tensor(std::move(n));
}

}  // namespace nabla
