// einsum, lowered to views (diagonal, permute, reshape, expand), sum, mul and matmul, so its
// gradient (of any order) is theirs. Operands are contracted left to right; each pair becomes
// one batched matmul: [batch, kept-left, contracted] x [batch, contracted, kept-right].
#include <algorithm>
#include <array>

#include "nabla/ops/binary.h"
#include "nabla/ops/linalg.h"
#include "nabla/ops/reduce.h"

namespace nabla {
namespace {

// Labels: 'A'-'Z' are 0-25, 'a'-'z' 26-51 (so sorting labels sorts letters as NumPy does);
// the dims under "..." get 52 and up, counted from the left of the widest "...".
constexpr int kEllipsis = 52;
using Labels = std::vector<int>;

[[noreturn]] void fail(const std::string& what) { throw ValueError("[einsum] " + what); }
[[noreturn]] void shape_fail(const std::string& what) { throw ShapeError("[einsum] " + what); }

char letter(int label) { return char(label < 26 ? 'A' + label : 'a' + label - 26); }
std::string label_str(int label) {
  return label < kEllipsis ? std::string("'") + letter(label) + "'" : "'...'";
}

// Subscripts of one term: letters, with -1 standing for "...".
Labels parse_term(const std::string& term, const std::string& equation) {
  Labels out;
  bool seen_ellipsis = false;
  for (std::size_t i = 0; i < term.size(); ++i) {
    char ch = term[i];
    if (ch == ' ') continue;
    if (ch >= 'A' && ch <= 'Z')
      out.push_back(ch - 'A');
    else if (ch >= 'a' && ch <= 'z')
      out.push_back(26 + ch - 'a');
    else if (term.compare(i, 3, "...") == 0 && !seen_ellipsis) {
      out.push_back(-1);
      seen_ellipsis = true;
      i += 2;
    } else {
      fail("invalid subscript '" + std::string(1, ch) + "' in \"" + equation +
           "\" (use letters, one \"...\" per term, ',' and \"->\")");
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (char ch : s)
    if (ch == sep)
      parts.emplace_back();
    else
      parts.back() += ch;
  return parts;
}

bool has(const Labels& ls, int l) { return std::find(ls.begin(), ls.end(), l) != ls.end(); }
int64_t index_of(const Labels& ls, int l) {
  return std::find(ls.begin(), ls.end(), l) - ls.begin();
}

struct Operand {
  Tensor t;
  Labels labels;  // one per dim
};

// Sums the dims whose labels are not in `keep`.
void sum_unkept(Operand& op, const Labels& keep) {
  Shape axes;
  Labels rest;
  for (std::size_t d = 0; d < op.labels.size(); ++d)
    if (has(keep, op.labels[d]))
      rest.push_back(op.labels[d]);
    else
      axes.push_back(int64_t(d));
  if (axes.empty()) return;
  op.t = sum(op.t, axes);
  op.labels = rest;
}

// op's tensor with its dims ordered as `order` (every label of op, once).
Tensor permuted(const Operand& op, const Labels& order) {
  Shape perm;
  bool identity = true;
  for (int l : order) {
    perm.push_back(index_of(op.labels, l));
    identity &= perm.back() == int64_t(perm.size() - 1);
  }
  return identity ? op.t : op.t.permute(perm);
}

int64_t size_of(const Operand& op, int l) {
  return op.t.shape()[std::size_t(index_of(op.labels, l))];
}

Operand contract(Operand a, Operand b, const Labels& keep) {
  Labels batch, contracted, left, right;
  for (int l : a.labels) {
    if (has(b.labels, l))
      (has(keep, l) ? batch : contracted).push_back(l);
    else
      left.push_back(l);
  }
  for (int l : b.labels)
    if (!has(a.labels, l)) right.push_back(l);
  Shape out_shape;
  int64_t nb = 1, m = 1, k = 1, n = 1;
  for (int l : batch) out_shape.push_back(size_of(a, l)), nb *= out_shape.back();
  for (int l : left) out_shape.push_back(size_of(a, l)), m *= out_shape.back();
  for (int l : right) out_shape.push_back(size_of(b, l)), n *= out_shape.back();
  for (int l : contracted) k *= size_of(a, l);
  Labels out_labels = batch;
  out_labels.insert(out_labels.end(), left.begin(), left.end());
  out_labels.insert(out_labels.end(), right.begin(), right.end());

  Labels a_order = batch, b_order = batch;
  a_order.insert(a_order.end(), left.begin(), left.end());
  if (contracted.empty()) {  // a broadcasting product: [batch, left, 1...] * [batch, 1..., right]
    b_order.insert(b_order.end(), right.begin(), right.end());
    Tensor x = permuted(a, a_order), y = permuted(b, b_order);
    Shape xs = x.shape(), ys = y.shape();
    for (std::size_t i = 0; i < right.size(); ++i) xs.push_back(1);
    for (std::size_t i = 0; i < left.size(); ++i) ys.insert(ys.begin() + int64_t(batch.size()), 1);
    return {x.reshape(xs) * y.reshape(ys), out_labels};
  }
  a_order.insert(a_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), right.begin(), right.end());
  Shape xs{m, k}, ys{k, n};
  if (!batch.empty()) xs.insert(xs.begin(), nb), ys.insert(ys.begin(), nb);
  Tensor prod = matmul(permuted(a, a_order).reshape(xs), permuted(b, b_order).reshape(ys));
  return {prod.reshape(out_shape), out_labels};
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  std::size_t arrow = equation.find("->");
  std::vector<std::string> terms = split(equation.substr(0, arrow), ',');
  if (terms.size() != operands.size())
    fail("\"" + equation + "\" has " + std::to_string(terms.size()) + " operand terms but " +
         std::to_string(operands.size()) + " tensors were given");
  for (std::size_t i = 0; i < operands.size(); ++i)
    if (!operands[i].defined()) fail("operand " + std::to_string(i) + " is undefined");

  // Number the "..." dims right-aligned across operands, so they broadcast like NumPy's.
  std::vector<Labels> raw;
  int64_t ell = 0;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    raw.push_back(parse_term(terms[i], equation));
    int64_t named = int64_t(raw[i].size()) - (has(raw[i], -1) ? 1 : 0);
    int64_t nd = operands[i].ndim();
    if (has(raw[i], -1) ? named > nd : named != nd)
      shape_fail("operand " + std::to_string(i) + " of shape " + shape_str(operands[i].shape()) +
                 " has " + std::to_string(nd) + " dims but subscripts '" + terms[i] + "' name " +
                 std::to_string(named));
    if (has(raw[i], -1)) ell = std::max(ell, nd - named);
  }
  std::vector<Operand> ops;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    Operand op{operands[i], {}};
    int64_t e = operands[i].ndim() - int64_t(raw[i].size()) + 1;
    for (int l : raw[i])
      if (l >= 0)
        op.labels.push_back(l);
      else
        for (int64_t j = 0; j < e; ++j) op.labels.push_back(int(kEllipsis + ell - e + j));
    ops.push_back(std::move(op));
  }

