// DLPack: zero-copy export and import, strides, dtypes, lifetimes and bad producers.
#include <gtest/gtest.h>
#include <nabla/dlpack.h>
#include <nabla/nabla.h>

namespace nb = nabla;

namespace {

// A producer that owns a buffer of doubles and counts its deleter calls.
struct Producer {
  static inline int deleted = 0;
  std::vector<double> data;
  std::vector<int64_t> shape, strides;
  DLManagedTensor managed{};

  static DLManagedTensor* make(std::vector<double> data, std::vector<int64_t> shape,
                               std::vector<int64_t> strides, int64_t first = 0) {
    auto* p = new Producer{std::move(data), std::move(shape), std::move(strides)};
    DLTensor& t = p->managed.dl_tensor;
    t.data = p->data.data();
    t.byte_offset = uint64_t(first) * sizeof(double);
    t.device = {kDLCPU, 0};
    t.ndim = int(p->shape.size());
    t.dtype = {kDLFloat, 64, 1};
    t.shape = p->shape.data();
    t.strides = p->strides.empty() ? nullptr : p->strides.data();
    p->managed.manager_ctx = p;
    p->managed.deleter = [](DLManagedTensor* self) {
      ++deleted;
      delete static_cast<Producer*>(self->manager_ctx);
    };
    return &p->managed;
  }
};

}  // namespace

TEST(DLPack, ExportDescribesTheTensorWithoutCopying) {
  nb::Tensor t = nb::arange(0, 12, 1, nb::float32).reshape({3, 4});
  DLManagedTensor* m = nb::to_dlpack(t);
  const DLTensor& d = m->dl_tensor;
  EXPECT_EQ(d.data, t.raw_data());
  EXPECT_EQ(d.device.device_type, kDLCPU);
  EXPECT_EQ(d.ndim, 2);
  EXPECT_EQ(d.shape[0], 3);
  EXPECT_EQ(d.shape[1], 4);
  EXPECT_EQ(d.strides[0], 4);
  EXPECT_EQ(d.strides[1], 1);
  EXPECT_EQ(d.dtype.code, kDLFloat);
  EXPECT_EQ(d.dtype.bits, 32);
  EXPECT_EQ(d.dtype.lanes, 1);
  EXPECT_EQ(d.byte_offset, 0u);
  m->deleter(m);
}

TEST(DLPack, RoundTripSharesMemory) {
  nb::Tensor t = nb::arange(0, 6, 1, nb::float64).reshape({2, 3});
  nb::Tensor u = nb::from_dlpack(nb::to_dlpack(t));
  EXPECT_EQ(u.shape(), t.shape());
  EXPECT_EQ(u.dtype(), nb::float64);
  EXPECT_EQ(u.raw_data(), t.raw_data());
  EXPECT_EQ(u.to_vector<double>(), t.to_vector<double>());
  u.fill_(5.0);  // writes through the shared memory
  EXPECT_EQ(t.to_vector<double>(), std::vector<double>(6, 5.0));
}

TEST(DLPack, StridedExportKeepsStrides) {
  nb::Tensor t = nb::arange(0, 12, 1, nb::float32).reshape({3, 4});
  nb::Tensor tt = t.transpose(0, 1).slice(0, 1, 4);  // (3, 3), strides (1, 4), offset 1
  DLManagedTensor* m = nb::to_dlpack(tt);
  EXPECT_EQ(m->dl_tensor.strides[0], 1);
  EXPECT_EQ(m->dl_tensor.strides[1], 4);
  EXPECT_EQ(m->dl_tensor.data, static_cast<void*>(static_cast<float*>(t.raw_data()) + 1));
  nb::Tensor u = nb::from_dlpack(m);
  EXPECT_FALSE(u.is_contiguous());
  EXPECT_EQ(u.to_vector<float>(), tt.to_vector<float>());
  EXPECT_EQ(u.to_vector<float>(), (std::vector<float>{1, 5, 9, 2, 6, 10, 3, 7, 11}));
}

TEST(DLPack, EveryDtypeRoundTrips) {
  for (nb::DType t : {nb::bool_, nb::uint8, nb::int8, nb::int32, nb::int64, nb::float16,
                      nb::bfloat16, nb::float32, nb::float64}) {
    nb::Tensor x = nb::arange(0, 6, 1, nb::float32).astype(t).reshape({2, 3});
    DLManagedTensor* m = nb::to_dlpack(x);
    EXPECT_EQ(m->dl_tensor.dtype.bits, nb::itemsize(t) * 8) << nb::dtype_name(t);
    nb::Tensor y = nb::from_dlpack(m);
    EXPECT_EQ(y.dtype(), t) << nb::dtype_name(t);
    EXPECT_EQ(y.to_vector<double>(), x.to_vector<double>()) << nb::dtype_name(t);
  }
  DLManagedTensor* b = nb::to_dlpack(nb::ones({2}, nb::bool_));
  EXPECT_EQ(b->dl_tensor.dtype.code, 6);  // kDLBool
  b->deleter(b);
  DLManagedTensor* h = nb::to_dlpack(nb::ones({2}, nb::bfloat16));
  EXPECT_EQ(h->dl_tensor.dtype.code, kDLBfloat);
  h->deleter(h);
}

