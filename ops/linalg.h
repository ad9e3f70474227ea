#pragma once
// Matrix products through oneDNN (f32, bf16) and own loops (f64).
#include <descent/core/tensor.h>

namespace descent {

// torch.matmul semantics: 1-D·1-D dot, 2-D·2-D, and batched (..., M, K)·(..., K, N)
// with broadcasting of the batch dims; 1-D operands get a dim added and removed.
Tensor matmul(const Tensor& a, const Tensor& b);
// (B, M, K)·(B, K, N) → (B, M, N), batch sizes equal (torch.bmm: no broadcasting).
Tensor bmm(const Tensor& a, const Tensor& b);
// The outer product of two 1-D tensors: out[i, j] = a[i]·b[j].
Tensor outer(const Tensor& a, const Tensor& b);

namespace F {
// y = x·Wᵀ + b. x: (..., in), weight: (out, in), bias: (out) or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});
}  // namespace F

}  // namespace descent
