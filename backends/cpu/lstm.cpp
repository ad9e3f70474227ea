// One LSTM layer through oneDNN's lstm_forward / lstm_backward, in f32 or in bf16
// (mixed precision, below); f64 goes to the reference loops in lstm_ref.cpp. PyTorch's (4H, I)
// weights are oneDNN's `ldgoi` layout as they stand, and both use the gate order i, f, g(c̃), o. The
// primitives pick their own weight layouts (format_tag::any, which the backward needs), so the
// weights are reordered into them on every call (they change every optimizer step),
// and the weight gradients are reordered back out. oneDNN has one bias: b_ih + b_hh.
//
// bf16 is oneDNN's mixed-precision RNN: x, h and y are bf16 and the GEMMs run on
// AVX512-BF16, while the cell state, the bias and every gradient are f32. The weights
// arrive as f32 master copies; the reorder into the primitive's layout is also the
// conversion to bf16, and the f32 weight gradients come back without a bf16 round trip.
//
// Per (T, N, I, H) a thread caches the primitives, their weight buffers and the
// reorders. The forward-training workspace (tens of MB) must live until that
// forward's backward, so it cannot be per-shape; it comes from a small pool instead,
// which keeps page faults of fresh allocations off the training loop.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/dnnl_utils.h>
#include <descent/backends/cpu/fused_ref.h>
#include <omp.h>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace descent::cpu {

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using md = dnnl::memory::desc;

constexpr std::string_view kOp = "lstm";

// ---- workspace pool ---------------------------------------------------------------

class WorkspacePool {
 public:
  static constexpr size_t kMaxFree = 8;

  std::shared_ptr<void> get(size_t bytes) {
    void* p = nullptr;
    {
      std::lock_guard lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end()) {
        p = it->second;
        free_.erase(it);
      }
    }
    if (!p) {
      p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
      check(p != nullptr, kOp, "out of memory allocating a {}-byte workspace", bytes);
    }
    return std::shared_ptr<void>(p, [this, bytes](void* q) { put(q, bytes); });
  }

 private:
  void put(void* p, size_t bytes) {
    std::lock_guard lock(mu_);
    if (free_.size() >= kMaxFree) {
      std::free(free_.begin()->second);
      free_.erase(free_.begin());
    }
    free_.emplace(bytes, p);
  }

  std::mutex mu_;
  std::multimap<size_t, void*> free_;
};

// Leaked on purpose: workspaces held by autograd graphs may die after static
// destructors have run.
WorkspacePool& workspace_pool() {
  static auto* pool = new WorkspacePool;
  return *pool;
}

struct DnnlSaved final : LstmSaved {
  std::shared_ptr<void> buffer;
  size_t bytes = 0;
};

// ---- primitives -------------------------------------------------------------------

struct LstmKey {
  int64_t T, N, I, H;
  DType dt;     // the compute dtype of x, h and y: F32 or BF16
  int threads;  // the primitives split their work for the thread count they were made under
  bool operator==(const LstmKey&) const = default;
};

struct LstmKeyHash {
  size_t operator()(const LstmKey& k) const {
    return KeyHash()
        .mix_all(std::array<int64_t, 6>{k.T, k.N, k.I, k.H, int64_t(k.dt), int64_t(k.threads)})
        .value();
  }
};

struct Forward {
  dnnl::lstm_forward::primitive_desc pd;
  dnnl::lstm_forward prim;
  Relayout w_layer, w_iter;
};

struct Backward {
  dnnl::lstm_backward::primitive_desc pd;
  dnnl::lstm_backward prim;
  Relayout w_layer, w_iter;    // user → primitive
  Relayout dw_layer, dw_iter;  // primitive → user
};

struct LstmPrimitives {
  std::unique_ptr<Forward> train, infer;
  std::unique_ptr<Backward> backward;
  dnnl::memory bias;  // b_ih + b_hh, (1, 1, 4, H)
};

