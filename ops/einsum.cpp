// einsum (ops/einsum.h): parse the equation into one label string per operand, then
// contract operands pairwise; each pair becomes one batched matmul of
// (batch, left, contracted) by (batch, contracted, right).
#include <descent/ops/dispatch.h>
#include <descent/ops/einsum.h>
#include <descent/ops/linalg.h>
#include <descent/ops/reduce.h>

#include <algorithm>
#include <map>
#include <string>

namespace descent {

namespace {

constexpr std::string_view kOp = "einsum";

// A tensor whose dims are named by the letters of `labels`, one per dim.
struct Labeled {
  Tensor t;
  std::string labels;
};

bool has(std::string_view s, char c) { return s.find(c) != std::string_view::npos; }

// Sums out the dims whose letter is not in `keep`.
Labeled sum_out(const Labeled& x, std::string_view keep) {
  Shape dims;
  std::string rest;
  for (int d = 0; d < int(x.labels.size()); ++d) {
    if (has(keep, x.labels[d])) {
      rest += x.labels[d];
    } else {
      dims.push_back(d);
    }
  }
  if (dims.empty()) return x;
  return {sum(x.t, dims), rest};
}

// x's dims reordered to the letters of `order` (a permutation of x's labels).
Tensor permuted(const Labeled& x, std::string_view order) {
  Shape perm;
  for (char c : order) perm.push_back(int64_t(x.labels.find(c)));
  return x.t.permute(perm);
}

int64_t size_of(const Labeled& x, std::string_view letters) {
  int64_t n = 1;
  for (char c : letters) n *= x.t.shape()[int(x.labels.find(c))];
  return n;
}

// Contracts a and b, keeping the letters in `keep` (the output's and later operands').
Labeled contract(Labeled a, Labeled b, std::string_view keep) {
  // Letters only one side has and nobody needs are summed first.
  std::string keep_a(keep), keep_b(keep);
  keep_a += b.labels;
  keep_b += a.labels;
  a = sum_out(a, keep_a);
  b = sum_out(b, keep_b);
  std::string batch, left, right, inner;
  for (char c : a.labels) {
    if (!has(b.labels, c)) {
      left += c;
    } else if (has(keep, c)) {
      batch += c;
    } else {
      inner += c;
    }
  }
  for (char c : b.labels) {
    if (!has(a.labels, c)) right += c;
  }
  const int64_t nb = size_of(a, batch), nl = size_of(a, left), nc = size_of(a, inner);
  const int64_t nr = size_of(b, right);
  const Tensor am = permuted(a, batch + left + inner).reshape({nb, nl, nc});
  const Tensor bm = permuted(b, batch + inner + right).reshape({nb, nc, nr});
  Shape out_shape;
  for (char c : batch + left) out_shape.push_back(a.t.shape()[int(a.labels.find(c))]);
  for (char c : right) out_shape.push_back(b.t.shape()[int(b.labels.find(c))]);
  return {matmul(am, bm).reshape(out_shape), batch + left + right};
}

struct Equation {
  std::vector<std::string> inputs;
  std::string output;
};

Equation parse(std::string_view equation, const std::vector<Tensor>& operands) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  check(eq.find("...") == std::string::npos, kOp, "\"{}\": ellipsis (...) is not supported",
        equation);
  Equation e;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    e.inputs.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  check(e.inputs.size() == operands.size(), kOp, "\"{}\" names {} operands, got {}", equation,
        e.inputs.size(), operands.size());
  std::map<char, int64_t> sizes, counts;
  for (size_t i = 0; i < e.inputs.size(); ++i) {
    const std::string& s = e.inputs[i];
    ops::check_defined(operands[i], kOp, fmt::format("operand {}", i));
    check(int(s.size()) == operands[i].dim(), kOp,
          "\"{}\": operand {} has {} dims but its subscripts \"{}\" name {}", equation, i,
          operands[i].dim(), s, s.size());
    for (int d = 0; d < int(s.size()); ++d) {
      const char c = s[d];
      check(std::isalpha(static_cast<unsigned char>(c)), kOp,
            "\"{}\": '{}' is not a subscript letter", equation, c);
      check(s.find(c) == size_t(d), kOp,
            "\"{}\": letter '{}' repeats in operand {} (diagonals are not supported)", equation, c,
            i);
      const int64_t n = operands[i].shape()[d];
      auto [it, fresh] = sizes.emplace(c, n);
      check(fresh || it->second == n, kOp,
            "\"{}\": letter '{}' has size {} in operand {} but {} before", equation, c, n, i,
            it->second);
      ++counts[c];
    }
  }
  if (arrow == std::string::npos) {
    for (auto [c, k] : counts)
      if (k == 1) e.output += c;  // std::map: alphabetical
  } else {
    e.output = eq.substr(arrow + 2);
    for (size_t d = 0; d < e.output.size(); ++d) {
      const char c = e.output[d];
      check(counts.count(c) == 1, kOp, "\"{}\": output letter '{}' is in no operand", equation, c);
      check(e.output.find(c) == d, kOp, "\"{}\": output letter '{}' repeats", equation, c);
    }
  }
  return e;
}

}  // namespace

Tensor einsum(std::string_view equation, const std::vector<Tensor>& operands) {
  check(!operands.empty(), kOp, "\"{}\": no operands", equation);
  const Equation e = parse(equation, operands);
  Labeled acc{operands[0], e.inputs[0]};
  for (size_t i = 1; i < operands.size(); ++i) {
    // Letters still needed: the output's and those of the operands not yet contracted.
    std::string keep = e.output;
    for (size_t j = i + 1; j < operands.size(); ++j) keep += e.inputs[j];
    acc = contract(acc, {operands[i], e.inputs[i]}, keep);
  }
  acc = sum_out(acc, e.output);
  return permuted(acc, e.output);
}

}  // namespace descent
