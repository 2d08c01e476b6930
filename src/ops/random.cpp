// Random ops: the generator, op definitions and public functions. Every op carries the seed
// and the first Philox counter in its attributes (flag kRandom), so a kernel's output is a
// pure function of its attributes; the kernels live in src/backend/cpu/random.cpp.
#include "nabla/random.h"

#include <bit>
#include <cmath>
#include <limits>

#include "ops/common.h"

namespace nabla {

void Generator::manual_seed(uint64_t seed) { set_state({seed, 0}); }

GeneratorState Generator::state() const {
  std::lock_guard lock(mutex_);
  return {seed_, offset_};
}

void Generator::set_state(const GeneratorState& s) {
  std::lock_guard lock(mutex_);
  seed_ = s.seed;
  offset_ = s.offset;
}

GeneratorState Generator::advance(uint64_t counters) {
  std::lock_guard lock(mutex_);
  GeneratorState s{seed_, offset_};
  offset_ += counters;
  return s;
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {

OutputMeta meta_from_attrs(std::span<const Tensor>, const Attrs& a) {
  return {a.get<Shape>("shape"), a.get<DType>("dtype")};
}

const OpDef& kUniform = define_op({
    .name = "uniform",
    .flags = kRandom | kCreation,
    .arity = 0,
    .infer = meta_from_attrs,
    .dispatch_input = -1,
});

const OpDef& kNormal = define_op({
    .name = "normal",
    .flags = kRandom | kCreation,
    .arity = 0,
    .infer = meta_from_attrs,
    .dispatch_input = -1,
});

const OpDef& kRandint = define_op({
    .name = "randint",
    .flags = kRandom | kCreation,
    .arity = 0,
    .infer = meta_from_attrs,
    .dispatch_input = -1,
});

// One input (the probabilities) or none (attribute "p", with "shape" and "dtype").
const OpDef& kBernoulli = define_op({
    .name = "bernoulli",
    .flags = kRandom,
    .arity = -1,
    .infer = [](std::span<const Tensor> in, const Attrs& a) -> OutputMeta {
      if (in.size() > 1) throw ValueError("[bernoulli] expects at most one input");
      return in.empty() ? meta_from_attrs(in, a) : OutputMeta{in[0].shape(), in[0].dtype()};
    },
    .dispatch_input = -1,
});

const OpDef& kPermutation = define_op({
    .name = "permutation",
    .flags = kRandom | kCreation,
    .arity = 0,
    .infer = [](std::span<const Tensor>, const Attrs& a) -> OutputMeta {
      return {{a.get<int64_t>("n")}, a.get<DType>("dtype")};
    },
    .dispatch_input = -1,
});

void check_shape(const char* op, const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0)
      throw ShapeError("[" + std::string(op) + "] negative dimension in " + shape_str(shape));
}

void check_floating(const char* op, DType dtype) {
  if (!is_floating(dtype))
    throw DTypeError("[" + std::string(op) + "] needs a floating dtype, got " + dtype_str(dtype));
}

std::string num(double v) { return std::to_string(v); }

// Counters a draw of n elements uses at `words` 32-bit words per element.
uint64_t counters_for(int64_t n, int words) {
  uint64_t per = uint64_t(4 / words);
  return (uint64_t(n) + per - 1) / per;
}

// Takes the generator's state for `counters` counters and writes it into attrs.
Attrs with_stream(Attrs attrs, Generator* gen, uint64_t counters) {
  GeneratorState s = (gen ? *gen : default_generator()).advance(counters);
  attrs.set("seed", std::bit_cast<int64_t>(s.seed));
  attrs.set("offset", std::bit_cast<int64_t>(s.offset));
  return attrs;
}

int words_of(DType dtype) { return dtype == float64 ? 2 : 1; }

Tensor uniform_impl(const char* op, double low, double high, const Shape& shape, DType dtype,
                    Generator* gen) {
  check_shape(op, shape);
  check_floating(op, dtype);
  if (!std::isfinite(low) || !std::isfinite(high) || low > high)
    throw ValueError("[" + std::string(op) + "] needs finite low <= high, got low " + num(low) +
                     ", high " + num(high));
  Attrs a{{"shape", shape}, {"dtype", dtype}, {"low", low}};
  a.set("high", high);
  return apply(kUniform, {},
               with_stream(std::move(a), gen, counters_for(numel_of(shape), words_of(dtype))));
}

Tensor normal_impl(const char* op, double mean, double std, const Shape& shape, DType dtype,
                   Generator* gen) {
  check_shape(op, shape);
  check_floating(op, dtype);
  if (!std::isfinite(mean) || !std::isfinite(std) || std < 0)
    throw ValueError("[" + std::string(op) + "] needs a finite mean and std >= 0, got mean " +
                     num(mean) + ", std " + num(std));
  Attrs a{{"shape", shape}, {"dtype", dtype}, {"mean", mean}};
  a.set("std", std);
  return apply(kNormal, {},
               with_stream(std::move(a), gen, counters_for(numel_of(shape), words_of(dtype))));
}

// The [min, max] a dtype holds exactly as an integer.
std::pair<double, double> integer_limits(DType t) {
  switch (t) {
    case uint8:
      return {0, 255};
    case int8:
      return {-128, 127};
    case int32:
      return {-2147483648.0, 2147483647.0};
    case float16:
      return {-2048, 2048};
    case bfloat16:
      return {-256, 256};
    case float32:
      return {-16777216.0, 16777216.0};
    case float64:
      return {-9007199254740992.0, 9007199254740992.0};
    default:
      return {-9223372036854775808.0, 9223372036854775807.0};
  }
}

}  // namespace

Tensor rand(const Shape& shape, DType dtype, Generator* gen) {
  return uniform_impl("rand", 0.0, 1.0, shape, dtype, gen);
}

Tensor uniform(double low, double high, const Shape& shape, DType dtype, Generator* gen) {
  return uniform_impl("uniform", low, high, shape, dtype, gen);
}

Tensor randn(const Shape& shape, DType dtype, Generator* gen) {
  return normal_impl("randn", 0.0, 1.0, shape, dtype, gen);
}

Tensor normal(double mean, double std, const Shape& shape, DType dtype, Generator* gen) {
  return normal_impl("normal", mean, std, shape, dtype, gen);
}

Tensor rand_like(const Tensor& t, Generator* gen) {
  return uniform_impl("rand_like", 0.0, 1.0, t.shape(), t.dtype(), gen);
}

Tensor randn_like(const Tensor& t, Generator* gen) {
  return normal_impl("randn_like", 0.0, 1.0, t.shape(), t.dtype(), gen);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  check_shape("randint", shape);
  if (dtype == bool_) throw DTypeError("[randint] needs a numeric dtype, got bool");
  if (low >= high)
    throw ValueError("[randint] needs low < high, got low " + std::to_string(low) + ", high " +
                     std::to_string(high));
  auto [lo, hi] = integer_limits(dtype);
  if (double(low) < lo || double(high - 1) > hi)
    throw ValueError("[randint] range [" + std::to_string(low) + ", " + std::to_string(high) +
                     ") does not fit " + dtype_str(dtype));
  uint64_t range = uint64_t(high) - uint64_t(low);
  int words = range > (uint64_t(1) << 32) ? 2 : 1;
  Attrs a{{"shape", shape}, {"dtype", dtype}, {"low", low}};
  a.set("high", high);
  return apply(kRandint, {}, with_stream(std::move(a), gen, counters_for(numel_of(shape), words)));
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  check_floating("bernoulli", p.dtype());
  Tensor pc = p.contiguous();
  return apply(kBernoulli, {pc}, with_stream({}, gen, counters_for(p.numel(), 1)));
}

Tensor bernoulli(double p, const Shape& shape, DType dtype, Generator* gen) {
  check_shape("bernoulli", shape);
  if (dtype != bool_ && !is_integral(dtype)) check_floating("bernoulli", dtype);
  if (!(p >= 0 && p <= 1)) throw ValueError("[bernoulli] p must be in [0, 1], got " + num(p));
  Attrs a{{"shape", shape}, {"dtype", dtype}, {"p", p}};
  return apply(kBernoulli, {}, with_stream(std::move(a), gen, counters_for(numel_of(shape), 1)));
}

Tensor permutation(int64_t n, DType dtype, Generator* gen) {
  if (n < 0) throw ValueError("[permutation] n must be non-negative, got " + std::to_string(n));
  if (dtype != int64 && dtype != int32)
    throw DTypeError("[permutation] needs int64 or int32, got " + dtype_str(dtype));
  if (dtype == int32 && n > int64_t(std::numeric_limits<int32_t>::max()))
    throw ValueError("[permutation] n = " + std::to_string(n) + " does not fit int32");
  Attrs a{{"n", n}, {"dtype", dtype}};
  return apply(kPermutation, {}, with_stream(std::move(a), gen, counters_for(n, 2)));
}

}  // namespace nabla
