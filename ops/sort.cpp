// Sorting (ops/sort.h): the backend's sort slot orders every row; the values a caller
// gets are gathered from x with those indices, so their gradient is gather's.
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>
#include <descent/ops/sort.h>

namespace descent {

namespace {

// Sorts x along `dim` (wrapped); indices of x's shape.
ValuesIndices sort_along(const Tensor& x, int dim, bool descending) {
  if (x.dim() == 0) {
    return {x, zeros({}, {.dtype = DType::I64, .device = x.device()})};
  }
  const int last = x.dim() - 1;
  const Tensor moved = x.transpose(dim, last).contiguous();
  const int64_t n = x.shape()[dim];
  const int64_t rows = n == 0 ? 0 : moved.numel() / n;
  const SortArgs a{
      .x = moved.reshape({rows, n}),
      .descending = descending,
      .values = Tensor::empty({rows, n}, {.dtype = x.dtype(), .device = x.device()}),
      .indices = Tensor::empty({rows, n}, {.dtype = DType::I64, .device = x.device()}),
  };
  backend_for(x).sort(a);
  const Tensor indices = a.indices.reshape(moved.shape()).transpose(dim, last).contiguous();
  // With a graph to record, gather from x: its backward routes the gradient.
  const bool grad = GradMode::is_enabled() && x.requires_grad();
  const Tensor values = grad ? gather(x, dim, indices)
                             : a.values.reshape(moved.shape()).transpose(dim, last).contiguous();
  return {values, indices};
}

}  // namespace

ValuesIndices sort(const Tensor& x, int64_t dim, bool descending) {
  ops::check_defined(x, "sort");
  return sort_along(x, wrap_dim(dim, x.dim(), "sort"), descending);
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  ops::check_defined(x, "argsort");
  NoGradGuard no_grad;  // indices only
  return sort_along(x, wrap_dim(dim, x.dim(), "argsort"), descending).indices;
}

ValuesIndices topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  ops::check_defined(x, "topk");
  const int d = wrap_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() == 0 ? 1 : x.shape()[d];
  check(k >= 0 && k <= n, "topk", "k = {} is out of range for a dim of size {}", k, n);
  const Tensor indices = argsort(x, d, largest);
  if (x.dim() == 0) return {x, indices};
  const Tensor top = indices.narrow(d, 0, k).contiguous();
  return {gather(x, d, top), top};
}

ValuesIndices kthvalue(const Tensor& x, int64_t k, int64_t dim, bool keepdim) {
  ops::check_defined(x, "kthvalue");
  const int d = wrap_dim(dim, x.dim(), "kthvalue");
  const int64_t n = x.dim() == 0 ? 1 : x.shape()[d];
  check(k >= 1 && k <= n, "kthvalue",
        "k = {} is out of range for a dim of size {} (k counts from 1)", k, n);
  const Tensor indices = argsort(x, d);
  if (x.dim() == 0) return {x, indices};
  const Tensor at = indices.narrow(d, k - 1, 1).contiguous();
  ValuesIndices r{gather(x, d, at), at};
  if (!keepdim) r = {r.values.squeeze(d), r.indices.squeeze(d)};
  return r;
}

ValuesIndices median(const Tensor& x, int64_t dim, bool keepdim) {
  ops::check_defined(x, "median");
  const int d = wrap_dim(dim, x.dim(), "median");
  const int64_t n = x.dim() == 0 ? 1 : x.shape()[d];
  check(n > 0, "median", "dim {} has no elements", dim);
  return kthvalue(x, (n - 1) / 2 + 1, d, keepdim);
}

Tensor median(const Tensor& x) {
  ops::check_defined(x, "median");
  check(x.numel() > 0, "median", "input has no elements");
  return median(x.reshape({x.numel()}), 0).values;
}

UniqueResult unique(const Tensor& x) {
  ops::check_defined(x, "unique");
  NoGradGuard no_grad;
  const Tensor flat = x.reshape({x.numel()});
  const ValuesIndices s = sort_along(flat, 0, false);
  // Walk the sorted values on the host: runs of equal values become one entry.
  const std::vector<double> v = s.values.to(Device::CPU).to(DType::F64).to_vector<double>();
  const std::vector<int64_t> pos = s.indices.to(Device::CPU).to_vector<int64_t>();
  std::vector<int64_t> keep, counts, inverse(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    // NaNs are all distinct (NaN != NaN), as torch.unique.
    if (i == 0 || !(v[i] == v[i - 1])) {
      keep.push_back(int64_t(i));
      counts.push_back(0);
    }
    ++counts.back();
    inverse[pos[i]] = int64_t(keep.size()) - 1;
  }
  const Tensor keep_t = from_vector(keep).to(x.device());
  return {index_select(s.values, 0, keep_t), from_vector(inverse, x.shape()).to(x.device()),
          from_vector(counts).to(x.device())};
}

}  // namespace descent
