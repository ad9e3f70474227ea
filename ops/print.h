#pragma once
// Printing in PyTorch's style:
//   tensor([[ 0.1000, -1.2000],
//           [ 3.0000,  4.0000]], dtype=f32, requires_grad=true)
// Large tensors are elided with "..." (first and last 3 per dim above 1000 elements).
#include <fmt/format.h>

#include <ostream>
#include <string>

#include "core/tensor.h"

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
