// Rows for scaled_masked_softmax and scaled_dot_product_attention: float64 references by
// plain loops (scores, mask, causal limit, softmax, weighted sum of v), with batch dims and
// masks broadcast. The sdpa rows run the fused kernel forward and check the gradient of the
// composed path (inputs requiring a gradient take it).
#include <cmath>
#include <limits>

#include "op_table/op_table.h"

namespace nabla::optable {
namespace {

// r at the multi-index idx of a shape r broadcasts to (dims aligned on the right).
double bat(const Ref& r, const Shape& idx) {
  Shape j(r.shape.size());
  for (std::size_t d = 0; d < r.shape.size(); ++d)
    j[d] = r.shape[d] == 1 ? 0 : idx[idx.size() - r.shape.size() + d];
  return r.at(j);
}

Shape unflatten(int64_t i, const Shape& s) {
  Shape idx(s.size());
  for (std::size_t d = s.size(); d-- > 0;) {
    idx[d] = i % s[d];
    i /= s[d];
  }
  return idx;
}

Shape broadcast(std::initializer_list<Shape> shapes) {
  std::size_t n = 0;
  for (const Shape& s : shapes) n = std::max(n, s.size());
  Shape out(n, 1);
  for (const Shape& s : shapes)
    for (std::size_t d = 0; d < s.size(); ++d)
      if (s[d] != 1) out[n - s.size() + d] = s[d];
  return out;
}

// Softmax of one row in place over [0, limit), zeros after.
void softmax_ref(std::vector<double>& w, std::size_t limit) {
  double m = -std::numeric_limits<double>::infinity(), s = 0;
  for (std::size_t j = 0; j < limit; ++j) m = std::max(m, w[j]);
  for (std::size_t j = 0; j < limit; ++j) s += (w[j] = std::exp(w[j] - m));
  for (std::size_t j = 0; j < w.size(); ++j) w[j] = j < limit ? w[j] / s : 0.0;
}

Ref masked_softmax_ref(const Ref& x, const Ref* mask, double scale, bool causal) {
  Ref y = x;
  const std::size_t n = std::size_t(x.shape.back());
  const int64_t L = x.shape.size() >= 2 ? x.shape[x.shape.size() - 2] : 1;
  if (n == 0) return y;
  for (std::size_t r = 0; r < x.v.size() / n; ++r) {
    std::vector<double> w(n);
    for (std::size_t j = 0; j < n; ++j) {
      w[j] = x.v[r * n + j] * scale;
      if (mask) w[j] += bat(*mask, unflatten(int64_t(r * n + j), x.shape));
    }
    softmax_ref(w, causal ? std::min<std::size_t>(n, std::size_t(int64_t(r) % L) + 1) : n);
    std::copy(w.begin(), w.end(), y.v.begin() + std::ptrdiff_t(r * n));
  }
  return y;
}

Ref sdpa_ref(const Ref& q, const Ref& k, const Ref& v, const Ref* mask, double scale, bool causal) {
  auto batch = [](const Shape& s) { return Shape(s.begin(), s.end() - 2); };
  Shape b = broadcast({batch(q.shape), batch(k.shape), batch(v.shape)});
  const int64_t L = q.shape[q.shape.size() - 2], E = q.shape.back(),
                S = k.shape[k.shape.size() - 2], Ev = v.shape.back();
  if (scale == 0) scale = 1 / std::sqrt(double(E));
  Shape out_shape = b;
  out_shape.push_back(L);
  out_shape.push_back(Ev);
  Ref out{out_shape, std::vector<double>(std::size_t(numel_of(out_shape)), 0.0)};
  const int64_t nb = numel_of(b);
  for (int64_t bi = 0; bi < nb; ++bi) {
    Shape idx = unflatten(bi, b);
    auto at = [&](const Ref& r, int64_t i, int64_t j) {
      Shape full = idx;
      full.push_back(i);
      full.push_back(j);
      return bat(r, full);
    };
    for (int64_t i = 0; i < L; ++i) {
      std::vector<double> w(static_cast<std::size_t>(S));
      for (int64_t j = 0; j < S; ++j) {
        double s = 0;
        for (int64_t e = 0; e < E; ++e) s += at(q, i, e) * at(k, j, e);
        w[std::size_t(j)] = s * scale + (mask ? at(*mask, i, j) : 0.0);
      }
      softmax_ref(w, std::size_t(causal ? std::min(S, i + 1) : S));
      for (int64_t c = 0; c < Ev; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < S; ++j) acc += w[std::size_t(j)] * at(v, j, c);
        out.v[std::size_t((bi * L + i) * Ev + c)] = acc;
      }
    }
  }
  return out;
}

NABLA_OP_ROWS(
    Row{.op = "scaled_masked_softmax",
        .variant = "mask",
        .samples = {{Arg{.shape = {2, 3, 5}}, Arg{.shape = {3, 5}}},
                    {Arg{.shape = {4, 6}, .non_contiguous = true}, Arg{.shape = {1, 6}}},
                    {Arg{.shape = {5, 4}}, Arg{.shape = {5, 4}, .non_contiguous = true}},
                    {Arg{.shape = {0, 5}}, Arg{.shape = {5}}},
                    {Arg{.shape = {3}}, Arg{.shape = {3}}},
                    {Arg{.shape = {64, 600}}, Arg{.shape = {600}}}},
        .run =
            [](const std::vector<Tensor>& in) { return scaled_masked_softmax(in[0], in[1], 0.7); },
        .ref =
            [](const std::vector<Ref>& in) {
              return masked_softmax_ref(in[0], &in[1], 0.7, false);
            }},
    Row{.op = "scaled_masked_softmax",
        .variant = "causal",
        .samples = {{Arg{.shape = {2, 3, 5}}},
                    {Arg{.shape = {6, 4}, .non_contiguous = true}},
                    {Arg{.shape = {0, 5}}},
                    {Arg{.shape = {40, 40, 30}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return scaled_masked_softmax(in[0], Tensor(), 1.3, true);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return masked_softmax_ref(in[0], nullptr, 1.3, true);
            }},
    Row{.op = "scaled_dot_product_attention",
        .variant = "mask",
        .samples = {{Arg{.shape = {2, 3, 4}}, Arg{.shape = {2, 5, 4}}, Arg{.shape = {2, 5, 3}},
                     Arg{.shape = {3, 5}}},
                    {Arg{.shape = {2, 1, 3, 4}}, Arg{.shape = {3, 5, 4}}, Arg{.shape = {3, 5, 2}},
                     Arg{.shape = {2, 1, 1, 5}}},
                    {Arg{.shape = {4, 6}, .non_contiguous = true},
                     Arg{.shape = {5, 6}, .non_contiguous = true},
                     Arg{.shape = {5, 3}, .non_contiguous = true},
                     Arg{.shape = {4, 5}, .non_contiguous = true}},
                    {Arg{.shape = {2, 0, 4}}, Arg{.shape = {2, 5, 4}}, Arg{.shape = {2, 5, 3}},
                     Arg{.shape = {0, 5}}},
                    {Arg{.shape = {2, 3, 4}}, Arg{.shape = {2, 0, 4}}, Arg{.shape = {2, 0, 3}},
                     Arg{.shape = {3, 0}}},
                    {Arg{.shape = {8, 64, 32}}, Arg{.shape = {8, 64, 32}},
                     Arg{.shape = {8, 64, 32}}, Arg{.shape = {64, 64}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return scaled_dot_product_attention(in[0], in[1], in[2], in[3], 0.0, false, 0.6);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return sdpa_ref(in[0], in[1], in[2], &in[3], 0.6, false);
            },
        .also_covers = {"scaled_masked_softmax", "matmul"}},
    Row{.op = "scaled_dot_product_attention",
        .variant = "causal",
        .samples = {{Arg{.shape = {2, 3, 4}}, Arg{.shape = {2, 5, 4}}, Arg{.shape = {2, 5, 3}}},
                    {Arg{.shape = {2, 6, 4}}, Arg{.shape = {2, 4, 4}}, Arg{.shape = {2, 4, 3}}},
                    {Arg{.shape = {4, 200, 16}}, Arg{.shape = {4, 200, 16}},
                     Arg{.shape = {4, 200, 8}}}},
        .run =
            [](const std::vector<Tensor>& in) {
              return scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.0, true);
            },
        .ref =
            [](const std::vector<Ref>& in) {
              return sdpa_ref(in[0], in[1], in[2], nullptr, 0, true);
            }});

}  // namespace
}  // namespace nabla::optable
