// The discrete Fourier transforms. Three ops do the work on complex tensors stored as
// (..., 2) real tensors: fft_c2c, fft_r2c (the n/2 + 1 non-negative frequencies of a real
// signal) and fft_c2r (a real signal from its Hermitian half spectrum). All are linear, so
// each VJP is another transform: c2c's adjoint is c2c in the other direction; r2c's is c2r
// after halving the frequencies that stand for a conjugate pair, and c2r's is r2c followed by
// doubling them (the weights PyTorch's gradients use). Attributes: dim (in the real tensor),
// scale (the normalisation), inverse (c2c), n (c2r: the output length).
#include <cmath>

#include "nabla/ops/binary.h"
#include "nabla/ops/creation.h"
#include "nabla/ops/join.h"
#include "nabla/ops/signal.h"
#include "ops/common.h"

namespace nabla {
namespace {

Attrs with(Attrs a, const char* name, AttrValue v) {
  a.set(name, std::move(v));
  return a;
}

const OpDef& c2c_op();
const OpDef& r2c_op();
const OpDef& c2r_op();

// (1, .., m, .., 1) weights along dim of a complex tensor of `ndim` real dims: `edge` at the
// zero and (even n) Nyquist frequencies, `middle` at the others.
Tensor pair_weights(int64_t n, int64_t dim, std::size_t ndim, double edge, double middle,
                    DType dtype) {
  int64_t m = n / 2 + 1;
  std::vector<double> w(std::size_t(m), middle);
  w[0] = edge;
  if (n % 2 == 0) w.back() = edge;
  Shape s(ndim, 1);
  s[std::size_t(dim)] = m;
  return tensor(w, s).astype(dtype);
}

const OpDef& kC2C = define_op({
    .name = "fft_c2c",
    .infer = same_as_input,
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      return {
          apply(c2c_op(), {c.cotangent}, with(c.attrs, "inverse", !c.attrs.get<bool>("inverse")))};
    },
});

const OpDef& kR2C = define_op({
    .name = "fft_r2c",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s = in[0].shape();
      auto d = std::size_t(a.get<int64_t>("dim"));
      s[d] = s[d] / 2 + 1;
      s.push_back(2);
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      int64_t dim = c.attrs.get<int64_t>("dim"), n = c.inputs[0].shape()[std::size_t(dim)];
      Tensor g = c.cotangent *
                 pair_weights(n, dim, c.cotangent.shape().size(), 1.0, 0.5, c.cotangent.dtype());
      return {apply(c2r_op(), {g}, with(c.attrs, "n", n))};
    },
});

const OpDef& kC2R = define_op({
    .name = "fft_c2r",
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      Shape s = in[0].shape();
      s.pop_back();
      s[std::size_t(a.get<int64_t>("dim"))] = a.get<int64_t>("n");
      return {s, in[0].dtype()};
    },
    .vjp = [](const VjpContext& c) -> std::vector<Tensor> {
      int64_t dim = c.attrs.get<int64_t>("dim"), n = c.attrs.get<int64_t>("n");
      Attrs a{{"dim", dim}, {"scale", c.attrs.get<double>("scale")}};
      Tensor g = apply(r2c_op(), {c.cotangent}, a);
      return {g * pair_weights(n, dim, g.shape().size(), 1.0, 2.0, g.dtype())};
    },
});

const OpDef& c2c_op() { return kC2C; }
const OpDef& r2c_op() { return kR2C; }
const OpDef& c2r_op() { return kC2R; }

std::string shape_of(const Tensor& x) { return shape_str(x.shape()); }

void check_dtype(const char* op, const Tensor& x) {
  if (x.dtype() != float32 && x.dtype() != float64)
    throw DTypeError(std::string("[") + op + "] needs a float32 or float64 input, got " +
                     dtype_str(x.dtype()));
}

void check_complex(const char* op, const Tensor& x) {
  if (x.ndim() < 2 || x.shape().back() != 2)
    throw ShapeError(std::string("[") + op +
                     "] expects a complex tensor stored as (..., 2) (real, imaginary), got " +
                     shape_of(x));
}

// The scale of a transform of length n: forward or inverse, under `norm`.
double norm_scale(const char* op, const std::string& norm, int64_t n, bool inverse) {
  if (norm == "ortho") return 1.0 / std::sqrt(double(n));
  if (norm == "backward") return inverse ? 1.0 / double(n) : 1.0;
  if (norm == "forward") return inverse ? 1.0 : 1.0 / double(n);
  throw ValueError(std::string("[") + op +
                   "] norm must be \"backward\", \"ortho\" or \"forward\", got \"" + norm + "\"");
}

// Crops or zero-pads dim (of the real tensor) to `len`.
Tensor resized(const Tensor& x, int64_t dim, int64_t len) {
  int64_t have = x.shape()[std::size_t(dim)];
  if (len == have) return x;
  if (len < have) return x.slice(dim, 0, len);
  std::vector<int64_t> pads(std::size_t(2 * (x.ndim() - dim)), 0);
  pads.back() = len - have;
  return pad(x, pads);
}

void check_length(const char* op, int64_t n, const Tensor& x, int64_t dim) {
  if (n < 1)
    throw ValueError(std::string("[") + op + "] needs a signal length n >= 1, got " +
                     std::to_string(n) + " for the input " + shape_of(x) + " along dim " +
                     std::to_string(dim));
}

Tensor complex_transform(const char* op, const Tensor& x, int64_t n, int64_t dim,
                         const std::string& norm, bool inverse) {
  check_complex(op, x);
  check_dtype(op, x);
  int64_t d = normalize_axis(dim, x.ndim() - 1, op);
  if (n == -1) n = x.shape()[std::size_t(d)];
  check_length(op, n, x, dim);
  double scale = norm_scale(op, norm, n, inverse);
  return apply(kC2C, {resized(x, d, n)}, {{"dim", d}, {"inverse", inverse}, {"scale", scale}});
}

}  // namespace

Tensor fft(const Tensor& x, int64_t n, int64_t dim, const std::string& norm) {
  return complex_transform("fft", x, n, dim, norm, false);
}

Tensor ifft(const Tensor& x, int64_t n, int64_t dim, const std::string& norm) {
  return complex_transform("ifft", x, n, dim, norm, true);
}

Tensor rfft(const Tensor& x, int64_t n, int64_t dim, const std::string& norm) {
  check_dtype("rfft", x);
  if (x.ndim() == 0) throw ShapeError("[rfft] needs at least one dim, got a 0-d tensor");
  int64_t d = normalize_axis(dim, x.ndim(), "rfft");
  if (n == -1) n = x.shape()[std::size_t(d)];
  check_length("rfft", n, x, dim);
  double scale = norm_scale("rfft", norm, n, false);
  return apply(kR2C, {resized(x, d, n)}, {{"dim", d}, {"scale", scale}});
}

Tensor irfft(const Tensor& x, int64_t n, int64_t dim, const std::string& norm) {
  check_complex("irfft", x);
  check_dtype("irfft", x);
  int64_t d = normalize_axis(dim, x.ndim() - 1, "irfft");
  if (n == -1) n = 2 * (x.shape()[std::size_t(d)] - 1);
  check_length("irfft", n, x, dim);
  double scale = norm_scale("irfft", norm, n, true);
  return apply(kC2R, {resized(x, d, n / 2 + 1)}, {{"dim", d}, {"n", n}, {"scale", scale}});
}

}  // namespace nabla
