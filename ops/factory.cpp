#include <descent/backends/backend.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/factory.h>

#include <cmath>
#include <numeric>

namespace descent {

namespace {
Tensor finish(Tensor t, const TensorOptions& opt) {
  if (opt.requires_grad) t.requires_grad_(true);
  return t;
}
TensorOptions no_grad(TensorOptions o) {
  o.requires_grad = false;
  return o;
}
}  // namespace

Tensor empty(const Shape& shape, TensorOptions opt) { return Tensor::empty(shape, opt); }

Tensor full(const Shape& shape, double value, TensorOptions opt) {
  Tensor t = Tensor::empty(shape, no_grad(opt));
  backend_for(t).fill(t, value);
  return finish(t, opt);
}
Tensor zeros(const Shape& shape, TensorOptions opt) { return full(shape, 0.0, opt); }
Tensor ones(const Shape& shape, TensorOptions opt) { return full(shape, 1.0, opt); }
Tensor scalar_tensor(double value, TensorOptions opt) { return full({}, value, opt); }

Tensor arange(double end, TensorOptions opt) { return arange(0.0, end, 1.0, opt); }

Tensor arange(double start, double end, double step, TensorOptions opt) {
  check(step != 0.0, "arange", "step must be nonzero");
  check(std::isfinite(start) && std::isfinite(end), "arange",
        "bounds must be finite, got {} and {}", start, end);
  check((end - start) / step >= 0, "arange", "step {} goes away from end {} (start {})", step, end,
        start);
  const int64_t n = int64_t(std::ceil((end - start) / step));
  Tensor t = Tensor::empty({n}, no_grad(opt));
  backend_for(t).arange(t, start, step);
  return finish(t, opt);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions opt) {
  check(steps >= 0, "linspace", "number of steps must be non-negative, got {}", steps);
  Tensor t = Tensor::empty({steps}, no_grad(opt));
  const double step = steps > 1 ? (end - start) / double(steps - 1) : 0.0;
  backend_for(t).arange(t, start, step);
  return finish(t, opt);
}

Tensor eye(int64_t n, int64_t m, TensorOptions opt) {
  if (m < 0) m = n;
  check(n >= 0, "eye", "n must be non-negative, got {}", n);
  Tensor t = zeros({n, m}, no_grad(opt));
  // The diagonal is a strided view with stride m + 1.
  Tensor diag = make_view(t, {std::min(n, m)}, {m + 1}, 0);
  backend_for(t).fill(diag, 1.0);
  return finish(t, opt);
}

Tensor rand(const Shape& shape, TensorOptions opt, Generator* gen) {
  check(is_floating(opt.dtype), "rand", "expected a floating dtype, got {}", opt.dtype);
  Tensor t = Tensor::empty(shape, no_grad(opt));
  backend_for(t).uniform(t, 0.0, 1.0, gen ? *gen : default_generator());
  return finish(t, opt);
}

Tensor randn(const Shape& shape, TensorOptions opt, Generator* gen) {
  check(is_floating(opt.dtype), "randn", "expected a floating dtype, got {}", opt.dtype);
  Tensor t = Tensor::empty(shape, no_grad(opt));
  backend_for(t).normal(t, 0.0, 1.0, gen ? *gen : default_generator());
  return finish(t, opt);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions opt, Generator* gen) {
  check(low < high, "randint", "expected low < high, got low={} high={}", low, high);
  check(!opt.requires_grad, "randint", "integer tensors cannot require grad");
  check(is_integral(opt.dtype), "randint", "expected an integer dtype, got {}", opt.dtype);
  Tensor out = Tensor::empty(shape, opt);
  backend_for(out).uniform(out, double(low), double(high), gen ? *gen : default_generator());
  return out;
}

Tensor randperm(int64_t n, Generator* gen) {
  check(n >= 0, "randperm", "n must be non-negative, got {}", n);
  // Fisher–Yates with one uniform draw per position (host side).
  Tensor u = rand({n}, {.dtype = DType::F64}, gen);
  const double* r = u.data<double>();
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = std::min<int64_t>(i, int64_t(r[i] * double(i + 1)));
    std::swap(p[size_t(i)], p[size_t(j)]);
  }
  return from_vector(p, {n});
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions opt) {
  check(int64_t(values.size()) == shape.numel(), "from_vector",
        "got {} values for shape {} ({} elements)", values.size(), shape, shape.numel());
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> bytes(values.begin(), values.end());
    Tensor src = from_blob(bytes.data(), shape, DType::Bool);
    return finish(opt.dtype == DType::F32 ? src : src.to(opt.dtype).to(opt.device), opt);
  } else {
    // Keep T's dtype unless the caller asked for a dtype other than the default f32.
    const DType dt = opt.dtype != DType::F32 ? opt.dtype : dtype_of<T>();
    Tensor src = from_blob(values.data(), shape, dtype_of<T>());
    Tensor t = dt == src.dtype() ? src : src.to(dt);
    if (opt.device != Device::CPU) t = t.to(opt.device);
    return finish(t, opt);
  }
}

template Tensor from_vector(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<int32_t>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<bool>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<Half>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<BFloat16>&, const Shape&, TensorOptions);

Tensor from_blob(const void* data, const Shape& shape, DType dtype, TensorOptions opt) {
  check(data != nullptr || shape.numel() == 0, "from_blob", "data pointer is null");
  Tensor t = Tensor::empty(shape, {.dtype = dtype});
  if (shape.numel() > 0) std::memcpy(t.raw_data(), data, size_t(shape.numel()) * dtype_size(dtype));
  if (opt.device != Device::CPU) t = t.to(opt.device);
  return finish(t, opt);
}

Tensor from_blob_nocopy(void* data, const Shape& shape, DType dtype,
                        std::function<void(void*)> deleter) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, size_t(shape.numel()) * dtype_size(dtype),
                                            Device::CPU, std::move(deleter));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

TensorOptions options_of(const Tensor& t) { return {.dtype = t.dtype(), .device = t.device()}; }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), options_of(t)); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), options_of(t)); }
Tensor full_like(const Tensor& t, double v) { return full(t.shape(), v, options_of(t)); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), options_of(t)); }
Tensor rand_like(const Tensor& t, Generator* gen) { return rand(t.shape(), options_of(t), gen); }
Tensor randn_like(const Tensor& t, Generator* gen) { return randn(t.shape(), options_of(t), gen); }

}  // namespace descent
