// Pre-packed float32 kernels (prepack.h): a oneDNN forward-inference convolution or matmul
// primitive made with its weights in the layout it prefers ("any"), run on a weight reordered
// into that layout once by the caller. The activations are reordered per call as in conv.cpp.
#include "backend/cpu/prepack.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "backend/cpu/conv_common.h"
#include "backend/cpu/dnnl_engine.h"

namespace nabla::cpu {
namespace {

using md = dnnl::memory::desc;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::memory::dims dims_of(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

struct DnnlWeight final : PackedWeight {
  dnnl::memory mem;
};

// Reorders `weight` (viewed through `user`, plain) into a fresh buffer of layout `want`.
std::shared_ptr<const PackedWeight> reorder_into(const md& user, const md& want, const float* w) {
  dnnl::engine& eng = dnnl_engine();
  dnnl::stream& s = dnnl_stream();
  auto packed = std::make_shared<DnnlWeight>();
  packed->mem = dnnl::memory(want, eng);
  dnnl::memory src(user, eng, const_cast<float*>(w));
  dnnl::reorder(dnnl::reorder::primitive_desc(eng, user, eng, want)).execute(s, src, packed->mem);
  s.wait();
  return packed;
}

const dnnl::memory& memory_of(const PackedWeight& w) {
  return static_cast<const DnnlWeight&>(w).mem;
}

void add_scratchpad(std::unordered_map<int, dnnl::memory>& args, const md& scratch) {
  // Per call: a library-owned scratchpad would be shared by concurrent runs of one primitive.
  if (scratch.get_size() > 0)
    args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratch, dnnl_engine()));
}

// ---- convolution (2 or 3 spatial dims): x (N, C, ...), w (O, C / G, ...), optional bias (O).

class ConvKernel final : public PackedKernel {
 public:
  ConvKernel(const Shape& x, const Shape& w, const Shape& y, const Attrs& attrs, bool bias) {
    const Shape stride = attrs.get<Shape>("stride"), pad = attrs.get<Shape>("padding"),
                dil = attrs.get<Shape>("dilation");
    const int64_t groups = attrs.get<int64_t>("groups");
    const std::size_t r = stride.size();
    const bool vol = r == 3;
    tag act = vol ? tag::ncdhw : tag::nchw;
    dnnl::memory::dims wd = dims_of(w);
    tag wt = vol ? tag::oidhw : tag::oihw;
    if (groups > 1) {  // a leading group dim (G, O / G, C / G, kernel...): the same bytes
      wd = {groups, w[0] / groups};
      wd.insert(wd.end(), w.begin() + 1, w.end());
      wt = vol ? tag::goidhw : tag::goihw;
    }
    x_user_ = md(dims_of(x), dt::f32, act);
    y_user_ = md(dims_of(y), dt::f32, act);
    w_user_ = md(wd, dt::f32, wt);
    dnnl::memory::dims st = dims_of(stride), dl, pl, pr;
    for (std::size_t i = 0; i < r; ++i) {
      dl.push_back(dil[i] - 1);  // oneDNN counts the gaps
      pl.push_back(pad[i]);
      pr.push_back(pad[r + i]);
    }
    md x_any(dims_of(x), dt::f32, tag::any), y_any(dims_of(y), dt::f32, tag::any);
    md w_any(wd, dt::f32, tag::any);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto algo = dnnl::algorithm::convolution_direct;
    auto desc =
        bias ? dnnl::convolution_forward::desc(prop, algo, x_any, w_any,
                                               md({w[0]}, dt::f32, tag::a), y_any, st, dl, pl, pr)
             : dnnl::convolution_forward::desc(prop, algo, x_any, w_any, y_any, st, dl, pl, pr);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::engine& eng = dnnl_engine();
    dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
    prim_ = dnnl::convolution_forward(pd);
    scratch_ = pd.scratchpad_desc();
    x_want_ = pd.src_desc();
    y_want_ = pd.dst_desc();
    w_want_ = pd.weights_desc();
    if (x_want_ != x_user_)
      x_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(eng, x_user_, eng, x_want_));
    if (y_want_ != y_user_)
      y_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(eng, y_want_, eng, y_user_));
    bias_ = bias ? md({w[0]}, dt::f32, tag::a) : md();
  }

  bool accepts(const PackedWeight& w) const override { return memory_of(w).get_desc() == w_want_; }

  std::shared_ptr<const PackedWeight> pack(const Node& weight) const override {
    Tensor keep;
    return reorder_into(w_user_, w_want_, contiguous_as<float, float>(weight, keep));
  }

  void run(const PackedWeight& w, std::span<const Node* const> in, Node& out) const override {
    dnnl::engine& eng = dnnl_engine();
    dnnl::stream& s = dnnl_stream();
    Tensor keep_x, keep_b;
    dnnl::memory x_user(x_user_, eng,
                        const_cast<float*>(contiguous_as<float, float>(*in[0], keep_x)));
    std::unordered_map<int, dnnl::memory> args;
    if (x_reorder_) {
      dnnl::memory x(x_want_, eng);
      x_reorder_->execute(s, x_user, x);
      args.emplace(DNNL_ARG_SRC, x);
    } else {
      args.emplace(DNNL_ARG_SRC, x_user);
    }
    args.emplace(DNNL_ARG_WEIGHTS, memory_of(w));
    if (in.size() > 2)
      args.emplace(DNNL_ARG_BIAS,
                   dnnl::memory(bias_, eng,
                                const_cast<float*>(contiguous_as<float, float>(*in[2], keep_b))));
    dnnl::memory y_user(y_user_, eng, out.ptr<float>());
    dnnl::memory y = y_reorder_ ? dnnl::memory(y_want_, eng) : y_user;
    args.emplace(DNNL_ARG_DST, y);
    add_scratchpad(args, scratch_);
    prim_.execute(s, args);
    if (y_reorder_) y_reorder_->execute(s, y, y_user);
    s.wait();
  }

 private:
  dnnl::primitive prim_;
  md x_user_, y_user_, w_user_, x_want_, y_want_, w_want_, bias_, scratch_;
  std::optional<dnnl::reorder> x_reorder_, y_reorder_;
};

