#pragma once
// Printing in PyTorch's style:
//   tensor([[ 0.1000, -1.2000],
//           [ 3.0000,  4.0000]], dtype=f64, requires_grad=True)
// (dtype shown unless f32, i64 or bool, as torch; grad_fn=<name> for non-leaves).
// Large tensors are elided with "..." (first and last 3 per dim above 1000 elements).
#include <descent/core/tensor.h>
#include <fmt/format.h>

#include <ostream>
#include <string>

namespace descent {

std::string to_string(const Tensor& t);
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace descent

template <>
struct fmt::formatter<descent::Tensor> : fmt::formatter<std::string_view> {
  auto format(const descent::Tensor& t, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(descent::to_string(t), ctx);
  }
};