TEST(DLPack, ExportKeepsStorageAliveUntilDeleted) {
  DLManagedTensor* m;
  {
    nb::Tensor t = nb::full({1000}, 3.0, nb::float64);
    m = nb::to_dlpack(t.slice(0, 10, 20));
  }
  const double* p = static_cast<const double*>(m->dl_tensor.data);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p[i], 3.0);
  m->deleter(m);
}

TEST(DLPack, ImportCallsDeleterOnceWhenLastViewDies) {
  Producer::deleted = 0;
  {
    nb::Tensor t = nb::from_dlpack(Producer::make({1, 2, 3, 4, 5, 6}, {2, 3}, {}));
    EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
    nb::Tensor col = t.select(1, 2);
    t = nb::Tensor();
    EXPECT_EQ(Producer::deleted, 0);
    EXPECT_EQ(col.to_vector<double>(), (std::vector<double>{3, 6}));
    nb::Tensor sum = col.sum();  // a fresh result does not hold the producer's memory
    col = nb::Tensor();
    EXPECT_EQ(Producer::deleted, 1);
    EXPECT_EQ(sum.item<double>(), 9.0);
  }
  EXPECT_EQ(Producer::deleted, 1);
  { nb::Tensor empty = nb::from_dlpack(Producer::make({}, {0, 3}, {})); }
  EXPECT_EQ(Producer::deleted, 2);
}

TEST(DLPack, ImportRespectsStridesOffsetsAndNegativeStrides) {
  Producer::deleted = 0;
  // Column-major (2, 3) over 0..5.
  nb::Tensor cm = nb::from_dlpack(Producer::make({0, 1, 2, 3, 4, 5}, {2, 3}, {1, 2}));
  EXPECT_EQ(cm.to_vector<double>(), (std::vector<double>{0, 2, 4, 1, 3, 5}));
  // byte_offset of 2 elements, stride 2.
  nb::Tensor off = nb::from_dlpack(Producer::make({0, 1, 2, 3, 4, 5}, {2}, {2}, 2));
  EXPECT_EQ(off.to_vector<double>(), (std::vector<double>{2, 4}));
  // Reversed: starts at the last element, stride -1.
  nb::Tensor rev = nb::from_dlpack(Producer::make({0, 1, 2, 3, 4, 5}, {6}, {-1}, 5));
  EXPECT_EQ(rev.to_vector<double>(), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  // Broadcast: stride 0.
  nb::Tensor bc = nb::from_dlpack(Producer::make({7}, {3}, {0}));
  EXPECT_EQ(bc.to_vector<double>(), (std::vector<double>{7, 7, 7}));
}

TEST(DLPack, BadProducersThrowAndKeepOwnership) {
  Producer::deleted = 0;
  EXPECT_THROW(nb::from_dlpack(nullptr), nb::ValueError);
  DLManagedTensor* m = Producer::make({1, 2}, {2}, {});
  m->dl_tensor.device = {kDLCUDA, 0};
  EXPECT_THROW(nb::from_dlpack(m), nb::ValueError);
  m->dl_tensor.device = {kDLCPU, 0};
  m->dl_tensor.dtype = {kDLComplex, 64, 1};
  EXPECT_THROW(nb::from_dlpack(m), nb::DTypeError);
  m->dl_tensor.dtype = {kDLFloat, 32, 4};
  EXPECT_THROW(nb::from_dlpack(m), nb::DTypeError);
  m->dl_tensor.dtype = {kDLUInt, 16, 1};
  EXPECT_THROW(nb::from_dlpack(m), nb::DTypeError);
  m->dl_tensor.dtype = {kDLFloat, 64, 1};
  int64_t bad_shape = -2;
  m->dl_tensor.shape = &bad_shape;
  m->dl_tensor.ndim = 1;
  EXPECT_THROW(nb::from_dlpack(m), nb::ShapeError);
  EXPECT_EQ(Producer::deleted, 0);  // errors leave the tensor with its producer
  m->deleter(m);
  EXPECT_EQ(Producer::deleted, 1);
  EXPECT_THROW(nb::to_dlpack(nb::Tensor()), nb::ValueError);
}