  // Repeated labels within an operand take the diagonal.
  for (Operand& op : ops) {
    for (std::size_t p = 0; p < op.labels.size(); ++p) {
      for (std::size_t q = p + 1; q < op.labels.size(); ++q) {
        if (op.labels[p] != op.labels[q]) continue;
        if (op.t.shape()[p] != op.t.shape()[q])
          shape_fail("subscript " + label_str(op.labels[p]) + " repeats over dims of sizes " +
                     std::to_string(op.t.shape()[p]) + " and " + std::to_string(op.t.shape()[q]) +
                     " in an operand of shape " + shape_str(op.t.shape()));
        int l = op.labels[p];
        op.t = op.t.diagonal(0, int64_t(p), int64_t(q));
        op.labels.erase(op.labels.begin() + int64_t(q));
        op.labels.erase(op.labels.begin() + int64_t(p));
        op.labels.push_back(l);
        p = std::size_t(-1);  // dims moved: scan again
        break;
      }
    }
  }

  // Sizes per label: equal, or 1 to broadcast.
  std::array<int64_t, 128> size;
  std::array<int, 128> count{};
  size.fill(-1);
  for (const Operand& op : ops)
    for (std::size_t d = 0; d < op.labels.size(); ++d) {
      int l = op.labels[d];
      int64_t s = op.t.shape()[d];
      ++count[std::size_t(l)];
      int64_t& have = size[std::size_t(l)];
      if (have == -1 || have == 1)
        have = s;
      else if (s != have && s != 1)
        shape_fail("subscript " + label_str(l) + " has size " + std::to_string(have) + " and " +
                   std::to_string(s) + " in \"" + equation + "\"");
    }
  for (Operand& op : ops) {
    Shape want;
    for (int l : op.labels) want.push_back(size[std::size_t(l)]);
    if (want != op.t.shape()) op.t = op.t.expand(want);
  }

  Labels output;
  if (arrow != std::string::npos) {
    for (int l : parse_term(equation.substr(arrow + 2), equation)) {
      if (l < 0) {
        for (int64_t j = 0; j < ell; ++j) output.push_back(int(kEllipsis + j));
        continue;
      }
      if (has(output, l))
        fail("output subscript " + label_str(l) + " repeats in \"" + equation + "\"");
      if (count[std::size_t(l)] == 0)
        fail("output subscript " + label_str(l) + " is not in any operand of \"" + equation + "\"");
      output.push_back(l);
    }
  } else {  // implicit: letters written once in the whole equation, sorted
    std::array<int, kEllipsis> written{};
    for (const Labels& r : raw)
      for (int l : r)
        if (l >= 0) ++written[std::size_t(l)];
    for (int64_t j = 0; j < ell; ++j) output.push_back(int(kEllipsis + j));
    for (int l = 0; l < kEllipsis; ++l)
      if (written[std::size_t(l)] == 1) output.push_back(l);
  }

  // Labels that no later step needs are summed first; then pairs contract left to right.
  for (Operand& op : ops) {
    Labels keep = output;
    for (int l : op.labels)
      if (count[std::size_t(l)] > 1) keep.push_back(l);
    sum_unkept(op, keep);
  }
  Operand acc = ops[0];
  for (std::size_t i = 1; i < ops.size(); ++i) {
    Labels keep = output;
    for (std::size_t j = i + 1; j < ops.size(); ++j)
      keep.insert(keep.end(), ops[j].labels.begin(), ops[j].labels.end());
    sum_unkept(acc, [&] {
      Labels k = keep;
      k.insert(k.end(), ops[i].labels.begin(), ops[i].labels.end());
      return k;
    }());
    acc = contract(std::move(acc), ops[i], keep);
  }
  sum_unkept(acc, output);
  return permuted(acc, output);
}

}  // namespace nabla
