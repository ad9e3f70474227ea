// One LSTM layer through cuDNN's RNN functions (cudnnRNNForward, cudnnRNNBackwardData_v8,
// cudnnRNNBackwardWeights_v8): CUDNN_LSTM, one layer, unidirectional, linear input, double
// bias (PyTorch's b_ih and b_hh; CUDNN_RNN_NO_BIAS without them), sequence-major unpacked
// data (T, N, ·) in which every sequence has length T.
//
// Weights. cuDNN keeps them in one opaque weight space. For an LSTM its linLayerIDs 0-3 are
// the input-side matrices of the gates i, f, g (c̃), o and 4-7 the recurrent-side ones —
// PyTorch's gate order — and each is a row-major (H, I) or (H, H) matrix, so PyTorch's
// (4H, I) w_ih is the four input-side matrices one after the other (PyTorch's cuDNN RNNs
// rely on the same layout). cudnnGetRNNWeightParams gives each matrix's and bias's place;
// every forward copies the user's weights in (converting them to the compute dtype) and the
// backward copies the gradient weight space out; when the four gates of a tensor lie back
// to back, as they do in cuDNN 8 and 9, that is one copy per tensor.
//
// Dtypes. cuDNN runs an RNN in one data type: f32 (FMA math, or TF32 tensor ops when
// cuda::allow_tf32()), f64, f16 (tensor ops, f32 accumulation) and bf16 (f32 accumulation;
// cuDNN has bf16 RNNs from 9.13 on compute capability 8.0 and newer, the same gate PyTorch
// uses; elsewhere, or once cuDNN has rejected a bf16 configuration, a bf16 request computes
// in f32, with the contract's dtypes at its boundary). In the mixed-precision contract of
// LstmArgs the f32 cell state, weights and gradients are converted to and from the compute
// dtype on the device.
//
// Descriptors, sizes and the weight-space layout are cached per thread by (device, T, N, I,
// H, dtype, bias, math type), with the device array of sequence lengths. A training
// forward leaves its reserve space, weight space and compute-dtype inputs and output in
// args.saved for the backward.
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/host_utils.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <memory>
#include <unordered_map>
#include <vector>