// ---- matmul: x (..., M, K) with stacked rows (contiguous) times w (K, N) is one (rows, K) x
// (K, N) product.

class MatmulKernel final : public PackedKernel {
 public:
  MatmulKernel(int64_t rows, int64_t k, int64_t n) {
    x_ = md({rows, k}, dt::f32, tag::ab);
    y_ = md({rows, n}, dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(x_, md({k, n}, dt::f32, tag::any), y_), attr,
                                    dnnl_engine());
    prim_ = dnnl::matmul(pd);
    w_want_ = pd.weights_desc();
    scratch_ = pd.scratchpad_desc();
  }

  bool accepts(const PackedWeight& w) const override { return memory_of(w).get_desc() == w_want_; }

  std::shared_ptr<const PackedWeight> pack(const Node& weight) const override {
    const Shape& s = weight.shape;
    const int64_t rs = s[0] > 1 ? weight.strides[0] : s[1];  // size-1 dims: any stride
    const int64_t cs = s[1] > 1 ? weight.strides[1] : 1;
    if (rs > 0 && cs > 0)  // a transposed view (a Linear's W^T) is read in place
      return reorder_into(md(dims_of(s), dt::f32, dnnl::memory::dims{rs, cs}), w_want_,
                          weight.ptr<float>());
    Tensor keep;  // a broadcast (stride 0) weight: made plain first
    return reorder_into(md(dims_of(s), dt::f32, tag::ab), w_want_,
                        contiguous_as<float, float>(weight, keep));
  }

  void run(const PackedWeight& w, std::span<const Node* const> in, Node& out) const override {
    dnnl::engine& eng = dnnl_engine();
    dnnl::stream& s = dnnl_stream();
    std::unordered_map<int, dnnl::memory> args;
    args.emplace(DNNL_ARG_SRC, dnnl::memory(x_, eng, in[0]->ptr<float>()));
    args.emplace(DNNL_ARG_WEIGHTS, memory_of(w));
    args.emplace(DNNL_ARG_DST, dnnl::memory(y_, eng, out.ptr<float>()));
    add_scratchpad(args, scratch_);
    prim_.execute(s, args);
    s.wait();
  }

 private:
  dnnl::primitive prim_;
  md x_, y_, w_want_, scratch_;
};

// Kernels keyed by the integers that describe them; made outside the lock (slow).
std::shared_ptr<const PackedKernel> cached(
    const std::vector<int64_t>& key,
    const std::function<std::shared_ptr<const PackedKernel>()>& make) {
  static std::mutex mu;
  static std::map<std::vector<int64_t>, std::shared_ptr<const PackedKernel>> cache;
  {
    std::lock_guard lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  std::shared_ptr<const PackedKernel> k;
  try {
    k = make();
  } catch (const dnnl::error&) {  // no implementation: the ordinary kernel runs
  }
  std::lock_guard lock(mu);
  return cache.emplace(key, std::move(k)).first->second;
}

bool float32_cpu(std::span<const Node* const> in) {
  for (const Node* n : in)
    if (n->dtype != float32 || n->device.type != DeviceType::cpu || n->numel() == 0) return false;
  return true;
}

}  // namespace

std::shared_ptr<const PackedKernel> packed_kernel(std::string_view op,
                                                  std::span<const Node* const> in,
                                                  const Attrs& attrs) {
  if (in.size() < 2 || !float32_cpu(in)) return nullptr;
  const Shape &x = in[0]->shape, &w = in[1]->shape;
  if (op == "matmul") {
    if (in.size() != 2 || w.size() != 2 || x.empty() || x.back() != w[0] || !in[0]->is_contiguous())
      return nullptr;
    const int64_t k = w[0], n = w[1], rows = in[0]->numel() / k;
    // One row is a matrix-vector product: sgemm streams the plain weight once without packing
    // it, as fast as the blocked primitive (measured in bench/prepack_bench.cpp).
    if (rows < 2) return nullptr;
    return cached({0, rows, k, n}, [&] { return std::make_shared<MatmulKernel>(rows, k, n); });
  }
  const std::size_t r = op == "conv2d" ? 2 : op == "conv3d" ? 3 : 0;
  if (r == 0 || in.size() > 3 || x.size() != r + 2 || w.size() != r + 2) return nullptr;
  if (in.size() == 3 && in[2]->shape != Shape{w[0]}) return nullptr;
  const Shape stride = attrs.get<Shape>("stride"), pad = attrs.get<Shape>("padding"),
              dil = attrs.get<Shape>("dilation");
  Shape y{x[0], w[0]};
  for (std::size_t i = 0; i < r; ++i) {
    int64_t span = x[2 + i] + pad[i] + pad[r + i] - dil[i] * (w[2 + i] - 1) - 1;
    if (span < 0) return nullptr;
    y.push_back(span / stride[i] + 1);
  }
  std::vector<int64_t> key{int64_t(r), attrs.get<int64_t>("groups"), int64_t(in.size())};
  for (const Shape* s : {&x, &w, &stride, &pad, &dil}) append(key, *s);
  return cached(key, [&] { return std::make_shared<ConvKernel>(x, w, y, attrs, in.size() > 2); });
}

}  // namespace nabla::cpu
