// Rows for matmul (2-d, batched with broadcasting, the 1-d cases), dot, outer and einsum.
// References are plain loops in float64: a direct matmul, and a brute-force einsum that sums
// the product over every assignment of the subscripts.
#include <map>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

const std::vector<DType> kMatmulTypes = {float32, float64, float16, bfloat16, int32, int64};

// out[batch, i, j] = sum_k a[batch, i, k] * b[batch, k, j], with the 1-d rules of matmul.
Ref matmul_ref(Ref a, Ref b) {
  bool va = a.shape.size() == 1, vb = b.shape.size() == 1;
  if (va) a.shape.insert(a.shape.begin(), 1);
  if (vb) b.shape.push_back(1);
  std::size_t na = a.shape.size(), nb = b.shape.size();
  int64_t m = a.shape[na - 2], k = a.shape[na - 1], n = b.shape[nb - 1];
  std::size_t nbatch = std::max(na, nb) - 2;
  Shape batch(nbatch);
  auto dim = [&](const Ref& r, std::size_t d) -> int64_t {  // batch dim d of r, 1 when absent
    std::size_t lead = nbatch - (r.shape.size() - 2);
    return d < lead ? 1 : r.shape[d - lead];
  };
  for (std::size_t d = 0; d < nbatch; ++d) batch[d] = dim(a, d) == 1 ? dim(b, d) : dim(a, d);
  Shape out = batch;
  if (!va) out.push_back(m);
  if (!vb) out.push_back(n);
  Ref r{out, std::vector<double>(std::size_t(numel_of(batch) * m * n), 0.0)};
  for (int64_t bi = 0; bi < numel_of(batch); ++bi) {
    int64_t oa = 0, ob = 0, rem = bi, sa = m * k, sb = k * n;
    for (std::size_t d = nbatch; d-- > 0;) {
      int64_t i = rem % batch[d];
      rem /= batch[d];
      if (dim(a, d) > 1) oa += i * sa;
      if (dim(b, d) > 1) ob += i * sb;
      sa *= dim(a, d);
      sb *= dim(b, d);
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += a.v[std::size_t(oa + i * k + p)] * b.v[std::size_t(ob + p * n + j)];
        r.v[std::size_t((bi * m + i) * n + j)] = s;
      }
  }
  return r;
}

// Brute-force einsum over letters (no "..."): loops over every assignment of every subscript.
Ref einsum_ref(const std::string& eq, const std::vector<Ref>& in) {
  std::size_t arrow = eq.find("->");
  std::vector<std::string> terms(1);
  for (char ch : eq.substr(0, arrow))
    if (ch == ',')
      terms.emplace_back();
    else
      terms.back() += ch;
  std::string out = eq.substr(arrow + 2);
  std::map<char, int64_t> size;
  for (std::size_t t = 0; t < terms.size(); ++t)
    for (std::size_t d = 0; d < terms[t].size(); ++d) size[terms[t][d]] = in[t].shape[d];
  std::vector<char> letters;
  for (auto& [c, s] : size) letters.push_back(c);
  Shape out_shape;
  for (char c : out) out_shape.push_back(size[c]);
  Ref r{out_shape, std::vector<double>(std::size_t(numel_of(out_shape)), 0.0)};
  std::map<char, int64_t> at;
  int64_t total = 1;
  for (char c : letters) total *= size[c];
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t rem = flat;
    for (std::size_t i = letters.size(); i-- > 0;) {
      at[letters[i]] = rem % size[letters[i]];
      rem /= size[letters[i]];
    }
    double prod = 1;
    for (std::size_t t = 0; t < terms.size(); ++t) {
      Shape idx;
      for (char c : terms[t]) idx.push_back(at[c]);
      prod *= in[t].at(idx);
    }
    int64_t o = 0;
    for (std::size_t d = 0; d < out.size(); ++d) o = o * out_shape[d] + at[out[d]];
    r.v[std::size_t(o)] += prod;
  }
  return r;
}

Row einsum_row(const std::string& variant, const std::string& eq,
               std::vector<std::vector<Arg>> samples, const std::string& ref_eq = "") {
  std::string explicit_eq = ref_eq.empty() ? eq : ref_eq;
  return Row{
      .op = "matmul",
      .variant = "einsum_" + variant,
      .samples = std::move(samples),
      .run = [eq](const std::vector<Tensor>& in) { return einsum(eq, in); },
      .ref = [explicit_eq](const std::vector<Ref>& in) { return einsum_ref(explicit_eq, in); },
      .dtypes = {float32, float64},
      .tol_scale = 10,
      .also_covers = {"sum", "mul", "permute", "reshape", "diagonal"}};
}

Arg nc(Shape s) { return Arg{.shape = std::move(s), .non_contiguous = true}; }