namespace descent::cuda {

namespace {

constexpr std::string_view kOp = "lstm", kBwd = "lstm_backward";

// The four user tensors a weight space holds, each four gate blocks along dim 0.
enum Part { kWih, kWhh, kBih, kBhh };

struct PlanKey {
  int device = 0;
  int64_t T = 0, N = 0, I = 0, H = 0;
  DType dt = DType::F32;  // the compute dtype
  bool bias = true;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  bool operator==(const PlanKey&) const = default;
};

struct PlanKeyHash {
  size_t operator()(const PlanKey& k) const {
    uint64_t h = 1469598103934665603ull;
    for (int64_t v :
         {int64_t(k.device), k.T, k.N, k.I, k.H, int64_t(k.dt), int64_t(k.bias), int64_t(k.math)})
      h = (h ^ uint64_t(v)) * 1099511628211ull;
    return size_t(h);
  }
};

// The cuDNN objects and sizes of one configuration.
struct Plan {
  cudnnDropoutDescriptor_t dropout = nullptr;
  cudnnRNNDescriptor_t rnn = nullptr;
  cudnnRNNDataDescriptor_t x = nullptr, y = nullptr;
  cudnnTensorDescriptor_t state = nullptr;  // (1, N, H): h and c alike
  size_t weight_bytes = 0, work_train = 0, work_infer = 0, reserve_bytes = 0;
  int64_t H = 0;
  // Element offsets in the weight space of each part's four gate blocks.
  std::array<std::array<int64_t, 4>, 4> offset{};
  std::array<bool, 4> packed{};  // the four blocks of a part lie back to back
  bool zero_space = false;       // the weight space has room no part covers
  Tensor seq_lengths;            // (N) i32 on the device, all T

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    // Errors are ignored: nothing useful can be done about them in a destructor.
    if (state) cudnnDestroyTensorDescriptor(state);
    if (y) cudnnDestroyRNNDataDescriptor(y);
    if (x) cudnnDestroyRNNDataDescriptor(x);
    if (rnn) cudnnDestroyRNNDescriptor(rnn);
    if (dropout) cudnnDestroyDropoutDescriptor(dropout);
  }
};

// What a training forward leaves for its backward.
struct CudnnSaved final : LstmSaved {
  PlanKey key;
  // The compute-dtype tensors cuDNN read and wrote; the args' own when no conversion was
  // needed.
  Tensor x, h0, c0, y;
  Tensor weights;  // the weight space the forward ran with
  Tensor reserve;  // cuDNN's reserve space (raw bytes)
};

// cuDNN's bf16 RNNs need cuDNN 9.13 and compute capability 8.0.
bool bf16_rnn_supported(int device) {
  if (cudnnGetVersion() < 91300) return false;
  int major = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  return major >= 8;
}

// Set when cuDNN rejected a bf16 configuration: bf16 requests compute in f32 from then on.
std::atomic<bool> g_bf16_rejected{false};

DType compute_dtype(DType x, int device) {
  if (x != DType::BF16) return x;
  return g_bf16_rejected.load() || !bf16_rnn_supported(device) ? DType::F32 : x;
}

void* ptr(const Tensor& t) { return t.numel() == 0 ? nullptr : t.raw_data(); }

// The dims of a cuDNN tensor descriptor that are not 1.
std::vector<int> dims_of(cudnnTensorDescriptor_t d, cudnnDataType_t& dt) {
  int nb = 0;
  std::array<int, 8> dims{}, strides{};
  CUDNN_CHECK(
      cudnnGetTensorNdDescriptor(d, int(dims.size()), &dt, &nb, dims.data(), strides.data()));
  std::vector<int> out;
  for (int i = 0; i < nb && i < int(dims.size()); ++i)
    if (dims[size_t(i)] != 1) out.push_back(dims[size_t(i)]);
  return out;
}

std::vector<int> non_unit(std::initializer_list<int64_t> dims) {
  std::vector<int> out;
  for (int64_t d : dims)
    if (d != 1) out.push_back(int(d));
  return out;
}

// Finds where cuDNN keeps each gate's matrices and biases, in elements from the start of
// the weight space, and checks that each has the shape the copies assume.
void locate_weights(CudaBackend& be, Plan& p, const PlanKey& k) {
  const size_t elem = dtype_size(k.dt);
  check(p.weight_bytes % elem == 0, kOp,
        "cuDNN's weight space of {} bytes is no whole number of {}", p.weight_bytes, k.dt);
  // cuDNN computes the addresses from a real buffer; only their offsets are kept.
  const Tensor space = raw_bytes(be.device(), p.weight_bytes);
  const char* base = static_cast<const char*>(space.raw_data());
  cudnnTensorDescriptor_t desc = nullptr;
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc));
  std::unique_ptr<cudnnTensorStruct, decltype(&cudnnDestroyTensorDescriptor)> guard(
      desc, &cudnnDestroyTensorDescriptor);
  const auto offset_of = [&](void* addr, std::initializer_list<int64_t> want, const char* what,
                             int id) {
    cudnnDataType_t dt{};
    const std::vector<int> dims = dims_of(desc, dt);
    check(addr != nullptr && dt == cudnn_dtype(k.dt) && dims == non_unit(want), kOp,
          "cuDNN's LSTM weight space has no {} of the expected shape for linLayerID {} (hidden "
          "size {}, input size {})",
          what, id, k.H, k.I);
    const ptrdiff_t bytes = static_cast<const char*>(addr) - base;
    check(bytes >= 0 && size_t(bytes) % elem == 0, kOp,
          "cuDNN's LSTM {} for linLayerID {} is not aligned to its elements", what, id);
    return int64_t(size_t(bytes) / elem);
  };
  for (int id = 0; id < 8; ++id) {
    const Part w = id < 4 ? kWih : kWhh, b = id < 4 ? kBih : kBhh;
    const int64_t cols = id < 4 ? k.I : k.H;
    void* addr = nullptr;
    CUDNN_CHECK(cudnnGetRNNWeightParams(be.cudnn(), p.rnn, 0, p.weight_bytes, space.raw_data(), id,
                                        desc, &addr, nullptr, nullptr));
    p.offset[w][size_t(id % 4)] = offset_of(addr, {k.H, cols}, "matrix", id);
    if (!k.bias) continue;
    CUDNN_CHECK(cudnnGetRNNWeightParams(be.cudnn(), p.rnn, 0, p.weight_bytes, space.raw_data(), id,
                                        nullptr, nullptr, desc, &addr));
    p.offset[b][size_t(id % 4)] = offset_of(addr, {k.H}, "bias", id);
  }
  const std::array<int64_t, 4> block{k.H * k.I, k.H * k.H, k.H, k.H};
  for (int part = 0; part < (k.bias ? 4 : 2); ++part) {
    const auto& o = p.offset[size_t(part)];
    p.packed[size_t(part)] = o[1] == o[0] + block[size_t(part)] &&
                             o[2] == o[0] + 2 * block[size_t(part)] &&
                             o[3] == o[0] + 3 * block[size_t(part)];
  }
  const int64_t covered = 4 * (block[0] + block[1] + (k.bias ? 2 * k.H : 0));
  p.zero_space = size_t(covered) * elem != p.weight_bytes;
}

