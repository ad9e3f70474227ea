#pragma once
// Shape and strides: a small inline vector of up to kMaxDims int64 values, so that
// making a tensor allocates nothing for its metadata.
#include <descent/core/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace descent {

inline constexpr int kMaxDims = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }  // NOLINT
  Shape(std::span<const int64_t> dims) { assign(dims.begin(), dims.end()); }     // NOLINT

  static Shape filled(int n, int64_t v) {
    Shape s;
    s.resize(n, v);
    return s;
  }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }
  int64_t* begin() { return d_; }
  int64_t* end() { return d_ + n_; }
  const int64_t* data() const { return d_; }
  int64_t back() const { return d_[n_ - 1]; }

  void push_back(int64_t v) {
    check(n_ < kMaxDims, "shape", "tensors have at most {} dimensions", kMaxDims);
    d_[n_++] = v;
  }
  void insert(int pos, int64_t v) {
    check(n_ < kMaxDims, "shape", "tensors have at most {} dimensions", kMaxDims);
    for (int i = n_; i > pos; --i) d_[i] = d_[i - 1];
    d_[pos] = v;
    ++n_;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
    --n_;
  }
  void resize(int n, int64_t v = 0) {
    check(n >= 0 && n <= kMaxDims, "shape", "tensors have at most {} dimensions, got {}", kMaxDims,
          n);
    for (int i = n_; i < n; ++i) d_[i] = v;
    n_ = n;
  }

  int64_t numel() const {
    int64_t p = 1;
    for (int i = 0; i < n_; ++i) p *= d_[i];
    return p;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  friend bool operator==(const Shape& a, const Shape& b) {
    return a.n_ == b.n_ && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  template <class It>
  void assign(It first, It last) {
    auto n = std::distance(first, last);
    check(n <= kMaxDims, "shape", "tensors have at most {} dimensions, got {}", kMaxDims, n);
    n_ = int(n);
    std::copy(first, last, d_);
  }
  int64_t d_[kMaxDims] = {};
  int n_ = 0;
};

using Strides = Shape;

// Row-major (C-contiguous) strides of a shape.
inline Strides contiguous_strides(const Shape& s) {
  Strides st = Shape::filled(s.size(), 1);
  for (int i = s.size() - 2; i >= 0; --i) st[i] = st[i + 1] * std::max<int64_t>(s[i + 1], 1);
  return st;
}

// Normalises a possibly negative dim for a tensor of `ndim` dims; throws naming `op`.
inline int wrap_dim(int64_t dim, int ndim, std::string_view op) {
  int64_t n = std::max(ndim, 1);
  check(dim >= -n && dim < n, op, "dim {} is out of range for a tensor with {} dims", dim, ndim);
  return int(dim < 0 ? dim + n : dim);
}

// NumPy/PyTorch broadcasting of two shapes; throws naming `op` when they don't fit.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op);

// The number of elements of a tensor of shape `s` taking `element_size` bytes each, or
// an Error naming `op` when a dim is negative or the element or byte count overflows
// int64 (which would otherwise allocate a wrapped-around size and write past it).
int64_t checked_numel(const Shape& s, size_t element_size, std::string_view op);

}  // namespace descent

template <>
struct fmt::formatter<descent::Shape> : fmt::formatter<std::string_view> {
  auto format(const descent::Shape& s, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "[{}]", fmt::join(s.begin(), s.end(), ", "));
  }
};
