// Drives the op table: each row becomes tests for forward vs its float64 reference in every
// listed dtype, for its VJP vs float64 central differences, and (OpTableJit) for compiled vs
// eager: the row's run traced by nb::jit must give the eager result bit for bit. A last test
// checks that every op in the registry has a row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "ir/op.h"
#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

double tolerance(DType t) {
  switch (t) {
    case float64: return 1e-9;
    case float32: return 2e-5;
    case float16: return 2e-2;
    case bfloat16: return 5e-2;
    default: return 0;
  }
}

// Builds one sample input holding `values` (logical row-major order).
Tensor make_input(const Arg& arg, DType dtype, const std::vector<double>& values) {
  if (!arg.non_contiguous || arg.shape.size() < 2) return tensor(values, arg.shape).astype(dtype);
  // Lay the data out transposed, then view it back: same values, non-unit inner stride.
  Shape perm;
  for (int64_t i = int64_t(arg.shape.size()) - 1; i >= 0; --i) perm.push_back(i);
  Tensor logical = tensor(values, arg.shape);
  Tensor storage = logical.permute(perm).contiguous().astype(dtype);
  Tensor t = storage.permute(perm);
  EXPECT_FALSE(t.is_contiguous());
  return t;
}

std::vector<double> draw(const Arg& arg, DType dtype, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(arg.lo, arg.hi);
  std::vector<double> v(std::size_t(numel_of(arg.shape)));
  bool round = arg.integer_values || !is_floating(dtype);
  for (double& x : v) {
    x = u(rng);
    if (round) x = std::floor(x);
    if (dtype == bool_) x = x > (arg.lo + arg.hi) / 2 ? 1 : 0;
  }
  return v;
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    double g = got[i], w = want[i];
    bool ok = (std::isnan(g) && std::isnan(w)) || g == w || std::fabs(g - w) <= tol + tol * std::fabs(w);
    if (!ok && reported++ < 5) ADD_FAILURE() << what << ": element " << i << " is " << g << ", expected " << w;
  }
}

uint64_t seed_of(const std::string& s) { return std::hash<std::string>{}(s); }

void check_forward(const Row& row, DType dtype) {
  for (std::size_t si = 0; si < row.samples.size(); ++si) {
    std::mt19937_64 rng(seed_of(row.op) + si);
    std::vector<Tensor> ins;
    std::vector<Ref> refs;
    for (const Arg& arg : row.samples[si]) {
      DType t = arg.dtype.value_or(dtype);
      Tensor x = make_input(arg, t, draw(arg, t, rng));
      ins.push_back(x);
      refs.push_back(Ref{x.shape(), x.to_vector<double>()});
    }
    std::string what = row.op + " " + std::string(dtype_name(dtype)) + " sample " + std::to_string(si);
    Tensor out = row.run(ins);
    Ref want = row.ref(refs);
    ASSERT_EQ(shape_str(out.shape()), shape_str(want.shape)) << what;
    // The reference rounds to the output's dtype before comparing.
    std::vector<double> w = tensor(want.v, want.shape).astype(out.dtype()).to_vector<double>();
    expect_close(out.to_vector<double>(), w, tolerance(out.dtype()) * row.tol_scale, what);
  }
}

double dot(const Tensor& a, const std::vector<double>& w) {
  std::vector<double> v = a.to_vector<double>();
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += v[i] * w[i];
  return s;
}

// Rows not run through nb::jit, each with the reason. Random rows draw from an explicit
// Generator in a fixed state, while a compiled function draws fresh numbers from the default
// generator at every call (docs/symbolic.md, "Random ops"): the results differ by design.
const std::map<std::string, std::string> kJitExcluded = {
    {"uniform", "random: draws from an explicit Generator; compiled calls use the default one"},
    {"normal", "random: draws from an explicit Generator; compiled calls use the default one"},
    {"randint", "random: draws from an explicit Generator; compiled calls use the default one"},
    {"bernoulli", "random: draws from an explicit Generator; compiled calls use the default one"},
    {"permutation", "random: draws from an explicit Generator; compiled calls use the default one"},
};