std::unique_ptr<Plan> make_plan(CudaBackend& be, const PlanKey& k) {
  auto p = std::make_unique<Plan>();
  cudnnHandle_t handle = be.cudnn();
  const cudnnDataType_t dt = cudnn_dtype(k.dt);
  const cudnnDataType_t prec = is_16bit(k.dt) ? CUDNN_DATA_FLOAT : dt;
  p->H = k.H;
  // A single layer applies no dropout; cuDNN still wants a (zero-rate) descriptor.
  CUDNN_CHECK(cudnnCreateDropoutDescriptor(&p->dropout));
  CUDNN_CHECK(cudnnSetDropoutDescriptor(p->dropout, handle, 0.f, nullptr, 0, 0));
  CUDNN_CHECK(cudnnCreateRNNDescriptor(&p->rnn));
  // Unpacked (padded) layouts need padded I/O enabled.
  CUDNN_CHECK(cudnnSetRNNDescriptor_v8(
      p->rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM,
      k.bias ? CUDNN_RNN_DOUBLE_BIAS : CUDNN_RNN_NO_BIAS, CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT,
      dt, prec, k.math, int32_t(k.I), int32_t(k.H),
      /*projSize=*/int32_t(k.H), /*numLayers=*/1, p->dropout, CUDNN_RNN_PADDED_IO_ENABLED));
  const std::vector<int> lengths(size_t(k.N), int(k.T));
  CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&p->x));
  CUDNN_CHECK(cudnnSetRNNDataDescriptor(p->x, dt, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED,
                                        int(k.T), int(k.N), int(k.I), lengths.data(), nullptr));
  CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&p->y));
  CUDNN_CHECK(cudnnSetRNNDataDescriptor(p->y, dt, CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED,
                                        int(k.T), int(k.N), int(k.H), lengths.data(), nullptr));
  CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->state));
  const int dims[3] = {1, int(k.N), int(k.H)}, strides[3] = {int(k.N * k.H), int(k.H), 1};
  CUDNN_CHECK(cudnnSetTensorNdDescriptor(p->state, dt, 3, dims, strides));
  CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(handle, p->rnn, &p->weight_bytes));
  CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(handle, p->rnn, CUDNN_FWD_MODE_TRAINING, p->x,
                                        &p->work_train, &p->reserve_bytes));
  CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(handle, p->rnn, CUDNN_FWD_MODE_INFERENCE, p->x,
                                        &p->work_infer, nullptr));
  locate_weights(be, *p, k);
  // cuDNN reads the lengths on the device, asynchronously. A pageable source is staged
  // before cudaMemcpyAsync returns, so `lengths` may go out of scope.
  p->seq_lengths = Tensor::empty({k.N}, {.dtype = DType::I32, .device = be.device()});
  CUDA_CHECK(cudaMemcpyAsync(p->seq_lengths.raw_data(), lengths.data(),
                             lengths.size() * sizeof(int), cudaMemcpyHostToDevice, be.stream()));
  return p;
}

Plan& plan_for(CudaBackend& be, const PlanKey& k) {
  constexpr size_t kCapacity = 64;
  thread_local std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash> cache;
  auto it = cache.find(k);
  if (it != cache.end()) return *it->second;
  // Queued work never reads a dropped plan's descriptors (cuDNN reads them when called),
  // and its sequence-length block returns to the stream-ordered allocator.
  if (cache.size() >= kCapacity) cache.clear();
  std::unique_ptr<Plan> p = make_plan(be, k);
  return *cache.emplace(k, std::move(p)).first->second;
}

// The plan of `k`; a bf16 configuration cuDNN rejects is run in f32 instead (k changes).
Plan& plan_or_f32(CudaBackend& be, PlanKey& k) {
  if (k.dt == DType::BF16) {
    try {
      return plan_for(be, k);
    } catch (const Error&) {
      g_bf16_rejected.store(true);
      k.dt = DType::F32;
      k.math = cudnn_math_type(DType::F32);
    }
  }
  return plan_for(be, k);
}

