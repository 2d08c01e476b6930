// Drives the op table: each row becomes tests for forward vs its float64 reference in every
// listed dtype, and for its VJP vs float64 central differences. A last test checks that
// every op in the registry has a row.
#include <gtest/gtest.h>

#include <cmath>
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

void check_gradient(const Row& row) {
  for (std::size_t si = 0; si < row.samples.size(); ++si) {
    const auto& args = row.samples[si];
    int64_t total = 0;
    for (const Arg& a : args) total += numel_of(a.shape);
    if (total > 256) continue;  // central differences cost two runs per element
    std::mt19937_64 rng(seed_of(row.op) + 1000 + si);
    std::vector<std::vector<double>> values;
    std::vector<DType> types;
    for (const Arg& a : args) {
      types.push_back(a.dtype.value_or(float64));
      values.push_back(draw(a, types.back(), rng));
    }
    auto build = [&](bool with_grad) {
      std::vector<Tensor> ins;
      for (std::size_t k = 0; k < args.size(); ++k) {
        Tensor x = make_input(args[k], types[k], values[k]);
        if (with_grad && args[k].differentiable && is_floating(types[k])) x = x.detach().requires_grad_();
        ins.push_back(x);
      }
      return ins;
    };
    std::vector<Tensor> ins = build(true);
    Tensor out = row.run(ins);
    if (out.numel() == 0 || !out.requires_grad()) continue;
    std::vector<double> cot(std::size_t(out.numel()));
    std::uniform_real_distribution<double> u(-1, 1);
    for (double& c : cot) c = u(rng);
    out.backward(tensor(cot, out.shape()).astype(out.dtype()));

    const double eps = 1e-6;
    std::string what = row.op + " gradient, sample " + std::to_string(si);
    for (std::size_t k = 0; k < args.size(); ++k) {
      if (!ins[k].requires_grad()) continue;
      ASSERT_TRUE(ins[k].grad().defined()) << what << ": no gradient for input " << k;
      std::vector<double> analytic = ins[k].grad().to_vector<double>();
      std::vector<double> numeric(values[k].size());
      NoGradGuard no_grad;
      for (std::size_t i = 0; i < values[k].size(); ++i) {
        double keep = values[k][i];
        values[k][i] = keep + eps;
        double plus = dot(row.run(build(false)), cot);
        values[k][i] = keep - eps;
        double minus = dot(row.run(build(false)), cot);
        values[k][i] = keep;
        numeric[i] = (plus - minus) / (2 * eps);
      }
      expect_close(analytic, numeric, 1e-5 * row.tol_scale, what + ", input " + std::to_string(k));
    }
  }
}

class RowTest : public ::testing::Test {
 public:
  RowTest(const Row* row, std::optional<DType> dtype) : row_(row), dtype_(dtype) {}
  void TestBody() override {
    if (dtype_) check_forward(*row_, *dtype_);
    else check_gradient(*row_);
  }

 private:
  const Row* row_;
  std::optional<DType> dtype_;
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

int main(int argc, char** argv) {
  using namespace nabla::optable;
  ::testing::InitGoogleTest(&argc, argv);
  for (const Row& row : rows()) {
    for (nabla::DType t : row.dtypes) {
      std::string name = row.id() + "_" + std::string(nabla::dtype_name(t));
      ::testing::RegisterTest("OpTableForward", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [&row, t]() -> ::testing::Test* { return new RowTest(&row, t); });
    }
    if (row.grad)
      ::testing::RegisterTest("OpTableGradient", row.id().c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [&row]() -> ::testing::Test* { return new RowTest(&row, std::nullopt); });
  }
  return RUN_ALL_TESTS();
}
