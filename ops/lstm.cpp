// lstm: one autograd::Function per layer over the backend's fused LSTM kernels, with
// dropout (the existing op) between layers, so each layer's backward is one call of
// the backend's lstm_backward. The kernel gets contiguous (T, N, ·) tensors; batch_first
// and unbatched inputs are views around it.
//
// Precision: f32 and f64 compute as they are. A 16-bit input (or an f32 one under
// amp::Autocast) computes in mixed precision: x, h and the output in the 16-bit dtype,
// the cell state, the weights (f32 master copies) and the gradients in f32 — the
// backend contract in backend.h. oneDNN 2.6 has bf16 RNNs on the CPU but no f16 ones,
// so f16 falls back to f32 there. On CUDA, cuDNN runs f16 (tensor ops) and bf16 (where
// cuDNN and the GPU support it; otherwise f32 inside the backend).
#include <descent/backends/backend.h>
#include <descent/core/autocast.h>
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/ops/dispatch.h>
#include <descent/ops/dropout.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>
#include <descent/ops/lstm.h>

namespace descent::F {

namespace {

constexpr std::string_view kOp = "lstm";

Tensor dense(const Tensor& t) { return t.defined() ? t.contiguous() : t; }

struct LstmLayer : autograd::Function<LstmLayer> {
  static constexpr std::string_view name = "lstm";
  LstmArgs args;  // inputs, outputs and the kernel's saved state

  std::vector<Tensor> forward(const Tensor& x, const Tensor& h0, const Tensor& c0,
                              const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                              const Tensor& b_hh, bool training) {
    const int64_t T = x.size(0), N = x.size(1), H = h0.size(1);
    const TensorOptions opt{.dtype = x.dtype(), .device = x.device()};
    const TensorOptions state{.dtype = c0.dtype(), .device = x.device()};
    args = {.x = dense(x),
            .h0 = dense(h0),
            .c0 = dense(c0),
            .w_ih = dense(w_ih),
            .w_hh = dense(w_hh),
            .b_ih = dense(b_ih),
            .b_hh = dense(b_hh),
            .training = training,
            .y = Tensor::empty({T, N, H}, opt),
            .h_n = Tensor::empty({N, H}, opt),
            .c_n = Tensor::empty({N, H}, state),
            .saved = nullptr};
    backend_for(x).lstm(args);
    return {args.y, args.h_n, args.c_n};
  }

