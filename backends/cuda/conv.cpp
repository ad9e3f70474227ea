// 2-D convolution through cuDNN's convolution functions: forward, backward data,
// backward filter and backward bias, NCHW tensors and KCRS filters (torch's layouts as
// they stand). Algorithms come from cuDNN's heuristics (the *_v7 queries: the first one
// whose workspace is available); the workspace is a byte tensor of this device, so it
// comes from the caching allocator. Dtypes: f32 (exact FMAs, or TF32 when
// cuda::allow_tf32()), f64, and f16/bf16 with f32 accumulation on tensor cores.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>

#include <climits>

namespace descent::cuda {

namespace {

// The descriptors of one convolution, created and destroyed with it.
class ConvDescs {
 public:
  ConvDescs(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dGeometry& g,
            std::string_view op) {
    const DType dt = x.dtype();
    check(dt == DType::F32 || dt == DType::F64 || dt == DType::BF16 || dt == DType::F16, op,
          "expected f32, f64, f16 or bf16 tensors, got {}", dt);
    for (const Tensor* t : {&x, &w, &y})
      for (int64_t s : t->shape())
        check(s <= INT_MAX, op, "shape {} is too large for cuDNN", t->shape());
    const cudnnDataType_t t = cudnn_dtype(dt);
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&x_));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&y_));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&b_));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&w_));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv_));
    const auto i = [](int64_t v) { return int(v); };
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, t, i(x.size(0)), i(x.size(1)),
                                           i(x.size(2)), i(x.size(3))));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NCHW, t, i(y.size(0)), i(y.size(1)),
                                           i(y.size(2)), i(y.size(3))));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(b_, CUDNN_TENSOR_NCHW, t, 1, i(y.size(1)), 1, 1));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(w_, t, CUDNN_TENSOR_NCHW, i(w.size(0)), i(w.size(1)),
                                           i(w.size(2)), i(w.size(3))));
    // 16-bit data accumulates in f32; f32 and f64 in their own type.
    const cudnnDataType_t compute = dt == DType::F64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv_, i(g.padding[0]), i(g.padding[1]), i(g.stride[0]), i(g.stride[1]), i(g.dilation[0]),
        i(g.dilation[1]), CUDNN_CROSS_CORRELATION, compute));
    CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv_, i(g.groups)));
    CUDNN_CHECK(cudnnSetConvolutionMathType(
        conv_, dt == DType::BF16 ? CUDNN_TENSOR_OP_MATH : cudnn_math_type(dt)));
    // f16 and bf16 data accumulate in f32 (set above): cuDNN's pseudo-half configuration.
    double_ = dt == DType::F64;
  }
  ~ConvDescs() {
    cudnnDestroyConvolutionDescriptor(conv_);
    cudnnDestroyFilterDescriptor(w_);
    cudnnDestroyTensorDescriptor(b_);
    cudnnDestroyTensorDescriptor(y_);
    cudnnDestroyTensorDescriptor(x_);
  }
  ConvDescs(const ConvDescs&) = delete;
  ConvDescs& operator=(const ConvDescs&) = delete;

  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr, b_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;

  // The blend factors (1, 0) or (1, 1) in the type cuDNN reads for the data type.
  const void* one() const { return double_ ? static_cast<const void*>(&d1_) : &f1_; }
  const void* zero() const { return double_ ? static_cast<const void*>(&d0_) : &f0_; }

 private:
  bool double_ = false;
  float f1_ = 1.f, f0_ = 0.f;
  double d1_ = 1.0, d0_ = 0.0;
};

// The first of cuDNN's ranked algorithms that succeeded in its query.
template <class Perf>
auto first_algo(const Perf* perf, int n, std::string_view op) {
  for (int i = 0; i < n; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) return perf[i].algo;
  fail(op, "cuDNN has no algorithm for this convolution");
}

}  // namespace