// Runs row.run through nb::jit on `ins` (tracing with placeholders shaped like them). Small
// samples are run a second time, through the cached Function without tracing.
Tensor run_jitted(const Row& row, const std::vector<Tensor>& ins, bool call_twice,
                  const std::string& what) {
  auto run = [&row](auto... xs) { return row.run({xs...}); };
  auto once = [&](auto f, auto... xs) {
    auto jf = nabla::jit(f);
    Tensor out = jf(xs...);
    if (call_twice) {
      Tensor again = jf(xs...);
      EXPECT_EQ(jf.cache_size(), 1u) << what;
      expect_close(again.to_vector<double>(), out.to_vector<double>(), 0, what + " second call");
    }
    return out;
  };
  switch (ins.size()) {
    case 1:
      return once([run](const Tensor& a) { return run(a); }, ins[0]);
    case 2:
      return once([run](const Tensor& a, const Tensor& b) { return run(a, b); }, ins[0], ins[1]);
    case 3:
      return once([run](const Tensor& a, const Tensor& b, const Tensor& c) { return run(a, b, c); },
                  ins[0], ins[1], ins[2]);
    case 4:
      return once([run](const Tensor& a, const Tensor& b, const Tensor& c,
                        const Tensor& d) { return run(a, b, c, d); },
                  ins[0], ins[1], ins[2], ins[3]);
    case 5:
      return once([run](const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& d,
                        const Tensor& e) { return run(a, b, c, d, e); },
                  ins[0], ins[1], ins[2], ins[3], ins[4]);
    default:
      ADD_FAILURE() << row.id() << ": " << ins.size() << " inputs, run_jitted handles 1 to 5";
      return {};
  }
}

// Compiled vs eager (DESIGN.md): each sample through nb::jit must give the eager result
// bit for bit (a compiled call replays the same kernels; fusion is bit-identical).
void check_jit(const Row& row, DType dtype) {
  for (std::size_t si = 0; si < row.samples.size(); ++si) {
    std::mt19937_64 rng(seed_of(row.op) + si);
    std::vector<Tensor> ins;
    for (const Arg& arg : row.samples[si]) {
      DType t = arg.dtype.value_or(dtype);
      ins.push_back(make_input(arg, t, draw(arg, t, rng)));
    }
    std::string what =
        row.id() + " " + std::string(dtype_name(dtype)) + " sample " + std::to_string(si) + " jit";
    if (ins.empty()) continue;  // nothing to trace: a creation op with no tensor input
    int64_t total = 0;
    for (const Tensor& x : ins) total += x.numel();
    // Samples above the threading grain (the fused path) once, in float32, to keep this quick.
    if (total > 32768 && dtype != float32 &&
        std::count(row.dtypes.begin(), row.dtypes.end(), float32))
      continue;
    Tensor eager = row.run(ins);
    Tensor compiled;
    try {
      compiled = run_jitted(row, ins, total <= 4096, what);
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " threw: " << e.what();
      continue;
    }
    if (!compiled.defined()) continue;
    ASSERT_EQ(shape_str(compiled.shape()), shape_str(eager.shape())) << what;
    ASSERT_EQ(dtype_name(compiled.dtype()), dtype_name(eager.dtype())) << what;
    expect_close(compiled.to_vector<double>(), eager.to_vector<double>(), 0, what);
  }
}

enum class Check { vjp, jvp, second_order };

// One gradient sample in float64: its values, and how to rebuild the inputs from them.
struct GradSample {
  const Row& row;
  const std::vector<Arg>& args;
  std::vector<std::vector<double>> values;
  std::vector<DType> types;

  std::vector<Tensor> build(bool with_grad) const {
    std::vector<Tensor> ins;
    for (std::size_t k = 0; k < args.size(); ++k) {
      Tensor x = make_input(args[k], types[k], values[k]);
      if (with_grad && differentiable(k)) x = x.detach().requires_grad_();
      ins.push_back(x);
    }
    return ins;
  }
  bool differentiable(std::size_t k) const { return args[k].differentiable && is_floating(types[k]); }
  // Central difference of scalar(values) along direction dir of input k (or element i if dir empty).
  template <class F>
  double central(std::size_t k, std::size_t i, F scalar) {
    const double eps = 1e-6;
    double keep = values[k][i];
    values[k][i] = keep + eps;
    double plus = scalar();
    values[k][i] = keep - eps;
    double minus = scalar();
    values[k][i] = keep;
    return (plus - minus) / (2 * eps);
  }
};