// Memory descriptors of one layer. `h` is the hidden state (the compute dtype), `c`
// the cell state (f32 always); the diff_* descriptors are all f32.
struct Descs {
  md src_layer, h, c, w_layer_user, w_iter_user, w_layer_any, w_iter_any, bias, dst_layer;
  md diff_src_layer, diff_h, diff_w_layer_any, diff_w_iter_any, diff_dst_layer;
};

Descs descs_of(const LstmKey& k) {
  const dnnl::memory::dim T = k.T, N = k.N, I = k.I, H = k.H;
  const auto lo = k.dt == DType::BF16 ? dt::bf16 : dt::f32;
  return {.src_layer = md({T, N, I}, lo, tag::tnc),
          .h = md({1, 1, N, H}, lo, tag::ldnc),
          .c = md({1, 1, N, H}, dt::f32, tag::ldnc),
          .w_layer_user = md({1, 1, I, 4, H}, dt::f32, tag::ldgoi),
          .w_iter_user = md({1, 1, H, 4, H}, dt::f32, tag::ldgoi),
          .w_layer_any = md({1, 1, I, 4, H}, lo, tag::any),
          .w_iter_any = md({1, 1, H, 4, H}, lo, tag::any),
          .bias = md({1, 1, 4, H}, dt::f32, tag::ldgo),
          .dst_layer = md({T, N, H}, lo, tag::tnc),
          .diff_src_layer = md({T, N, I}, dt::f32, tag::tnc),
          .diff_h = md({1, 1, N, H}, dt::f32, tag::ldnc),
          .diff_w_layer_any = md({1, 1, I, 4, H}, dt::f32, tag::any),
          .diff_w_iter_any = md({1, 1, H, 4, H}, dt::f32, tag::any),
          .diff_dst_layer = md({T, N, H}, dt::f32, tag::tnc)};
}

dnnl::lstm_forward::primitive_desc forward_pd(const Descs& d, bool training) {
  const auto kind =
      training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  return {{kind, dnnl::rnn_direction::unidirectional_left2right, d.src_layer, d.h, d.c,
           d.w_layer_any, d.w_iter_any, d.bias, d.dst_layer, d.h, d.c},
          dnnl_engine()};
}

std::unique_ptr<Forward> make_forward(const LstmKey& k, bool training) {
  const Descs d = descs_of(k);
  auto f = std::make_unique<Forward>();
  f->pd = forward_pd(d, training);
  f->prim = dnnl::lstm_forward(f->pd);
  f->w_layer.init(d.w_layer_user, f->pd.weights_layer_desc(), false);
  f->w_iter.init(d.w_iter_user, f->pd.weights_iter_desc(), false);
  return f;
}

std::unique_ptr<Backward> make_backward(const LstmKey& k, const Forward& fwd) {
  const Descs d = descs_of(k);
  auto b = std::make_unique<Backward>();
  b->pd = dnnl::lstm_backward::primitive_desc({dnnl::prop_kind::backward,
                                               dnnl::rnn_direction::unidirectional_left2right,
                                               d.src_layer,
                                               d.h,
                                               d.c,
                                               d.w_layer_any,
                                               d.w_iter_any,
                                               d.bias,
                                               d.dst_layer,
                                               d.h,
                                               d.c,
                                               d.diff_src_layer,
                                               d.diff_h,
                                               d.c,
                                               d.diff_w_layer_any,
                                               d.diff_w_iter_any,
                                               d.bias,
                                               d.diff_dst_layer,
                                               d.diff_h,
                                               d.c},
                                              dnnl_engine(), fwd.pd);
  b->prim = dnnl::lstm_backward(b->pd);
  b->w_layer.init(d.w_layer_user, b->pd.weights_layer_desc(), false);
  b->w_iter.init(d.w_iter_user, b->pd.weights_iter_desc(), false);
  b->dw_layer.init(d.w_layer_user, b->pd.diff_weights_layer_desc(), true);
  b->dw_iter.init(d.w_iter_user, b->pd.diff_weights_iter_desc(), true);
  return b;
}

LstmPrimitives& primitives(const LstmKey& k) {
  return *thread_cached<LstmKey, LstmKeyHash>(k, 64, [&] {
    auto p = std::make_unique<LstmPrimitives>();
    p->bias = dnnl::memory(descs_of(k).bias, dnnl_engine());
    return p;
  });
}

