#pragma once
// Tensor factories. Every factory takes TensorOptions (dtype f32 and the CPU by
// default): zeros({2, 3}, {.dtype = DType::F64, .requires_grad = true}).
#include <descent/core/random.h>
#include <descent/core/tensor.h>

#include <vector>

namespace descent {

Tensor empty(const Shape& shape, TensorOptions opt = {});
Tensor zeros(const Shape& shape, TensorOptions opt = {});
Tensor ones(const Shape& shape, TensorOptions opt = {});
Tensor full(const Shape& shape, double value, TensorOptions opt = {});
// [start, end) in steps of `step`, like torch.arange.
Tensor arange(double end, TensorOptions opt = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions opt = {});
// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, TensorOptions opt = {});
// n×m identity (m = n when omitted).
Tensor eye(int64_t n, int64_t m = -1, TensorOptions opt = {});

// Random tensors from `gen` (the default generator when null).
Tensor rand(const Shape& shape, TensorOptions opt = {}, Generator* gen = nullptr);   // U[0,1)
Tensor randn(const Shape& shape, TensorOptions opt = {}, Generator* gen = nullptr);  // N(0,1)
// Integers uniform in [low, high); dtype i64 unless opt says otherwise.
Tensor randint(int64_t low, int64_t high, const Shape& shape,
               TensorOptions opt = {.dtype = DType::I64}, Generator* gen = nullptr);
// A random permutation of 0..n-1 (i64).
Tensor randperm(int64_t n, Generator* gen = nullptr);

// Copies values into a new tensor of `shape` (numel must match). T picks the dtype
// unless opt.dtype differs from f32's default for non-float T.
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions opt = {});
// 1-D convenience.
template <class T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{int64_t(values.size())});
}
// Copies `shape.numel()` values of `dtype` from host memory at `data`.
Tensor from_blob(const void* data, const Shape& shape, DType dtype, TensorOptions opt = {});
// Wraps host memory without copying; `deleter` runs when the last view dies.
Tensor from_blob_nocopy(void* data, const Shape& shape, DType dtype,
                        std::function<void(void*)> deleter = {});
// A 0-dim tensor.
Tensor scalar_tensor(double value, TensorOptions opt = {});

TensorOptions options_of(const Tensor& t);  // dtype and device of t, no requires_grad
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor empty_like(const Tensor& t);
Tensor rand_like(const Tensor& t, Generator* gen = nullptr);
Tensor randn_like(const Tensor& t, Generator* gen = nullptr);

}  // namespace descent