std::vector<double> random_vector(std::size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(n);
  for (double& c : v) c = u(rng);
  return v;
}

void check_gradient(const Row& row, Check check) {
  for (std::size_t si = 0; si < row.samples.size(); ++si) {
    const auto& args = row.samples[si];
    int64_t total = 0;
    for (const Arg& a : args) total += numel_of(a.shape);
    if (total > 256 || (check == Check::second_order && total > 64)) continue;  // two runs per element
    std::mt19937_64 rng(seed_of(row.op) + 1000 + si);
    GradSample gs{row, args, {}, {}};
    for (const Arg& a : args) {
      gs.types.push_back(a.dtype.value_or(float64));
      gs.values.push_back(draw(a, gs.types.back(), rng));
    }
    std::vector<Tensor> ins = gs.build(true);
    Tensor out = row.run(ins);
    if (out.numel() == 0 || !out.requires_grad()) continue;
    std::vector<double> cot = random_vector(std::size_t(out.numel()), rng);
    Tensor cot_t = tensor(cot, out.shape()).astype(out.dtype());
    std::string what = row.id() + " sample " + std::to_string(si);

    if (check == Check::vjp) {
      out.backward(cot_t);
      for (std::size_t k = 0; k < args.size(); ++k) {
        if (!ins[k].requires_grad()) continue;
        ASSERT_TRUE(ins[k].grad().defined()) << what << ": no gradient for input " << k;
        std::vector<double> numeric(gs.values[k].size());
        NoGradGuard no_grad;
        for (std::size_t i = 0; i < numeric.size(); ++i)
          numeric[i] = gs.central(k, i, [&] { return dot(row.run(gs.build(false)), cot); });
        expect_close(ins[k].grad().to_vector<double>(), numeric, 1e-5 * row.tol_scale,
                     what + " VJP, input " + std::to_string(k));
      }
    } else if (check == Check::jvp) {
      // J t against the directional central difference of f along t.
      std::vector<Tensor> tangents;
      std::vector<std::vector<double>> tv;
      for (std::size_t k = 0; k < args.size(); ++k) {
        tv.push_back(gs.differentiable(k) ? random_vector(gs.values[k].size(), rng)
                                          : std::vector<double>(gs.values[k].size(), 0.0));
        tangents.push_back(make_input(args[k], gs.types[k], tv.back()));
      }
      std::vector<Tensor> primals = gs.build(false);
      auto [y, jt] = jvp([&](const std::vector<Tensor>& a) { return row.run(a); }, primals, tangents);
      const double eps = 1e-6;
      auto shifted = [&](double sign) {
        auto saved = gs.values;
        for (std::size_t k = 0; k < args.size(); ++k)
          for (std::size_t i = 0; i < tv[k].size(); ++i) gs.values[k][i] += sign * eps * tv[k][i];
        NoGradGuard no_grad;
        std::vector<double> r = row.run(gs.build(false)).to_vector<double>();
        gs.values = saved;
        return r;
      };
      std::vector<double> plus = shifted(1), minus = shifted(-1), numeric(plus.size());
      for (std::size_t i = 0; i < plus.size(); ++i) numeric[i] = (plus[i] - minus[i]) / (2 * eps);
      std::vector<double> analytic = jt.to_vector<double>();
      for (std::size_t i = 0; i < numeric.size(); ++i)  // undefined derivatives (var of one element) are not compared
        if (!std::isfinite(numeric[i])) analytic[i] = numeric[i];
      expect_close(analytic, numeric, 1e-5 * row.tol_scale, what + " JVP");
    } else {
      // h(x) = <grad_x <f(x), cot>, w>; its gradient (backward through the backward) vs
      // central differences of h computed with first-order gradients.
      auto first_grads = [&](const std::vector<Tensor>& xs, bool create) {
        Tensor o = row.run(xs);
        std::vector<Tensor> wrt;
        for (std::size_t k = 0; k < xs.size(); ++k)
          if (xs[k].requires_grad()) wrt.push_back(xs[k]);
        return gradients({o}, wrt, {tensor(cot, o.shape()).astype(o.dtype())},
                         {.create_graph = create, .allow_unused = true});
      };
      std::vector<std::vector<double>> w;
      for (std::size_t k = 0; k < args.size(); ++k) w.push_back(random_vector(gs.values[k].size(), rng));
      auto h_of = [&](const std::vector<Tensor>& xs, bool create) {
        std::vector<Tensor> g = first_grads(xs, create);
        Tensor h = zeros({}, float64);
        for (std::size_t k = 0, j = 0; k < xs.size(); ++k)
          if (xs[k].requires_grad()) {
            if (g[j].defined()) h = h + (g[j] * tensor(w[k], xs[k].shape())).sum();
            ++j;
          }
        return h;
      };
      std::vector<Tensor> xs = gs.build(true);
      Tensor h = h_of(xs, true);
      if (!h.requires_grad()) continue;  // the first derivative is constant: nothing to check
      std::vector<Tensor> wrt;
      for (const Tensor& x : xs)
        if (x.requires_grad()) wrt.push_back(x);
      std::vector<Tensor> second = gradients({h}, wrt, {}, {.allow_unused = true});
      for (std::size_t k = 0, j = 0; k < args.size(); ++k) {
        if (!gs.differentiable(k)) continue;
        Tensor an = second[j++];
        std::vector<double> numeric(gs.values[k].size());
        for (std::size_t i = 0; i < numeric.size(); ++i)
          numeric[i] = gs.central(k, i, [&] { return h_of(gs.build(true), false).item<double>(); });
        std::vector<double> analytic = an.defined() ? an.to_vector<double>() : std::vector<double>(numeric.size(), 0.0);
        expect_close(analytic, numeric, 1e-4 * row.tol_scale, what + " second order, input " + std::to_string(k));
      }
    }
  }
}

