// The CUDA backend's elementwise slots (unary, binary, where): argument checks with
// the CPU backend's messages, the op/dtype table both backends read (op_support.h
// through check_supported), and the strided loop geometry; the kernels are in
// elementwise_kernels.cu.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/elementwise_kernels.h>
#include <descent/backends/cuda/host_utils.h>
#include <descent/backends/elementwise_formulas.h>
#include <descent/backends/geometry.h>
#include <descent/backends/slot_helpers.h>

namespace descent::cuda {

namespace {

void check_on(const Tensor& t, Device dev, std::string_view op, std::string_view what) {
  check(t.device() == dev, op, "{} is on {}, expected {}", what, t.device(), dev);
}

// The clamp bounds in an integer dtype, as the CPU computes them.
template <class C>
void integer_bounds(UnaryParams p, UnaryScalars& s) {
  C lo, hi;
  integer_clamp_bounds(p.alpha, p.beta, lo, hi);
  s.lo = lo;
  s.hi = hi;
}

}  // namespace

void CudaBackend::unary(UnaryOp op, const Tensor& x, const Tensor& out, UnaryParams p) {
  activate();
  const bool to_bool = is_bool_result(op);
  const DType dt = x.dtype();
  check_on(x, device(), "unary", "input");
  check_on(out, device(), "unary", "output");
  check(broadcasts_to(x, out.shape()), "unary",
        "{}: input shape {} does not broadcast to the output shape {}", op_name(op), x.shape(),
        out.shape());
  check(out.dtype() == (to_bool ? DType::Bool : dt), "unary", "{}: output dtype {}, expected {}",
        op_name(op), out.dtype(), to_bool ? DType::Bool : dt);
  check_supported(op, dt);
  UnaryScalars s{.alpha = p.alpha, .beta = p.beta};
  if (op == UnaryOp::Clamp && dt == DType::I32) integer_bounds<int32_t>(p, s);
  if (op == UnaryOp::Clamp && dt == DType::I64) integer_bounds<int64_t>(p, s);
  if (out.numel() == 0) return;
  const LoopGeometry<2> g = make_geometry<2>(out.shape(), {&out, &x});
  CUDA_CHECK(launch_unary(Launch{stream(), error_flag()}, op, kdtype(dt), to_bool, s, g,
                          out.numel(), out.raw_data(), x.raw_data()));
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  activate();
  const DType dt = a.dtype();
  const bool to_bool = is_bool_result(op);
  check_on(a, device(), "binary", "first operand");
  check_on(b, device(), "binary", "second operand");
  check_on(out, device(), "binary", "output");
  check(b.dtype() == dt, "binary", "{}: operands of dtypes {} and {}, expected one dtype",
        op_name(op), dt, b.dtype());
  check(out.dtype() == (to_bool ? DType::Bool : dt), "binary", "{}: output dtype {}, expected {}",
        op_name(op), out.dtype(), to_bool ? DType::Bool : dt);
  check(broadcasts_to(a, out.shape()) && broadcasts_to(b, out.shape()), "binary",
        "{}: operand shapes {} and {} do not broadcast to the output shape {}", op_name(op),
        a.shape(), b.shape(), out.shape());
  check_supported(op, dt);
  if (out.numel() == 0) return;
  const LoopGeometry<3> g = make_geometry<3>(out.shape(), {&out, &a, &b});
  const Launch l{stream(), error_flag()};
  // Integer division by zero and negative integer powers are errors at the call, as on
  // the CPU: the kernel raises a flag and the host waits to read it. Only these integer
  // ops wait (the ops/ layer divides integers as floats, so training never gets here).
  const bool checked = is_integral(dt) && raises_integer_error(op);
  if (!checked) {
    CUDA_CHECK(launch_binary(l, op, kdtype(dt), to_bool, g, out.numel(), out.raw_data(),
                             a.raw_data(), b.raw_data(), nullptr));
    return;
  }
  Tensor flag = Tensor::empty({1}, {.dtype = DType::I32, .device = device()});
  int* dflag = static_cast<int*>(flag.raw_data());
  CUDA_CHECK(cudaMemsetAsync(dflag, 0, sizeof(int), stream()));
  CUDA_CHECK(launch_binary(l, op, kdtype(dt), to_bool, g, out.numel(), out.raw_data(), a.raw_data(),
                           b.raw_data(), dflag));
  int raised = 0;
  CUDA_CHECK(cudaMemcpyAsync(&raised, dflag, sizeof(int), cudaMemcpyDeviceToHost, stream()));
  CUDA_CHECK(cudaStreamSynchronize(stream()));
  if (raised != 0) fail_integer_op(op);
}

void CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  activate();
  check_on(cond, device(), "where", "condition");
  check_on(a, device(), "where", "first value");
  check_on(b, device(), "where", "second value");
  check_on(out, device(), "where", "output");
  check(cond.dtype() == DType::Bool, "where", "condition must be bool, got {}", cond.dtype());
  check(a.dtype() == out.dtype() && b.dtype() == out.dtype(), "where",
        "values of dtypes {} and {} and output of dtype {}, expected one dtype", a.dtype(),
        b.dtype(), out.dtype());
  check(broadcasts_to(cond, out.shape()) && broadcasts_to(a, out.shape()) &&
            broadcasts_to(b, out.shape()),
        "where", "shapes {}, {} and {} do not broadcast to the output shape {}", cond.shape(),
        a.shape(), b.shape(), out.shape());
  if (out.numel() == 0) return;
  const LoopGeometry<4> g = make_geometry<4>(out.shape(), {&out, &cond, &a, &b});
  CUDA_CHECK(launch_where(Launch{stream(), error_flag()}, int(out.element_size()), g, out.numel(),
                          out.raw_data(), cond.raw_data(), a.raw_data(), b.raw_data()));
}

}  // namespace descent::cuda
