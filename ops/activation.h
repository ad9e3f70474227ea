#pragma once
// Activations (descent::F), each differentiable, same formulas and defaults as
// torch.nn.functional. leaky_relu, elu, gelu, silu, softplus, softmax and log_softmax
// throw on non-floating input; sigmoid/tanh of an integer tensor give f32; relu keeps
// integer dtypes; a dim out of range throws.
#include <descent/core/tensor.h>

namespace descent::F {

Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
enum class GeluApprox { None, Tanh };
Tensor gelu(const Tensor& x, GeluApprox approximate = GeluApprox::None);
Tensor silu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
// Along `dim` (default: last). Computed in at least f32.
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

}  // namespace descent::F

namespace descent {
using F::sigmoid;
using F::tanh;
}  // namespace descent
