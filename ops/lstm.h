#pragma once
// LSTM (torch.lstm / torch.nn.LSTM's functional core), one fused backend kernel per
// layer forward and one backward, with PyTorch's formulas and gate order (i, f, g, o):
//   gates = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
//   c_t = σ(f)⊙c_{t-1} + σ(i)⊙tanh(g),  h_t = σ(o)⊙tanh(c_t).
// f32 runs oneDNN; f64 runs reference loops (for gradchecks). Differentiable in the
// input, h0, c0 and every weight and bias (no double backward).
//
// Mixed precision: a bf16 input, or any f32/16-bit input under amp::Autocast(BF16),
// runs oneDNN's bf16 LSTM (AVX512-BF16 GEMMs). `output` and `h_n` are then bf16;
// `c_n` and every gradient are f32, and f32 weights stay f32 masters. f16 has no CPU
// RNN in oneDNN 2.6, so on the CPU it computes in f32 and returns f32; on CUDA f16 and
// bf16 run through cuDNN.
#include <descent/core/random.h>
#include <descent/core/tensor.h>

#include <utility>
#include <vector>

namespace descent::F {

// The parameters of one layer: w_ih (4H, I), w_hh (4H, H), b_ih and b_hh (4H) or both
// undefined (bias = false). All of the input's dtype (under autocast: f32 or 16-bit)
// and device.
struct LstmLayerWeights {
  Tensor w_ih, w_hh, b_ih, b_hh;
};

struct LstmOptions {
  bool batch_first = false;  // input and output are (N, T, ·) instead of (T, N, ·)
  // Each layer also runs right to left (its own weights); the layer's output is the
  // two directions' h_t concatenated (2H features).
  bool bidirectional = false;
  double dropout = 0.0;  // on every layer's output except the last, when training
  bool training = true;
  Generator* generator = nullptr;  // for dropout; the default generator when null
};

// D = 2 directions when bidirectional, else 1.
struct LstmOutput {
  Tensor output;    // (T, N, D·H), or (N, T, D·H) with batch_first, or (T, D·H) unbatched
  Tensor h_n, c_n;  // (D·L, N, H), or (D·L, H) unbatched
};

// A stack of L LSTM layers over x: (T, N, I) ((N, T, I) with batch_first) or
// unbatched (T, I). `layers` holds D·L entries in PyTorch's order (layer 0, layer 0
// reverse, layer 1, ...); layers after the first take D·H inputs. h0, c0:
// (D·L, N, H) ((D·L, H) unbatched), in the same order, or undefined for zeros. Throws
// descent::Error for a wrong rank, mismatched sizes, dtypes or devices, or a dropout outside [0,
// 1].
LstmOutput lstm(const Tensor& x, const std::vector<LstmLayerWeights>& layers, const Tensor& h0 = {},
                const Tensor& c0 = {}, LstmOptions opt = {});

// One step (torch.nn.LSTMCell): x (N, I), h and c (N, H) → (h', c'). h and c may be
// undefined for zeros.
std::pair<Tensor, Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c,
                                    const LstmLayerWeights& weights);

}  // namespace descent::F
