#pragma once
// nn::LSTM and nn::LSTMCell — F::lstm / F::lstm_cell with torch.nn's parameters.
//
// LSTM(input_size, hidden_size, {.num_layers, .bias, .batch_first, .dropout}):
//   parameters, per layer k, in PyTorch's order and shapes: "weight_ih_l{k}" (4H, I or
//   H), "weight_hh_l{k}" (4H, H), "bias_ih_l{k}" and "bias_hh_l{k}" (4H, absent with
//   bias = false), plus the same with suffix "_reverse" when bidirectional (then layers
//   after the first take 2H inputs); all U(±1/√hidden_size). forward(x, {h0, c0}) →
//   {output, h_n, c_n} with x (T, N, I) ((N, T, I) with batch_first, or unbatched
//   (T, I)) and states (D·L, N, H), D = 2 if bidirectional else 1 (zeros when
//   omitted). Dropout applies between layers while training.
//   The single-tensor forward (for Sequential) returns the output.
// LSTMCell(input_size, hidden_size, {.bias}): "weight_ih" (4H, I), "weight_hh" (4H, H),
//   "bias_ih", "bias_hh" (4H); forward(x (N, I), {h, c}) → {h', c'}; the single-tensor
//   forward returns h'.
// Throws descent::Error for sizes < 1, num_layers < 1, dropout outside [0, 1], and
// what F::lstm rejects (wrong input or state shapes).
#include <descent/core/random.h>
#include <descent/nn/module.h>
#include <descent/ops/lstm.h>

#include <utility>
#include <vector>

namespace descent::nn {

struct LSTMOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0.0;
  bool bidirectional = false;
  Generator* generator = nullptr;  // initial values and dropout masks; default when null
};

// (h, c); both undefined means zeros.
using LSTMState = std::pair<Tensor, Tensor>;

class LSTM : public Module {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options = {});
  // Re-draws every weight and bias from U(±1/√hidden_size).
  void reset_parameters(Generator* gen = nullptr);

  F::LstmOutput forward(const Tensor& input, const LSTMState& state);
  Tensor forward(const Tensor& input) override { return forward(input, {}).output; }
  using Module::operator();
  F::LstmOutput operator()(const Tensor& input, const LSTMState& state) {
    return forward(input, state);
  }
  std::string extra_repr() const override;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const LSTMOptions& options() const { return options_; }
  const std::vector<F::LstmLayerWeights>& layers() const { return layers_; }

 private:
  int64_t input_size_, hidden_size_;
  LSTMOptions options_;
  std::vector<F::LstmLayerWeights> layers_;  // handles of the registered parameters
};

struct LSTMCellOptions {
  bool bias = true;
  Generator* generator = nullptr;
};

class LSTMCell : public Module {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, LSTMCellOptions options = {});
  void reset_parameters(Generator* gen = nullptr);

  LSTMState forward(const Tensor& input, const LSTMState& state);
  Tensor forward(const Tensor& input) override { return forward(input, {}).first; }
  using Module::operator();
  LSTMState operator()(const Tensor& input, const LSTMState& state) {
    return forward(input, state);
  }
  std::string extra_repr() const override;

  const F::LstmLayerWeights& weights() const { return w_; }

 private:
  int64_t input_size_, hidden_size_;
  F::LstmLayerWeights w_;
};

}  // namespace descent::nn