// ---- arguments ----------------------------------------------------------------------

void want(const Tensor& t, const Shape& shape, std::string_view what, std::string_view op) {
  check(t.defined(), op, "{} is undefined", what);
  check(t.shape() == shape, op, "{} has shape {}, expected {}", what, t.shape(), shape);
  check(t.is_contiguous(), op, "{} must be contiguous", what);
}

PlanKey check_forward(const LstmArgs& a, int device) {
  check(a.x.defined() && a.x.dim() == 3, kOp, "expected x of shape (T, N, I), got {}",
        a.x.defined() ? a.x.shape() : Shape{});
  check(a.h0.defined() && a.h0.dim() == 2, kOp, "expected h0 of shape (N, H), got {}",
        a.h0.defined() ? a.h0.shape() : Shape{});
  const int64_t T = a.x.size(0), N = a.x.size(1), I = a.x.size(2), H = a.h0.size(1);
  check(T > 0 && N > 0 && I > 0 && H > 0, kOp,
        "needs a step, a sequence, an input and a hidden unit; got x of shape {} and h0 of "
        "shape {}",
        a.x.shape(), a.h0.shape());
  check(T <= INT_MAX && N <= INT_MAX && I <= INT_MAX && 4 * H <= INT_MAX &&
            N * std::max(H, I) <= INT_MAX,
        kOp, "x of shape {} with hidden size {} is too large for cuDNN's 32-bit sizes", a.x.shape(),
        H);
  const DType x = a.x.dtype();
  check(x == DType::F32 || x == DType::F64 || x == DType::F16 || x == DType::BF16, kOp,
        "expected f32, f64, f16 or bf16 input, got {}", x);
  // Mixed precision: the cell state and the weights are f32 master copies.
  const DType state = is_16bit(x) ? DType::F32 : x;
  const auto dtype = [&](const Tensor& t, DType d, std::string_view what) {
    check(t.dtype() == d, kOp, "{} is {}, expected {} for a {} input", what, t.dtype(), d, x);
  };
  check(a.b_ih.defined() == a.b_hh.defined(), kOp,
        "b_ih and b_hh must both be given or both be undefined");
  const bool bias = a.b_ih.defined();
  want(a.x, {T, N, I}, "x", kOp);
  want(a.h0, {N, H}, "h0", kOp);
  want(a.c0, {N, H}, "c0", kOp);
  want(a.w_ih, {4 * H, I}, "w_ih", kOp);
  want(a.w_hh, {4 * H, H}, "w_hh", kOp);
  if (bias) {
    want(a.b_ih, {4 * H}, "b_ih", kOp);
    want(a.b_hh, {4 * H}, "b_hh", kOp);
    dtype(a.b_ih, state, "b_ih");
    dtype(a.b_hh, state, "b_hh");
  }
  want(a.y, {T, N, H}, "y", kOp);
  want(a.h_n, {N, H}, "h_n", kOp);
  want(a.c_n, {N, H}, "c_n", kOp);
  dtype(a.h0, x, "h0");
  dtype(a.y, x, "y");
  dtype(a.h_n, x, "h_n");
  dtype(a.c0, state, "c0");
  dtype(a.c_n, state, "c_n");
  dtype(a.w_ih, state, "w_ih");
  dtype(a.w_hh, state, "w_hh");
  const DType dt = compute_dtype(x, device);
  return {.device = device,
          .T = T,
          .N = N,
          .I = I,
          .H = H,
          .dt = dt,
          .bias = bias,
          .math = cudnn_math_type(dt)};
}

// ---- dtype conversions and weight copies ---------------------------------------------

Tensor as_dtype(CudaBackend& be, const Tensor& t, DType dt) {
  if (t.dtype() == dt) return t;
  Tensor out = Tensor::empty(t.shape(), {.dtype = dt, .device = be.device()});
  be.copy(t, out);
  return out;
}

// Where cuDNN writes an output: `out` itself, or a compute-dtype buffer for finish().
Tensor buffer_for(CudaBackend& be, const Tensor& out, DType dt) {
  return out.dtype() == dt ? out : Tensor::empty(out.shape(), {.dtype = dt, .device = be.device()});
}

void finish(CudaBackend& be, const Tensor& buffer, const Tensor& out) {
  if (!buffer.is_same(out)) be.copy(buffer, out);
}

