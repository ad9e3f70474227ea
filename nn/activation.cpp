#include <descent/nn/activation.h>

namespace descent::nn {

Tensor ReLU::forward(const Tensor& input) { return F::relu(input); }

Tensor LeakyReLU::forward(const Tensor& input) { return F::leaky_relu(input, negative_slope_); }
std::string LeakyReLU::extra_repr() const {
  return fmt::format("negative_slope={}", negative_slope_);
}

Tensor ELU::forward(const Tensor& input) { return F::elu(input, alpha_); }
std::string ELU::extra_repr() const { return fmt::format("alpha={}", alpha_); }

Tensor GELU::forward(const Tensor& input) { return F::gelu(input, approximate_); }
std::string GELU::extra_repr() const {
  switch (approximate_) {
    case F::GeluApprox::None: return "approximate='none'";
    case F::GeluApprox::Tanh: return "approximate='tanh'";
  }
  return {};
}

Tensor SiLU::forward(const Tensor& input) { return F::silu(input); }
Tensor Sigmoid::forward(const Tensor& input) { return F::sigmoid(input); }
Tensor Tanh::forward(const Tensor& input) { return F::tanh(input); }

Tensor Softplus::forward(const Tensor& input) { return F::softplus(input, beta_, threshold_); }
std::string Softplus::extra_repr() const {
  return fmt::format("beta={}, threshold={}", beta_, threshold_);
}

Tensor Softmax::forward(const Tensor& input) { return F::softmax(input, dim_); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim_); }

Tensor LogSoftmax::forward(const Tensor& input) { return F::log_softmax(input, dim_); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", dim_); }

}  // namespace descent::nn
