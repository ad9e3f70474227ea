#pragma once
// Element types. f32 is the default; f64 serves gradcheck; f16/bf16 serve AMP;
// i32/i64 hold labels and indices; bool holds masks.
#include <descent/core/error.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace descent {

enum class DType : uint8_t { F32, F64, F16, BF16, I32, I64, Bool };

// IEEE half precision, stored as bits; arithmetic goes through float.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f) : bits(from_float(f)) {}  // NOLINT: implicit like a number
  operator float() const { return to_float(bits); }
  static uint16_t from_float(float f);
  static float to_float(uint16_t h);
};

// bfloat16: the upper half of an f32, rounded to nearest even.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) : bits(from_float(f)) {}  // NOLINT
  operator float() const {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  static uint16_t from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
  }
};

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

inline std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::Bool: return "bool";
  }
  return "?";
}

inline bool is_floating(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16;
}
inline bool is_integral(DType t) { return t == DType::I32 || t == DType::I64; }
inline bool is_16bit(DType t) { return t == DType::F16 || t == DType::BF16; }

// C++ type for each dtype, and back.
template <DType D>
struct CppType;
template <>
struct CppType<DType::F32> {
  using type = float;
};
template <>
struct CppType<DType::F64> {
  using type = double;
};
template <>
struct CppType<DType::F16> {
  using type = Half;
};
template <>
struct CppType<DType::BF16> {
  using type = BFloat16;
};
template <>
struct CppType<DType::I32> {
  using type = int32_t;
};
template <>
struct CppType<DType::I64> {
  using type = int64_t;
};
template <>
struct CppType<DType::Bool> {
  using type = bool;
};

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::F32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::F64;
}
template <>
constexpr DType dtype_of<Half>() {
  return DType::F16;
}
template <>
constexpr DType dtype_of<BFloat16>() {
  return DType::BF16;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::I32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::I64;
}
template <>
constexpr DType dtype_of<bool>() {
  return DType::Bool;
}

// The type arithmetic runs in: float for the 16-bit floats, the type itself otherwise.
template <class T>
struct ComputeType {
  using type = T;
};
template <>
struct ComputeType<Half> {
  using type = float;
};
template <>
struct ComputeType<BFloat16> {
  using type = float;
};
template <class T>
using compute_t = typename ComputeType<T>::type;

// Calls f.template operator()<T>() with the C++ type of `t`:
//   visit_dtype(t, [&]<class T>() { ... });
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    case DType::I32: return f.template operator()<int32_t>();
    case DType::I64: return f.template operator()<int64_t>();
    case DType::Bool: return f.template operator()<bool>();
  }
  throw Error("visit_dtype: invalid dtype");
}

// Like visit_dtype but only for floating types; other dtypes throw naming `op`.
template <class F>
decltype(auto) visit_floating(DType t, std::string_view op, F&& f) {
  switch (t) {
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    case DType::I32:
    case DType::I64:
    case DType::Bool: break;
  }
  fail(op, fmt::format("expected a floating dtype (f32, f64, f16, bf16), got {}", dtype_name(t)));
}

// PyTorch's promotion between two tensor dtypes: bool < integers < floats; within a
// category the wider type wins; f16 with bf16 gives f32.
DType promote_types(DType a, DType b);

}  // namespace descent

template <>
struct fmt::formatter<descent::DType> : fmt::formatter<std::string_view> {
  auto format(descent::DType t, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(descent::dtype_name(t), ctx);
  }
};