template <class Make>
auto& lazily(std::unique_ptr<Make>& slot, auto&& make) {
  if (!slot) {
    try {
      slot = make();
    } catch (const dnnl::error& e) {
      fail(kOp, fmt::format("oneDNN could not create an LSTM primitive: {}", e.what()));
    }
  }
  return *slot;
}

dnnl::memory mem(const md& d, const Tensor& t) {
  return dnnl::memory(d, dnnl_engine(), t.raw_data());
}

void fill_bias(dnnl::memory& bias, const Tensor& b_ih, const Tensor& b_hh, int64_t G) {
  float* out = static_cast<float*>(bias.get_data_handle());
  const float* a = b_ih.defined() ? b_ih.data<float>() : nullptr;
  const float* b = b_hh.defined() ? b_hh.data<float>() : nullptr;
  for (int64_t i = 0; i < G; ++i) out[i] = (a ? a[i] : 0.f) + (b ? b[i] : 0.f);
}

LstmKey key_of(const LstmArgs& a) {
  return {a.x.size(0), a.x.size(1), a.x.size(2), a.h0.size(1), a.x.dtype(), omp_get_max_threads()};
}

// The dtypes LstmArgs promises for x's dtype (backend.h), checked because a mismatch
// would make oneDNN read the buffers as garbage.
void check_dtypes(const LstmArgs& a) {
  const DType x = a.x.dtype();
  check(x == DType::F32 || x == DType::BF16, kOp, "expected f32, bf16 or f64 input, got {}", x);
  const auto want = [&](const Tensor& t, DType d, std::string_view what) {
    if (t.defined())
      check(t.dtype() == d, kOp, "{} is {}, expected {} for a {} input", what, t.dtype(), d, x);
  };
  want(a.h0, x, "h0");
  want(a.y, x, "y");
  want(a.h_n, x, "h_n");
  for (auto [t, what] : {std::pair{&a.c0, "c0"},
                         {&a.c_n, "c_n"},
                         {&a.w_ih, "w_ih"},
                         {&a.w_hh, "w_hh"},
                         {&a.b_ih, "b_ih"},
                         {&a.b_hh, "b_hh"}})
    want(*t, DType::F32, what);
}

}  // namespace

void CpuBackend::lstm(LstmArgs& a) {
  if (a.x.dtype() == DType::F64) return lstm_ref(a);
  check_dtypes(a);
  const LstmKey k = key_of(a);
  LstmPrimitives& p = primitives(k);
  Forward& f = a.training ? lazily(p.train, [&] { return make_forward(k, true); })
                          : lazily(p.infer, [&] { return make_forward(k, false); });
  const Descs d = descs_of(k);
  fill_bias(p.bias, a.b_ih, a.b_hh, 4 * k.H);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC_LAYER, mem(d.src_layer, a.x)},
      {DNNL_ARG_SRC_ITER, mem(d.h, a.h0)},
      {DNNL_ARG_SRC_ITER_C, mem(d.c, a.c0)},
      {DNNL_ARG_WEIGHTS_LAYER, f.w_layer.in(a.w_ih.raw_data())},
      {DNNL_ARG_WEIGHTS_ITER, f.w_iter.in(a.w_hh.raw_data())},
      {DNNL_ARG_BIAS, p.bias},
      {DNNL_ARG_DST_LAYER, mem(d.dst_layer, a.y)},
      {DNNL_ARG_DST_ITER, mem(d.h, a.h_n)},
      {DNNL_ARG_DST_ITER_C, mem(d.c, a.c_n)}};
  if (a.training) {
    auto saved = std::make_shared<DnnlSaved>();
    const md ws = f.pd.workspace_desc();
    saved->bytes = ws.get_size();
    saved->buffer = workspace_pool().get(saved->bytes);
    args.emplace(DNNL_ARG_WORKSPACE, dnnl::memory(ws, dnnl_engine(), saved->buffer.get()));
    a.saved = std::move(saved);
  }
  f.prim.execute(dnnl_stream(), args);
}

