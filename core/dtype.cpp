#include <descent/core/dtype.h>

namespace descent {

uint16_t Half::from_float(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  if (mag > 0x7f800000u) return uint16_t(sign | 0x7e00u);   // NaN
  if (mag >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // overflow → Inf
  if (mag < 0x38800000u) {                                  // subnormal or zero
    // Shift the (implicit-1) mantissa into place with round-to-nearest-even.
    if (mag < 0x33000000u) return uint16_t(sign);
    const int e = int(mag >> 23);
    uint32_t m = (mag & 0x7fffffu) | 0x800000u;
    const int shift = 126 - e;  // 14 + (113 - e) - 1
    uint32_t r = m >> (shift);
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return uint16_t(sign | r);
  }
  // Normal: rebias exponent (127 → 15) and round mantissa 23 → 10 bits.
  uint32_t r = mag - 0x38000000u;
  r += 0xfffu + ((r >> 13) & 1u);
  return uint16_t(sign | (r >> 13));
}

float Half::to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu;
  uint32_t m = h & 0x3ffu;
  uint32_t x;
  if (e == 0) {
    if (m == 0) {
      x = sign;
    } else {  // subnormal: normalise
      int s = 0;
      while (!(m & 0x400u)) {
        m <<= 1;
        ++s;
      }
      m &= 0x3ffu;
      x = sign | (uint32_t(113 - s) << 23) | (m << 13);
    }
  } else if (e == 31) {
    x = sign | 0x7f800000u | (m << 13);
  } else {
    x = sign | ((e + 112) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

namespace {
int category(DType t) {  // bool < integer < floating
  if (t == DType::Bool) return 0;
  if (is_integral(t)) return 1;
  return 2;
}
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const int ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 1) return DType::I64;  // i32 with i64
  // Floating: f64 wins; f32 beats the 16-bit types; f16 with bf16 gives f32.
  if (a == DType::F64 || b == DType::F64) return DType::F64;
  return DType::F32;
}

}  // namespace descent