void CudaBackend::conv2d(const Conv2dArgs& a) {
  activate();
  for (const Tensor* t : {&a.x, &a.weight, &a.bias, &a.y})
    if (t->defined()) check_device(device(), *t, "conv2d");
  if (a.y.numel() == 0) return;
  const ConvDescs d(a.x, a.weight, a.y, a.geo, "conv2d");
  cudnnHandle_t h = cudnn();
  constexpr int kAlgos = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  cudnnConvolutionFwdAlgoPerf_t perf[kAlgos];
  int n = 0;
  CUDNN_CHECK(
      cudnnGetConvolutionForwardAlgorithm_v7(h, d.x_, d.w_, d.conv_, d.y_, kAlgos, &n, perf));
  const auto algo = first_algo(perf, n, "conv2d");
  size_t bytes = 0;
  CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, d.x_, d.w_, d.conv_, d.y_, algo, &bytes));
  const Tensor work = raw_bytes(device(), bytes);
  CUDNN_CHECK(cudnnConvolutionForward(h, d.one(), d.x_, a.x.raw_data(), d.w_, a.weight.raw_data(),
                                      d.conv_, algo, bytes ? work.raw_data() : nullptr, bytes,
                                      d.zero(), d.y_, a.y.raw_data()));
  if (a.bias.defined())
    CUDNN_CHECK(cudnnAddTensor(h, d.one(), d.b_, a.bias.raw_data(), d.one(), d.y_, a.y.raw_data()));
}

void CudaBackend::conv2d_backward(const Conv2dBackwardArgs& a) {
  activate();
  for (const Tensor* t : {&a.x, &a.weight, &a.grad_y, &a.grad_x, &a.grad_weight, &a.grad_bias})
    if (t->defined()) check_device(device(), *t, "conv2d_backward");
  if (a.grad_y.numel() == 0 || a.x.numel() == 0) {
    for (const Tensor* t : {&a.grad_x, &a.grad_weight, &a.grad_bias})
      if (t->defined()) fill(*t, 0.0);
    return;
  }
  const ConvDescs d(a.x, a.weight, a.grad_y, a.geo, "conv2d_backward");
  cudnnHandle_t h = cudnn();
  if (a.grad_x.defined()) {
    constexpr int kAlgos = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    cudnnConvolutionBwdDataAlgoPerf_t perf[kAlgos];
    int n = 0;
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w_, d.y_, d.conv_, d.x_, kAlgos,
                                                            &n, perf));
    const auto algo = first_algo(perf, n, "conv2d_backward");
    size_t bytes = 0;
    CUDNN_CHECK(
        cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w_, d.y_, d.conv_, d.x_, algo, &bytes));
    const Tensor work = raw_bytes(device(), bytes);
    CUDNN_CHECK(cudnnConvolutionBackwardData(
        h, d.one(), d.w_, a.weight.raw_data(), d.y_, a.grad_y.raw_data(), d.conv_, algo,
        bytes ? work.raw_data() : nullptr, bytes, d.zero(), d.x_, a.grad_x.raw_data()));
  }
  if (a.grad_weight.defined()) {
    constexpr int kAlgos = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kAlgos];
    int n = 0;
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x_, d.y_, d.conv_, d.w_, kAlgos,
                                                              &n, perf));
    const auto algo = first_algo(perf, n, "conv2d_backward");
    size_t bytes = 0;
    CUDNN_CHECK(
        cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x_, d.y_, d.conv_, d.w_, algo, &bytes));
    const Tensor work = raw_bytes(device(), bytes);
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(
        h, d.one(), d.x_, a.x.raw_data(), d.y_, a.grad_y.raw_data(), d.conv_, algo,
        bytes ? work.raw_data() : nullptr, bytes, d.zero(), d.w_, a.grad_weight.raw_data()));
  }
  if (a.grad_bias.defined())
    CUDNN_CHECK(cudnnConvolutionBackwardBias(h, d.one(), d.y_, a.grad_y.raw_data(), d.zero(), d.b_,
                                             a.grad_bias.raw_data()));
}

}  // namespace descent::cuda