class RowTest : public ::testing::Test {
 public:
  RowTest(const Row* row, std::optional<DType> dtype, Check check = Check::vjp, bool jit = false)
      : row_(row), dtype_(dtype), check_(check), jit_(jit) {}
  void TestBody() override {
    if (jit_) check_jit(*row_, *dtype_);
    else if (dtype_) check_forward(*row_, *dtype_);
    else check_gradient(*row_, check_);
  }

 private:
  const Row* row_;
  std::optional<DType> dtype_;
  Check check_;
  bool jit_;
};

TEST(OpTable, EveryRegisteredOpHasARow) {
  std::set<std::string> covered;
  for (const Row& r : rows()) {
    covered.insert(r.op);
    covered.insert(r.also_covers.begin(), r.also_covers.end());
  }
  for (const OpDef* op : all_ops())
    EXPECT_TRUE(covered.count(op->name)) << "op '" << op->name << "' has no row in the op table";
}

}  // namespace
}  // namespace nabla::optable

// The representative set whose gradients of gradients are checked (rows may opt in too).
const std::set<std::string> kSecondOrderOps = {
    "add", "sub", "mul", "div", "exp", "log", "tanh", "sigmoid", "sqrt", "pow", "matmul",
    "sum", "mean", "max", "logsumexp", "softmax", "log_softmax", "var", "gather", "index_select",
    "concat", "where"};

int main(int argc, char** argv) {
  using namespace nabla::optable;
  ::testing::InitGoogleTest(&argc, argv);
  for (const Row& row : rows()) {
    for (nabla::DType t : row.dtypes) {
      std::string name = row.id() + "_" + std::string(nabla::dtype_name(t));
      ::testing::RegisterTest("OpTableForward", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [&row, t]() -> ::testing::Test* { return new RowTest(&row, t); });
      if ((t == nabla::float32 || t == nabla::float64) && !kJitExcluded.count(row.op))
        ::testing::RegisterTest("OpTableJit", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                                [&row, t]() -> ::testing::Test* { return new RowTest(&row, t, Check::vjp, true); });
    }
    auto add = [&](const char* suite, Check check) {
      ::testing::RegisterTest(suite, row.id().c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [&row, check]() -> ::testing::Test* { return new RowTest(&row, std::nullopt, check); });
    };
    if (row.grad) {
      add("OpTableVJP", Check::vjp);
      add("OpTableJVP", Check::jvp);
    }
    if (row.grad && (row.second_order || kSecondOrderOps.count(row.op))) add("OpTableSecondOrder", Check::second_order);
  }
  return RUN_ALL_TESTS();
}