Tensor zeros(CudaBackend& be, const Shape& shape, DType dt) {
  Tensor t = Tensor::empty(shape, {.dtype = dt, .device = be.device()});
  be.fill(t, 0.0);
  return t;
}

// Copies a user tensor of `part` ((4H, ·) or (4H)) into the weight space `space`, or back
// out of it, converting between their dtypes.
void transfer(CudaBackend& be, const Plan& p, Part part, const Tensor& space, const Tensor& user,
              bool into_space) {
  const auto region = [&](int64_t offset, const Shape& shape) {
    return make_view(space, shape, contiguous_strides(shape), space.offset() + offset);
  };
  const auto copy_one = [&](const Tensor& u, const Tensor& r) {
    if (into_space) {
      be.copy(u, r);
    } else {
      be.copy(r, u);
    }
  };
  const auto& offset = p.offset[size_t(part)];
  if (p.packed[size_t(part)]) return copy_one(user, region(offset[0], user.shape()));
  Shape gate = user.shape();
  gate[0] = p.H;
  for (int g = 0; g < 4; ++g)
    copy_one(user.narrow(0, g * p.H, p.H), region(offset[size_t(g)], gate));
}

Tensor weight_space(CudaBackend& be, const Plan& p, const PlanKey& k) {
  return Tensor::empty({int64_t(p.weight_bytes / dtype_size(k.dt))},
                       {.dtype = k.dt, .device = be.device()});
}

}  // namespace

void CudaBackend::lstm(LstmArgs& a) {
  activate();
  PlanKey k = check_forward(a, index());
  Plan& p = plan_or_f32(*this, k);
  auto s = std::make_shared<CudnnSaved>();
  s->key = k;
  s->x = as_dtype(*this, a.x, k.dt);
  s->h0 = as_dtype(*this, a.h0, k.dt);
  s->c0 = as_dtype(*this, a.c0, k.dt);
  s->weights = weight_space(*this, p, k);
  if (p.zero_space) CUDA_CHECK(cudaMemsetAsync(s->weights.raw_data(), 0, p.weight_bytes, stream()));
  transfer(*this, p, kWih, s->weights, a.w_ih, true);
  transfer(*this, p, kWhh, s->weights, a.w_hh, true);
  if (k.bias) {
    transfer(*this, p, kBih, s->weights, a.b_ih, true);
    transfer(*this, p, kBhh, s->weights, a.b_hh, true);
  }
  s->y = buffer_for(*this, a.y, k.dt);
  const Tensor hn = buffer_for(*this, a.h_n, k.dt), cn = buffer_for(*this, a.c_n, k.dt);
  const size_t work_bytes = a.training ? p.work_train : p.work_infer;
  const Tensor work = raw_bytes(device(), work_bytes);
  if (a.training) s->reserve = raw_bytes(device(), p.reserve_bytes);
  CUDNN_CHECK(cudnnRNNForward(
      cudnn(), p.rnn, a.training ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE,
      static_cast<const int32_t*>(p.seq_lengths.raw_data()), p.x, s->x.raw_data(), p.y,
      s->y.raw_data(), p.state, s->h0.raw_data(), hn.raw_data(), p.state, s->c0.raw_data(),
      cn.raw_data(), p.weight_bytes, s->weights.raw_data(), work_bytes, ptr(work),
      a.training ? p.reserve_bytes : 0, a.training ? ptr(s->reserve) : nullptr));
  finish(*this, s->y, a.y);
  finish(*this, hn, a.h_n);
  finish(*this, cn, a.c_n);
  if (a.training) a.saved = std::move(s);
}

