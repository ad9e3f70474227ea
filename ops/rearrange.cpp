// flip, roll, tril/triu, diag, masked_fill, nonzero (ops/rearrange.h): index
// arithmetic on small i64 tensors, then the differentiable index_select, scatter_add
// and where do the moving, so gradients (of every order) come from theirs.
#include <descent/core/function.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>
#include <descent/ops/math.h>
#include <descent/ops/rearrange.h>

#include <algorithm>

namespace descent {

namespace {

Tensor index_range(int64_t n, Device device) {
  return arange(double(n), {.dtype = DType::I64, .device = device});
}

// A Bool mask over the last two dims (rows, cols) of x: col - row <= k (lower) or >= k.
Tensor triangle_mask(const Tensor& x, int64_t k, bool lower, std::string_view op) {
  ops::check_defined(x, op);
  check(x.dim() >= 2, op, "input of shape {}, expected at least 2 dims", x.shape());
  const int64_t rows = x.shape()[x.dim() - 2], cols = x.shape()[x.dim() - 1];
  const Tensor r = index_range(rows, x.device()).reshape({rows, 1});
  const Tensor c = index_range(cols, x.device()).reshape({1, cols});
  const Tensor d = c - r;
  return lower ? d <= k : d >= k;
}

}  // namespace

Tensor flip(const Tensor& x, const Shape& dims) {
  ops::check_defined(x, "flip");
  Tensor out = x;
  std::vector<int> seen;
  for (int64_t d : dims) {
    const int w = wrap_dim(d, x.dim(), "flip");
    check(std::find(seen.begin(), seen.end(), w) == seen.end(), "flip", "dim {} appears twice", d);
    seen.push_back(w);
    if (x.dim() == 0) continue;
    const int64_t n = x.shape()[w];
    const Tensor rev =
        arange(double(n - 1), -1.0, -1.0, {.dtype = DType::I64, .device = x.device()});
    out = index_select(out, w, rev);
  }
  return out;
}

Tensor roll(const Tensor& x, const Shape& shifts, const Shape& dims) {
  ops::check_defined(x, "roll");
  if (dims.empty()) {
    check(shifts.size() == 1, "roll", "{} shifts without dims, expected one", shifts.size());
    return roll(x.flatten(), shifts[0], 0).reshape(x.shape());
  }
  check(shifts.size() == dims.size(), "roll", "{} shifts for {} dims, expected one per dim",
        shifts.size(), dims.size());
  Tensor out = x;
  for (int i = 0; i < dims.size(); ++i) {
    const int w = wrap_dim(dims[i], x.dim(), "roll");
    const int64_t n = x.dim() == 0 ? 1 : x.shape()[w];
    if (n == 0 || x.dim() == 0) continue;
    const int64_t s = ((shifts[i] % n) + n) % n;
    // out[j] = x[(j - s) mod n]
    const Tensor src = remainder(index_range(n, x.device()) - s, n);
    out = index_select(out, w, src);
  }
  return out;
}

Tensor roll(const Tensor& x, int64_t shift, int64_t dim) {
  return roll(x, Shape{shift}, Shape{dim});
}

Tensor tril(const Tensor& x, int64_t k) {
  return where(triangle_mask(x, k, true, "tril"), x, zeros({}, options_of(x)));
}

Tensor triu(const Tensor& x, int64_t k) {
  return where(triangle_mask(x, k, false, "triu"), x, zeros({}, options_of(x)));
}

Tensor diag(const Tensor& x, int64_t k) {
  ops::check_defined(x, "diag");
  check(x.dim() == 1 || x.dim() == 2, "diag", "input of shape {}, expected 1-D or 2-D", x.shape());
  const int64_t r0 = k < 0 ? -k : 0, c0 = k > 0 ? k : 0;  // where diagonal k starts
  if (x.dim() == 1) {
    const int64_t n = x.shape()[0], m = n + (k < 0 ? -k : k);
    const Tensor i = index_range(n, x.device());
    const Tensor flat = (i + r0) * m + (i + c0);
    return scatter_add(zeros({m * m}, options_of(x)), 0, flat, x).reshape({m, m});
  }
  const int64_t rows = x.shape()[0], cols = x.shape()[1];
  const int64_t len = std::max<int64_t>(0, std::min(rows - r0, cols - c0));
  const Tensor i = index_range(len, x.device());
  const Tensor flat = (i + r0) * cols + (i + c0);
  return index_select(x.reshape({rows * cols}), 0, flat);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  ops::check_defined(x, "masked_fill");
  ops::check_defined(mask, "masked_fill", "mask");
  check(mask.dtype() == DType::Bool, "masked_fill", "mask of dtype {}, expected bool",
        mask.dtype());
  check(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(), "masked_fill",
        "mask of shape {} does not broadcast to the input's shape {}", mask.shape(), x.shape());
  return where(logical_not(mask), x, full({}, value.value, options_of(x)));
}

Tensor nonzero(const Tensor& x) {
  ops::check_defined(x, "nonzero");
  const std::vector<double> v = x.to(Device::CPU).to(DType::F64).contiguous().to_vector<double>();
  const int nd = x.dim();
  std::vector<int64_t> out;
  for (int64_t flat = 0; flat < int64_t(v.size()); ++flat) {
    if (v[flat] == 0) continue;
    int64_t rem = flat;
    std::vector<int64_t> idx(nd);
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % x.shape()[d];
      rem /= x.shape()[d];
    }
    out.insert(out.end(), idx.begin(), idx.end());
  }
  // A 0-dim x has no index to list: (1, 0) when it is nonzero, else (0, 0), as torch.
  const int64_t count = nd == 0 ? int64_t(!v.empty() && v[0] != 0) : int64_t(out.size()) / nd;
  return from_vector(out, {count, nd}, {.dtype = DType::I64}).to(x.device());
}

