#include <descent/core/shape.h>

namespace descent {

int64_t checked_numel(const Shape& s, size_t element_size, std::string_view op) {
  int64_t n = 1;
  for (int64_t d : s) {
    check(d >= 0, op, "negative dimension in shape {}", s);
    check(!__builtin_mul_overflow(n, d, &n), op,
          "shape {} has more elements than an int64 can count", s);
  }
  int64_t bytes = 0;
  check(!__builtin_mul_overflow(n, int64_t(element_size), &bytes), op,
        "shape {} of {}-byte elements has more bytes than an int64 can count", s, element_size);
  return n;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op) {
  const int n = std::max(a.size(), b.size());
  Shape out = Shape::filled(n, 1);
  for (int i = 0; i < n; ++i) {
    const int ia = a.size() - n + i, ib = b.size() - n + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    check(da == db || da == 1 || db == 1, op,
          "shapes {} and {} cannot be broadcast together (dim {}: {} vs {})", a, b, i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace descent