  // Gradients are in the cell state's dtype (f32 in mixed precision); the engine casts
  // those of 16-bit inputs back.
  std::vector<Tensor> backward(const std::vector<Tensor>& g) {
    const DType dt = args.c0.dtype();
    const TensorOptions opt{.dtype = dt, .device = args.x.device()};
    const auto grad = [&](const Tensor& t) { return t.to(dt).contiguous(); };
    const bool bias = args.b_ih.defined();
    const int64_t G = args.w_ih.size(0);
    Tensor gx = Tensor::empty(args.x.shape(), opt), gh0 = Tensor::empty(args.h0.shape(), opt),
           gc0 = Tensor::empty(args.c0.shape(), opt), gw_ih = Tensor::empty(args.w_ih.shape(), opt),
           gw_hh = Tensor::empty(args.w_hh.shape(), opt),
           gb = bias ? Tensor::empty({G}, opt) : Tensor();
    backend_for(args.x).lstm_backward({.forward = &args,
                                       .grad_y = grad(g[0]),
                                       .grad_h_n = grad(g[1]),
                                       .grad_c_n = grad(g[2]),
                                       .grad_x = gx,
                                       .grad_h0 = gh0,
                                       .grad_c0 = gc0,
                                       .grad_w_ih = gw_ih,
                                       .grad_w_hh = gw_hh,
                                       .grad_b = gb});
    // b_ih and b_hh enter as a sum: the same gradient, in two tensors so that neither
    // parameter's .grad aliases the other's.
    return {gx, gh0, gc0, gw_ih, gw_hh, gb, bias ? gb.clone() : Tensor()};
  }
};

// Without autocast every tensor has the input's dtype; under it any mix of f32, bf16
// and f16 is fine (f32 master weights with a 16-bit input from an earlier layer).
void check_dtype(const Tensor& t, const Tensor& x, std::string_view what) {
  const auto mixable = [](DType d) { return d == DType::F32 || is_16bit(d); };
  const bool ok = t.dtype() == x.dtype() ||
                  (amp::autocast_enabled() && mixable(t.dtype()) && mixable(x.dtype()));
  check(ok, kOp, "{} is {}, expected the input's dtype {}", what, t.dtype(), x.dtype());
}

void check_param(const Tensor& t, const Shape& want, const Tensor& x, std::string_view what,
                 size_t layer) {
  check(t.defined(), kOp, "layer {}: {} is undefined", layer, what);
  check(t.shape() == want, kOp, "layer {}: {} has shape {}, expected {}", layer, what, t.shape(),
        want);
  check_dtype(t, x, fmt::format("layer {}: {}", layer, what));
  ops::check_same_device(t, x, kOp);
}

// Checks one layer's weights against its input size; returns the hidden size.
int64_t check_layer(const LstmLayerWeights& w, int64_t in, const Tensor& x, size_t layer) {
  check(w.w_ih.defined() && w.w_hh.defined(), kOp, "layer {}: w_ih and w_hh must be defined",
        layer);
  check(w.w_hh.dim() == 2 && w.w_hh.size(0) == 4 * w.w_hh.size(1) && w.w_hh.size(1) > 0, kOp,
        "layer {}: w_hh has shape {}, expected (4H, H)", layer, w.w_hh.shape());
  const int64_t H = w.w_hh.size(1);
  check_param(w.w_hh, {4 * H, H}, x, "w_hh", layer);
  check_param(w.w_ih, {4 * H, in}, x, "w_ih", layer);
  check(w.b_ih.defined() == w.b_hh.defined(), kOp,
        "layer {}: b_ih and b_hh must both be given or both be undefined", layer);
  if (w.b_ih.defined()) {
    check_param(w.b_ih, {4 * H}, x, "b_ih", layer);
    check_param(w.b_hh, {4 * H}, x, "b_hh", layer);
  }
  return H;
}

void check_state(const Tensor& s, const Shape& want, const Tensor& x, std::string_view what) {
  if (!s.defined()) return;
  check(s.shape() == want, kOp, "{} has shape {}, expected {}", what, s.shape(), want);
  check_dtype(s, x, what);
  ops::check_same_device(s, x, kOp);
}

bool needs_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// The dtype x, h and the output compute in (see the top of the file).
DType compute_dtype(const Tensor& x) {
  const DType dt = amp::lower_precision(x.dtype());
  if (dt == DType::F16 && x.device().is_cpu()) return DType::F32;  // no f16 RNN in oneDNN 2.6
  return dt;
}

Tensor as(const Tensor& t, DType dt) { return t.defined() ? t.to(dt) : t; }

}  // namespace

LstmOutput lstm(const Tensor& x_in, const std::vector<LstmLayerWeights>& layers,
                const Tensor& h0_in, const Tensor& c0_in, LstmOptions opt) {
  ops::check_defined(x_in, kOp);
  check(!layers.empty(), kOp, "needs at least one layer");
  check(x_in.dim() == 2 || x_in.dim() == 3, kOp,
        "expected input of shape (T, N, I), (N, T, I) with batch_first, or unbatched (T, I); "
        "got {}",
        x_in.shape());
  check(is_floating(x_in.dtype()), kOp, "expected a floating input (f32, f64, bf16, f16), got {}",
        x_in.dtype());
  check(opt.dropout >= 0.0 && opt.dropout <= 1.0, kOp, "dropout must be in [0, 1], got {}",
        opt.dropout);
  const bool unbatched = x_in.dim() == 2;
  // Everything below works on (T, N, ·).
  Tensor x = unbatched ? x_in.unsqueeze(1) : opt.batch_first ? x_in.transpose(0, 1) : x_in;
  const int64_t T = x.size(0), N = x.size(1);
  check(T > 0 && N > 0, kOp, "input has shape {}: needs at least one step and one sequence",
        x_in.shape());

  const int64_t D = opt.bidirectional ? 2 : 1;
  check(int64_t(layers.size()) % D == 0, kOp,
        "a bidirectional LSTM needs two weight sets per layer, got {}", layers.size());
  const int64_t L = int64_t(layers.size()) / D;
  std::vector<int64_t> hidden;
  bool any_grad = needs_grad(x) || needs_grad(h0_in) || needs_grad(c0_in);
  for (size_t l = 0; l < layers.size(); ++l) {
    // Layer 0's directions read the input; later ones read D·H features.
    const int64_t in = l < size_t(D) ? x.size(2) : D * hidden[0];
    hidden.push_back(check_layer(layers[l], in, x, l));
    const auto& w = layers[l];
    any_grad = any_grad || needs_grad(w.w_ih) || needs_grad(w.w_hh) || needs_grad(w.b_ih) ||
               needs_grad(w.b_hh);
  }
  for (size_t l = 1; l < hidden.size(); ++l) {
    check(hidden[l] == hidden[0], kOp, "layer {} has hidden size {}, layer 0 has {}", l, hidden[l],
          hidden[0]);
  }
  const int64_t H = hidden[0];
  const Shape state_shape = unbatched ? Shape{D * L, H} : Shape{D * L, N, H};
  check_state(h0_in, state_shape, x, "h0");
  check_state(c0_in, state_shape, x, "c0");
  const auto per_layer = [&](const Tensor& s) {
    return s.defined() && unbatched ? s.unsqueeze(1) : s;
  };
  const DType compute = compute_dtype(x_in);
  const DType state_dt = is_16bit(compute) ? DType::F32 : compute;  // c and the weights
  x = x.to(compute);
  const Tensor h0 = as(per_layer(h0_in), compute), c0 = as(per_layer(c0_in), state_dt);
  const TensorOptions hopt{.dtype = compute, .device = x.device()};
  const TensorOptions copt{.dtype = state_dt, .device = x.device()};
  // Only a forward that will be differentiated keeps oneDNN's training workspace.
  const bool keep = GradMode::is_enabled() && any_grad;

  // The right-to-left direction runs the same kernel on the time-reversed sequence.
  const Tensor reversed =
      D == 2 ? arange(double(T - 1), -1.0, -1.0, {.dtype = DType::I64, .device = x.device()})
             : Tensor();
  const auto flip_time = [&](const Tensor& t) { return index_select(t, 0, reversed); };

  Tensor out = x;
  std::vector<Tensor> hn, cn;
  for (int64_t l = 0; l < L; ++l) {
    if (l > 0 && opt.training && opt.dropout > 0) {
      out = dropout(out, opt.dropout, true, opt.generator);
    }
    std::vector<Tensor> outs;
    for (int64_t d = 0; d < D; ++d) {
      const int64_t idx = l * D + d;
      const Tensor h = h0.defined() ? h0.select(0, idx) : zeros({N, H}, hopt);
      const Tensor c = c0.defined() ? c0.select(0, idx) : zeros({N, H}, copt);
      const auto& w = layers[size_t(idx)];
      auto r =
          LstmLayer::apply(d == 0 ? out : flip_time(out), h, c, as(w.w_ih, state_dt),
                           as(w.w_hh, state_dt), as(w.b_ih, state_dt), as(w.b_hh, state_dt), keep);
      outs.push_back(d == 0 ? r[0] : flip_time(r[0]));
      hn.push_back(r[1]);
      cn.push_back(r[2]);
    }
    out = D == 1 ? outs[0] : cat(outs, 2);
  }
  LstmOutput result{out, stack(hn, 0), stack(cn, 0)};
  if (unbatched) {
    result.output = result.output.squeeze(1);
    result.h_n = result.h_n.squeeze(1);
    result.c_n = result.c_n.squeeze(1);
  } else if (opt.batch_first) {
    result.output = result.output.transpose(0, 1);
  }
  return result;
}

std::pair<Tensor, Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c,
                                    const LstmLayerWeights& weights) {
  constexpr std::string_view op = "lstm_cell";
  ops::check_defined(x, op);
  check(x.dim() == 2, op, "expected input of shape (N, I), got {}", x.shape());
  const auto as_state = [](const Tensor& s) { return s.defined() ? s.unsqueeze(0) : s; };
  LstmOutput r = lstm(x.unsqueeze(0), {weights}, as_state(h), as_state(c), {.training = false});
  return {r.h_n.squeeze(0), r.c_n.squeeze(0)};
}

}  // namespace descent::F
