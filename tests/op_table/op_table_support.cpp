#include <algorithm>

#include "op_table/op_table.h"

namespace nabla::optable {

std::vector<Row>& rows() {
  static std::vector<Row> r;
  return r;
}

Registrar::Registrar(std::vector<Row> rs) {
  for (auto& r : rs) rows().push_back(std::move(r));
}

double Ref::at(const Shape& index) const {
  int64_t flat = 0;
  for (std::size_t i = 0; i < shape.size(); ++i) flat = flat * shape[i] + index[i];
  return v[std::size_t(flat)];
}

std::vector<std::vector<Arg>> unary_samples(double lo, double hi) {
  return {
      {Arg{.shape = {}, .lo = lo, .hi = hi}},
      {Arg{.shape = {0}, .lo = lo, .hi = hi}},
      {Arg{.shape = {3, 4}, .lo = lo, .hi = hi}},
      {Arg{.shape = {4, 5}, .non_contiguous = true, .lo = lo, .hi = hi}},
      {Arg{.shape = {70, 1000}, .lo = lo, .hi = hi}},
  };
}

std::vector<std::vector<Arg>> binary_samples(double lo, double hi) {
  auto a = [&](Shape s, bool nc = false) { return Arg{.shape = s, .non_contiguous = nc, .lo = lo, .hi = hi}; };
  return {
      {a({3, 4}), a({3, 4})},
      {a({3, 1}), a({1, 4})},
      {a({2, 3, 4}), a({4})},
      {a({}), a({2, 3})},
      {a({2, 3}), a({})},
      {a({0, 3}), a({3})},
      {a({4, 5}, true), a({4, 5}, true)},
      {a({70, 1000}), a({70, 1000})},
      {a({70, 1000}), a({1000})},
  };
}

Ref elementwise_ref(const std::vector<Ref>& in, const std::function<double(const std::vector<double>&)>& f) {
  Shape out;
  for (const Ref& r : in) out = broadcast_shapes(out, r.shape, "reference");
  Ref res{out, std::vector<double>(std::size_t(numel_of(out)))};
  Shape idx(out.size(), 0);
  std::vector<double> args(in.size());
  for (std::size_t flat = 0; flat < res.v.size(); ++flat) {
    int64_t rem = int64_t(flat);
    for (std::size_t d = out.size(); d-- > 0;) {
      idx[d] = rem % out[d];
      rem /= out[d];
    }
    for (std::size_t k = 0; k < in.size(); ++k) {
      const Shape& s = in[k].shape;
      Shape sub(s.size());
      std::size_t off = out.size() - s.size();
      for (std::size_t d = 0; d < s.size(); ++d) sub[d] = s[d] == 1 ? 0 : idx[off + d];
      args[k] = in[k].at(sub);
    }
    res.v[flat] = f(args);
  }
  return res;
}

Ref unary_ref(const Ref& x, const std::function<double(double)>& f) {
  return elementwise_ref({x}, [&](const std::vector<double>& a) { return f(a[0]); });
}

Ref binary_ref(const Ref& a, const Ref& b, const std::function<double(double, double)>& f) {
  return elementwise_ref({a, b}, [&](const std::vector<double>& v) { return f(v[0], v[1]); });
}

}  // namespace nabla::optable