NABLA_OP_ROWS(
    Row{.op = "matmul",
        .variant = "2d",
        .samples = {{Arg{.shape = {3, 4}}, Arg{.shape = {4, 5}}},
                    {nc({4, 3}), nc({3, 5})},
                    {nc({4, 3}), Arg{.shape = {3, 2}}},
                    {Arg{.shape = {1, 4}}, Arg{.shape = {4, 1}}},
                    {Arg{.shape = {0, 3}}, Arg{.shape = {3, 4}}},
                    {Arg{.shape = {3, 0}}, Arg{.shape = {0, 4}}},
                    {Arg{.shape = {200, 300}}, nc({300, 150})}},
        .run = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
        .ref = [](const std::vector<Ref>& in) { return matmul_ref(in[0], in[1]); },
        .dtypes = kMatmulTypes,
        .tol_scale = 10},
    Row{.op = "matmul",
        .variant = "batched",
        .samples = {{Arg{.shape = {2, 3, 4}}, Arg{.shape = {2, 4, 5}}},
                    {Arg{.shape = {2, 1, 3, 4}}, Arg{.shape = {3, 4, 2}}},
                    {Arg{.shape = {3, 4}}, Arg{.shape = {2, 4, 5}}},
                    {Arg{.shape = {2, 3, 4}}, Arg{.shape = {4, 5}}},
                    {Arg{.shape = {2, 1, 4}}, Arg{.shape = {4, 3}}},
                    {nc({2, 3, 4}), nc({2, 4, 3})},
                    {Arg{.shape = {0, 3, 4}}, Arg{.shape = {4, 2}}},
                    {Arg{.shape = {64, 20, 30}}, Arg{.shape = {64, 30, 20}}}},
        .run = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
        .ref = [](const std::vector<Ref>& in) { return matmul_ref(in[0], in[1]); },
        .dtypes = kMatmulTypes,
        .tol_scale = 10},
    Row{.op = "matmul",
        .variant = "vector",
        .samples = {{Arg{.shape = {4}}, Arg{.shape = {4}}},
                    {Arg{.shape = {4}}, Arg{.shape = {4, 3}}},
                    {Arg{.shape = {3, 4}}, Arg{.shape = {4}}},
                    {Arg{.shape = {4}}, Arg{.shape = {2, 4, 3}}},
                    {nc({2, 3, 4}), Arg{.shape = {4}}},
                    {Arg{.shape = {0}}, Arg{.shape = {0}}}},
        .run = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
        .ref = [](const std::vector<Ref>& in) { return matmul_ref(in[0], in[1]); },
        .dtypes = kMatmulTypes,
        .tol_scale = 10},
    Row{.op = "matmul",
        .variant = "small_ints",
        .samples = {{Arg{.shape = {3, 4}, .lo = 0, .hi = 3},
                     Arg{.shape = {4, 5}, .lo = 0, .hi = 3}},
                    {Arg{.shape = {2, 3, 4}, .lo = 0, .hi = 3},
                     Arg{.shape = {4, 2}, .lo = 0, .hi = 3}}},
        .run = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
        .ref = [](const std::vector<Ref>& in) { return matmul_ref(in[0], in[1]); },
        .dtypes = {int8, uint8, int32},
        .grad = false},
    Row{.op = "matmul",
        .variant = "dot",
        .samples = {{Arg{.shape = {5}}, Arg{.shape = {5}}},
                    {Arg{.shape = {40000}}, Arg{.shape = {40000}}}},
        .run = [](const std::vector<Tensor>& in) { return dot(in[0], in[1]); },
        .ref = [](const std::vector<Ref>& in) { return matmul_ref(in[0], in[1]); },
        .tol_scale = 50},
    Row{.op = "mul",
        .variant = "outer",
        .samples = {{Arg{.shape = {3}}, Arg{.shape = {4}}}, {Arg{.shape = {0}}, Arg{.shape = {4}}}},
        .run = [](const std::vector<Tensor>& in) { return outer(in[0], in[1]); },
        .ref = [](const std::vector<Ref>& in) { return einsum_ref("i,j->ij", in); },
        .dtypes = {float32, float64, int64}},
    einsum_row("mm", "ij,jk->ik",
               {{Arg{.shape = {3, 4}}, Arg{.shape = {4, 5}}}, {nc({3, 4}), nc({4, 2})}}),
    einsum_row("bmm", "bij,bjk->bik", {{Arg{.shape = {2, 3, 4}}, Arg{.shape = {2, 4, 3}}}}),
    einsum_row("dot", "i,i->", {{Arg{.shape = {6}}, Arg{.shape = {6}}}}),
    einsum_row("transpose", "ij->ji", {{Arg{.shape = {3, 4}}}, {nc({2, 5})}}),
    einsum_row("diag", "ii->i", {{Arg{.shape = {4, 4}}}}),
    einsum_row("trace", "ii->", {{Arg{.shape = {4, 4}}}, {nc({3, 3})}}),
    einsum_row("rowdot", "bi,bi->b", {{Arg{.shape = {3, 5}}, Arg{.shape = {3, 5}}}}),
    einsum_row("outer", "i,j->ij", {{Arg{.shape = {3}}, Arg{.shape = {4}}}}),
    einsum_row("colsum", "ij->j", {{Arg{.shape = {3, 4}}}}),
    einsum_row("hadamard", "ij,ij->ij", {{Arg{.shape = {3, 4}}, Arg{.shape = {3, 4}}}}),
    einsum_row("chain", "ij,jk,kl->il",
               {{Arg{.shape = {2, 3}}, Arg{.shape = {3, 4}}, Arg{.shape = {4, 2}}}}),
    einsum_row("bilinear", "bn,anm,bm->ba",
               {{Arg{.shape = {2, 3}}, Arg{.shape = {4, 3, 2}}, Arg{.shape = {2, 2}}}}),
    einsum_row("implicit", "ij,jk", {{Arg{.shape = {3, 4}}, Arg{.shape = {4, 2}}}}, "ij,jk->ik"),
    einsum_row("permuted_out", "bij,bjk->kbi",
               {{Arg{.shape = {2, 3, 4}}, Arg{.shape = {2, 4, 3}}}}),
    einsum_row("ellipsis", "...ij,...jk->...ik",
               {{Arg{.shape = {2, 3, 4}}, Arg{.shape = {2, 4, 3}}}}, "bij,bjk->bik"));

}  // namespace
}  // namespace nabla::optable