namespace F {

namespace {

// The output is filled with `value` and x copied into its interior; the gradient is
// that interior of the output's gradient.
struct Pad : autograd::Function<Pad> {
  static constexpr std::string_view name = "pad";
  Shape pads;

  // The interior of a padded tensor of x's rank.
  Tensor interior(const Tensor& t, const Shape& inner) const {
    Tensor v = t;
    for (int i = 0; i < pads.size() / 2; ++i) {
      const int d = t.dim() - 1 - i;
      v = v.narrow(d, pads[2 * i], inner[d]);
    }
    return v;
  }

  Tensor forward(const Tensor& x, const Shape& pads_, double value) {
    pads = pads_;
    Shape shape = x.shape();
    for (int i = 0; i < pads.size() / 2; ++i) {
      const int d = x.dim() - 1 - i;
      shape[d] += pads[2 * i] + pads[2 * i + 1];
    }
    Tensor out = full(shape, value, {.dtype = x.dtype(), .device = x.device()});
    Tensor inside = interior(out, x.shape());
    inside.copy_(x);
    return out;
  }

  std::vector<Tensor> backward(const Tensor& g) {
    Shape inner = g.shape();
    for (int i = 0; i < pads.size() / 2; ++i) {
      const int d = g.dim() - 1 - i;
      inner[d] -= pads[2 * i] + pads[2 * i + 1];
    }
    return {interior(g, inner)};
  }
};

}  // namespace

Tensor pad(const Tensor& x, const Shape& pads, double value) {
  ops::check_defined(x, "pad");
  check(pads.size() % 2 == 0 && pads.size() / 2 <= x.dim(), "pad",
        "pads {} must hold (before, after) pairs for at most the input's {} dims", pads, x.dim());
  for (int64_t p : pads)
    check(p >= 0, "pad", "pads {} must be non-negative (cropping is not supported)", pads);
  return Pad::apply(x, pads, value);
}

}  // namespace F

}  // namespace descent