void CpuBackend::lstm_backward(const LstmBackwardArgs& b) {
  const LstmArgs& a = *b.forward;
  if (a.x.dtype() == DType::F64) return lstm_backward_ref(b);
  for (const Tensor* t : {&b.grad_y, &b.grad_h_n, &b.grad_c_n, &b.grad_x, &b.grad_h0, &b.grad_c0,
                          &b.grad_w_ih, &b.grad_w_hh, &b.grad_b}) {
    if (t->defined())
      check(t->dtype() == DType::F32, "lstm_backward",
            "gradients are f32 for a {} forward, got a {} one", a.x.dtype(), t->dtype());
  }
  const auto* saved = dynamic_cast<const DnnlSaved*>(a.saved.get());
  check(saved != nullptr, "lstm_backward", "the forward saved no workspace (was it training?)");
  const LstmKey k = key_of(a);
  LstmPrimitives& p = primitives(k);
  Forward& f = lazily(p.train, [&] { return make_forward(k, true); });
  Backward& bw = lazily(p.backward, [&] { return make_backward(k, f); });
  const Descs d = descs_of(k);
  fill_bias(p.bias, a.b_ih, a.b_hh, 4 * k.H);

  // oneDNN adds into the weight and bias gradients: they start at zero.
  dnnl::memory dw_layer = bw.dw_layer.out(b.grad_w_ih.raw_data());
  dnnl::memory dw_iter = bw.dw_iter.out(b.grad_w_hh.raw_data());
  Tensor grad_b = b.grad_b.defined() ? b.grad_b : Tensor::empty({4 * k.H});
  for (dnnl::memory* m : {&dw_layer, &dw_iter})
    std::memset(m->get_data_handle(), 0, m->get_desc().get_size());
  std::memset(grad_b.raw_data(), 0, size_t(4 * k.H) * sizeof(float));

  const md ws = f.pd.workspace_desc();
  check(ws.get_size() == saved->bytes, "lstm_backward", "workspace size changed");
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC_LAYER, mem(d.src_layer, a.x)},
      {DNNL_ARG_SRC_ITER, mem(d.h, a.h0)},
      {DNNL_ARG_SRC_ITER_C, mem(d.c, a.c0)},
      {DNNL_ARG_WEIGHTS_LAYER, bw.w_layer.in(a.w_ih.raw_data())},
      {DNNL_ARG_WEIGHTS_ITER, bw.w_iter.in(a.w_hh.raw_data())},
      {DNNL_ARG_BIAS, p.bias},
      {DNNL_ARG_DST_LAYER, mem(d.dst_layer, a.y)},
      {DNNL_ARG_DST_ITER, mem(d.h, a.h_n)},
      {DNNL_ARG_DST_ITER_C, mem(d.c, a.c_n)},
      {DNNL_ARG_WORKSPACE, dnnl::memory(ws, dnnl_engine(), saved->buffer.get())},
      {DNNL_ARG_DIFF_DST_LAYER, mem(d.diff_dst_layer, b.grad_y)},
      {DNNL_ARG_DIFF_DST_ITER, mem(d.diff_h, b.grad_h_n)},
      {DNNL_ARG_DIFF_DST_ITER_C, mem(d.c, b.grad_c_n)},
      {DNNL_ARG_DIFF_SRC_LAYER, mem(d.diff_src_layer, b.grad_x)},
      {DNNL_ARG_DIFF_SRC_ITER, mem(d.diff_h, b.grad_h0)},
      {DNNL_ARG_DIFF_SRC_ITER_C, mem(d.c, b.grad_c0)},
      {DNNL_ARG_DIFF_WEIGHTS_LAYER, dw_layer},
      {DNNL_ARG_DIFF_WEIGHTS_ITER, dw_iter},
      {DNNL_ARG_DIFF_BIAS, mem(d.bias, grad_b)}};
  bw.prim.execute(dnnl_stream(), args);
  bw.dw_layer.finish(b.grad_w_ih.raw_data());
  bw.dw_iter.finish(b.grad_w_hh.raw_data());
}

}  // namespace descent::cpu
