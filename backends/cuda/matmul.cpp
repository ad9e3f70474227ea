// Matrix products through cuBLAS (cublasGemmStridedBatchedEx). cuBLAS is column-major,
// so a row-major out = a · b is computed as outᵀ = bᵀ · aᵀ: a row-major operand is
// already its own transpose in column-major terms, and a transposed view (unit row
// stride) is passed as CUBLAS_OP_T, so neither costs a copy. Batch dims flatten to one
// batch index; an operand whose matrices are not one uniform stride apart (stride 0
// when it broadcasts) is first copied into a dense tensor, and a batch that only `a`
// has is folded into M, so x (B, T, C) · W (C, N) is a single GEMM. The bias is
// broadcast into out first and the GEMM adds onto it with beta = 1.
//
// dtypes: f32 (exact f32 arithmetic, or TF32 tensor cores when cuda::allow_tf32()),
// f16 and bf16 (f32 accumulation, tensor cores), f64.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/slot_helpers.h>

#include <algorithm>
#include <climits>
#include <optional>

namespace descent::cuda {

namespace {

constexpr std::string_view kOp = "matmul";

// How cuBLAS reads one row-major rows×cols operand x: op(stored) must be xᵀ.
struct Layout {
  bool ok = false;
  cublasOperation_t op = CUBLAS_OP_N;
  int64_t ld = 0;
};

// Row-major storage (unit column stride) is xᵀ stored column-major with ld = row stride:
// CUBLAS_OP_N. Column-major storage (a transposed view, unit row stride) is x stored
// column-major with ld = column stride: CUBLAS_OP_T. Anything else (broadcast or
// sliced-with-step matrix dims) is not a cuBLAS layout. A dim of size 1 has any stride,
// so its ld is the smallest cuBLAS accepts.
Layout layout_of(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  if ((cols <= 1 || cs == 1) && (rows <= 1 || rs >= std::max<int64_t>(cols, 1))) {
    return {true, CUBLAS_OP_N, rows <= 1 ? std::max<int64_t>(cols, 1) : rs};
  }
  if ((rows <= 1 || rs == 1) && (cols <= 1 || cs >= std::max<int64_t>(rows, 1))) {
    return {true, CUBLAS_OP_T, cols <= 1 ? std::max<int64_t>(rows, 1) : cs};
  }
  return {};
}

// The distance between consecutive matrices of x when out's batch dims are flattened in
// row-major order (0 when x broadcasts over all of them), or nullopt when no single
// stride describes x's batch layout. Checks every batch dim against out's.
std::optional<int64_t> uniform_batch_stride(const Tensor& x, const Tensor& out,
                                            std::string_view which) {
  const int nd = out.dim();
  std::optional<int64_t> stride;
  int64_t inner = 1;  // matrices per step of dim d
  bool uniform = true;
  for (int d = nd - 3; d >= 0; --d) {
    const int64_t size = out.shape()[d];
    const int64_t s = matmul_batch_stride(x, d, nd, size, which);
    if (size == 1) continue;
    if (!stride) {
      stride = s;  // the innermost non-trivial batch dim: inner is still 1
    } else if (s != *stride * inner) {
      uniform = false;
    }
    inner *= size;
  }
  if (!uniform) return std::nullopt;
  return stride.value_or(0);
}

// An operand ready for cuBLAS: its tensor (possibly a dense copy), layout and batch stride.
struct Operand {
  Tensor t;
  Layout layout;
  int64_t batch_stride = 0;
};

void check_int(int64_t v, std::string_view what) {
  check(v <= INT_MAX, kOp, "{} is {}, more than cuBLAS's 32-bit limit {}", what, v, INT_MAX);
}

}  // namespace

void CudaBackend::matmul(const MatmulArgs& args) {
  const Tensor &a0 = args.a, &b0 = args.b, &bias0 = args.bias, &out = args.out;
  check_matmul_operands(args);
  const Device dev = device();
  check(a0.device() == dev && b0.device() == dev && out.device() == dev &&
            (!bias0.defined() || bias0.device() == dev),
        kOp, "operands must be on {}, got a on {}, b on {} and out on {}", dev, a0.device(),
        b0.device(), out.device());
  const DType dt = out.dtype();
  check(is_floating(dt), kOp, "dtype {} is not supported on cuda (f32, f64, f16, bf16)", dt);
  const MatmulDims dims = check_matmul_shapes(args);
  const int64_t M = dims.M, N = dims.N, K = dims.K;
  if (out.numel() == 0) return;
  activate();
  const Tensor bias = bias0.defined() ? bias0.reshape({N}) : Tensor();
  if (K == 0) {  // an empty sum: bias or zeros
    if (bias.defined()) {
      copy(bias, out);
    } else {
      fill(out, 0.0);
    }
    return;
  }
  // Checks the batch dims (as the CPU backend, only once there is work to do).
  const std::optional<int64_t> sa0 = uniform_batch_stride(a0, out, "a");
  const std::optional<int64_t> sb0 = uniform_batch_stride(b0, out, "b");

  const Tensor o =
      out.is_contiguous() ? out : Tensor::empty(out.shape(), {.dtype = dt, .device = dev});
  const auto dense = [&](const Tensor& t, const Shape& shape) {
    Tensor c = Tensor::empty(shape, {.dtype = dt, .device = dev});
    copy(t, c);  // broadcasts t to `shape`
    return c;
  };
  const auto prepare = [&](const Tensor& x0, std::optional<int64_t> stride, int64_t rows,
                           int64_t cols, std::string_view which) {
    Operand x{x0, layout_of(rows, cols, x0.stride(-2), x0.stride(-1)), 0};
    if (!x.layout.ok) {  // the matrix dims themselves: a dense copy of x's own shape
      x.t = dense(x.t, x.t.shape());
      x.layout = layout_of(rows, cols, x.t.stride(-2), x.t.stride(-1));
      stride = uniform_batch_stride(x.t, out, which);
    }
    if (!stride) {  // irregular batch: materialise x over out's batch dims
      Shape shape = out.shape();
      shape[shape.size() - 2] = rows;
      shape[shape.size() - 1] = cols;
      x.t = dense(x.t, shape);
      x.layout = layout_of(rows, cols, x.t.stride(-2), x.t.stride(-1));
      stride = uniform_batch_stride(x.t, out, which);
    }
    x.batch_stride = *stride;
    return x;
  };
  const Operand a = prepare(a0, sa0, M, K, "a");
  const Operand b = prepare(b0, sb0, K, N, "b");

  // Fold a batch that b broadcasts over into M when a's rows continue across it (out is
  // contiguous, so its rows always do).
  int64_t batch = out.numel() / (M * N), m = M, lda = a.layout.ld;
  if (batch > 1 && b.batch_stride == 0 && a.layout.op == CUBLAS_OP_N && a.batch_stride != 0) {
    const int64_t rs = M == 1 ? a.batch_stride : a.layout.ld;
    if ((M == 1 && a.batch_stride >= K) || (M > 1 && a.batch_stride == M * rs)) {
      m = M * batch;
      lda = rs;
      batch = 1;
    }
  }
  check_int(m, "M");
  check_int(N, "N");
  check_int(K, "K");
  check_int(lda, "a's leading dimension");
  check_int(b.layout.ld, "b's leading dimension");
  check_int(batch, "the batch count");

  // Bias: broadcast into out, then out = a·b + 1·out.
  if (bias.defined()) copy(bias, o);
  cudaDataType_t type = CUDA_R_32F;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  // alpha and beta have the compute type: double for f64, float otherwise.
  const double alpha_d = 1.0, beta_d = bias.defined() ? 1.0 : 0.0;
  const float alpha_f = 1.0f, beta_f = bias.defined() ? 1.0f : 0.0f;
  const void* alpha = &alpha_f;
  const void* beta = &beta_f;
  switch (dt) {
    case DType::F32:
      compute = allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      break;
    case DType::F16: type = CUDA_R_16F; break;
    case DType::BF16: type = CUDA_R_16BF; break;
    case DType::F64:
      type = CUDA_R_64F;
      compute = CUBLAS_COMPUTE_64F;
      alpha = &alpha_d;
      beta = &beta_d;
      break;
    case DType::I32:
    case DType::I64:
    case DType::Bool: fail(kOp, fmt::format("dtype {} is not supported on cuda", dt));
  }
  cublasHandle_t h = cublas();
  CUBLAS_CHECK(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
  // The handle is shared: make sure no earlier user's math mode lets f32 round to TF32
  // (the compute type alone decides). For f16/bf16 out, cuBLAS may otherwise do split-K
  // reductions in the output type; the contract (and the CPU) accumulate in f32.
  CUBLAS_CHECK(cublasSetMathMode(
      h, cublasMath_t(CUBLAS_DEFAULT_MATH | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION)));
  // Column-major: outᵀ (N × m, ld N) = op(b) (N × K) · op(a) (K × m).
  CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      h, b.layout.op, a.layout.op, int(N), int(m), int(K), alpha, b.t.raw_data(), type,
      int(b.layout.ld), b.batch_stride, a.t.raw_data(), type, int(lda), a.batch_stride, beta,
      o.raw_data(), type, int(N), m * N, int(batch), compute, CUBLAS_GEMM_DEFAULT));
  if (!o.is_same(out)) copy(o, out);
}

}  // namespace descent::cuda