void CudaBackend::lstm_backward(const LstmBackwardArgs& b) {
  activate();
  check(b.forward != nullptr, kBwd, "needs the arguments of its training forward");
  const LstmArgs& a = *b.forward;
  const auto* s = dynamic_cast<const CudnnSaved*>(a.saved.get());
  check(s != nullptr, kBwd, "the forward saved no cuDNN reserve space (was it training?)");
  const PlanKey& k = s->key;
  check(k.device == index(), kBwd, "the forward ran on cuda:{}, not on cuda:{}", k.device, index());
  const DType grad_dt = is_16bit(a.x.dtype()) ? DType::F32 : a.x.dtype();
  const int64_t T = k.T, N = k.N, I = k.I, H = k.H;
  const auto grad = [&](const Tensor& t, const Shape& shape, std::string_view what) {
    if (!t.defined()) return;
    want(t, shape, what, kBwd);
    check(t.dtype() == grad_dt, kBwd, "gradients are {} for a {} forward, got a {} {}", grad_dt,
          a.x.dtype(), t.dtype(), what);
  };
  grad(b.grad_y, {T, N, H}, "grad_y");
  grad(b.grad_h_n, {N, H}, "grad_h_n");
  grad(b.grad_c_n, {N, H}, "grad_c_n");
  grad(b.grad_x, {T, N, I}, "grad_x");
  grad(b.grad_h0, {N, H}, "grad_h0");
  grad(b.grad_c0, {N, H}, "grad_c0");
  grad(b.grad_w_ih, {4 * H, I}, "grad_w_ih");
  grad(b.grad_w_hh, {4 * H, H}, "grad_w_hh");
  grad(b.grad_b, {4 * H}, "grad_b");
  // The same key gives the same descriptors, sizes and layout even if the plan was evicted.
  Plan& p = plan_for(*this, k);
  check(s->reserve.numel() == int64_t(p.reserve_bytes), kBwd,
        "the reserve space has {} bytes, cuDNN expects {}", s->reserve.numel(), p.reserve_bytes);

  // Undefined incoming gradients are zero; undefined outgoing ones go to scratch.
  const auto in = [&](const Tensor& t, const Shape& shape) {
    return t.defined() ? as_dtype(*this, t, k.dt) : zeros(*this, shape, k.dt);
  };
  const auto out = [&](const Tensor& t, const Shape& shape) {
    return t.defined() ? buffer_for(*this, t, k.dt)
                       : Tensor::empty(shape, {.dtype = k.dt, .device = device()});
  };
  const Tensor dy = in(b.grad_y, {T, N, H}), dhy = in(b.grad_h_n, {N, H}),
               dcy = in(b.grad_c_n, {N, H});
  const Tensor dx = out(b.grad_x, {T, N, I}), dhx = out(b.grad_h0, {N, H}),
               dcx = out(b.grad_c0, {N, H});
  const Tensor work = raw_bytes(device(), p.work_train);
  const auto* seq = static_cast<const int32_t*>(p.seq_lengths.raw_data());
  CUDNN_CHECK(cudnnRNNBackwardData_v8(
      cudnn(), p.rnn, seq, p.y, s->y.raw_data(), dy.raw_data(), p.x, dx.raw_data(), p.state,
      s->h0.raw_data(), dhy.raw_data(), dhx.raw_data(), p.state, s->c0.raw_data(), dcy.raw_data(),
      dcx.raw_data(), p.weight_bytes, s->weights.raw_data(), p.work_train, ptr(work),
      p.reserve_bytes, s->reserve.raw_data()));
  if (b.grad_x.defined()) finish(*this, dx, b.grad_x);
  if (b.grad_h0.defined()) finish(*this, dhx, b.grad_h0);
  if (b.grad_c0.defined()) finish(*this, dcx, b.grad_c0);

  const bool want_b = b.grad_b.defined() && k.bias;
  if (b.grad_b.defined() && !k.bias) fill(b.grad_b, 0.0);
  if (!b.grad_w_ih.defined() && !b.grad_w_hh.defined() && !want_b) return;
  // cuDNN adds into the gradient weight space (CUDNN_WGRAD_MODE_ADD is its only mode).
  const Tensor dw = weight_space(*this, p, k);
  CUDA_CHECK(cudaMemsetAsync(dw.raw_data(), 0, p.weight_bytes, stream()));
  CUDNN_CHECK(cudnnRNNBackwardWeights_v8(
      cudnn(), p.rnn, CUDNN_WGRAD_MODE_ADD, seq, p.x, s->x.raw_data(), p.state, s->h0.raw_data(),
      p.y, s->y.raw_data(), p.weight_bytes, dw.raw_data(), p.work_train, ptr(work), p.reserve_bytes,
      s->reserve.raw_data()));
  if (b.grad_w_ih.defined()) transfer(*this, p, kWih, dw, b.grad_w_ih, false);
  if (b.grad_w_hh.defined()) transfer(*this, p, kWhh, dw, b.grad_w_hh, false);
  // b_ih and b_hh enter the gates as a sum, so both biases have this gradient.
  if (want_b) transfer(*this, p, kBih, dw, b.grad_b, false);
}

}  // namespace descent::cuda
