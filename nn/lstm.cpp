#include <descent/nn/init.h>
#include <descent/nn/lstm.h>
#include <descent/ops/factory.h>

#include <cmath>

namespace descent::nn {

namespace {

void check_sizes(int64_t input_size, int64_t hidden_size, std::string_view name) {
  check(input_size > 0 && hidden_size > 0, name,
        "got input_size={}, hidden_size={}, expected sizes >= 1", input_size, hidden_size);
}

// PyTorch's init for every LSTM weight and bias: U(±1/√hidden_size).
void init_uniform(const F::LstmLayerWeights& w, int64_t hidden_size, Generator* gen) {
  const double bound = 1.0 / std::sqrt(double(hidden_size));
  for (const Tensor& t : {w.w_ih, w.w_hh, w.b_ih, w.b_hh}) {
    if (t.defined()) init::uniform_(t, -bound, bound, gen);
  }
}

}  // namespace

LSTM::LSTM(int64_t input_size, int64_t hidden_size, LSTMOptions options)
    : input_size_(input_size), hidden_size_(hidden_size), options_(options) {
  check_sizes(input_size, hidden_size, "LSTM");
  check(options.num_layers >= 1, "LSTM", "got num_layers={}, expected at least 1",
        options.num_layers);
  check(options.dropout >= 0 && options.dropout <= 1, "LSTM",
        "got dropout={}, expected a probability in [0, 1]", options.dropout);
  const int64_t G = 4 * hidden_size, D = options.bidirectional ? 2 : 1;
  for (int64_t l = 0; l < options.num_layers; ++l) {
    const int64_t in = l == 0 ? input_size : D * hidden_size;
    for (int64_t d = 0; d < D; ++d) {
      const std::string suffix = fmt::format("l{}{}", l, d == 1 ? "_reverse" : "");
      F::LstmLayerWeights w;
      w.w_ih = register_parameter("weight_ih_" + suffix, empty({G, in}));
      w.w_hh = register_parameter("weight_hh_" + suffix, empty({G, hidden_size}));
      if (options.bias) {
        w.b_ih = register_parameter("bias_ih_" + suffix, empty({G}));
        w.b_hh = register_parameter("bias_hh_" + suffix, empty({G}));
      }
      layers_.push_back(w);
    }
  }
  reset_parameters(options.generator);
}

void LSTM::reset_parameters(Generator* gen) {
  for (const auto& w : layers_) init_uniform(w, hidden_size_, gen);
}

F::LstmOutput LSTM::forward(const Tensor& input, const LSTMState& state) {
  check(input.defined(), "LSTM", "got an undefined input");
  // Named by the input and its layout here: a mismatch found later would name a weight.
  const std::string_view layout = input.dim() == 2       ? "(seq, features), unbatched"
                                  : options_.batch_first ? "(batch, seq, features) with batch_first"
                                                         : "(seq, batch, features)";
  check(input.dim() == 2 || input.dim() == 3, "LSTM",
        "input {} needs (seq, batch, features), (batch, seq, features) with batch_first, or "
        "(seq, features) unbatched; got {} dims",
        input.shape(), input.dim());
  check(input.size(-1) == input_size_, "LSTM",
        "input {} needs {}: its last dim is {} features, expected input_size {}", input.shape(),
        layout, input.size(-1), input_size_);
  check(state.first.defined() == state.second.defined(), "LSTM",
        "got only one of (h0, c0), expected both or neither");
  // Weights under a parametrization (weight_norm) are computed for this call.
  std::vector<F::LstmLayerWeights> layers = layers_;
  for (F::LstmLayerWeights& w : layers) {
    for (Tensor* t : {&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh}) *t = resolve(*t);
  }
  return F::lstm(input, layers, state.first, state.second,
                 {.batch_first = options_.batch_first,
                  .bidirectional = options_.bidirectional,
                  .dropout = options_.dropout,
                  .training = is_training(),
                  .generator = options_.generator});
}

std::string LSTM::extra_repr() const {
  std::string s = fmt::format("{}, {}", input_size_, hidden_size_);
  if (options_.num_layers != 1) s += fmt::format(", num_layers={}", options_.num_layers);
  if (!options_.bias) s += ", bias=false";
  if (options_.batch_first) s += ", batch_first=true";
  if (options_.dropout != 0) s += fmt::format(", dropout={}", options_.dropout);
  if (options_.bidirectional) s += ", bidirectional=true";
  return s;
}

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, LSTMCellOptions options)
    : input_size_(input_size), hidden_size_(hidden_size) {
  check_sizes(input_size, hidden_size, "LSTMCell");
  const int64_t G = 4 * hidden_size;
  w_.w_ih = register_parameter("weight_ih", empty({G, input_size}));
  w_.w_hh = register_parameter("weight_hh", empty({G, hidden_size}));
  if (options.bias) {
    w_.b_ih = register_parameter("bias_ih", empty({G}));
    w_.b_hh = register_parameter("bias_hh", empty({G}));
  }
  reset_parameters(options.generator);
}

void LSTMCell::reset_parameters(Generator* gen) { init_uniform(w_, hidden_size_, gen); }

LSTMState LSTMCell::forward(const Tensor& input, const LSTMState& state) {
  check(input.defined(), "LSTMCell", "got an undefined input");
  check(state.first.defined() == state.second.defined(), "LSTMCell",
        "got only one of (h, c), expected both or neither");
  check(input.dim() == 2 && input.size(1) == input_size_, "LSTMCell",
        "got input of shape {}, expected (N, {})", input.shape(), input_size_);
  F::LstmLayerWeights w = w_;
  for (Tensor* t : {&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh}) *t = resolve(*t);
  return F::lstm_cell(input, state.first, state.second, w);
}

std::string LSTMCell::extra_repr() const {
  return fmt::format("{}, {}{}", input_size_, hidden_size_,
                     w_.b_ih.defined() ? "" : ", bias=false");
}

}  // namespace descent::nn
