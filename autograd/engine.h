#pragma once
// The backward engine: runs a recorded graph (core/node.h) from its roots in
// dependency order. It sits above ops/: accumulating gradients, summing a broadcast
// gradient back to its input's shape and casting it to the input's dtype are ops, and
// under create_graph they are recorded like any other. Tensor::backward (core/tensor.h)
// is defined here.
#include <descent/core/node.h>
#include <descent/core/tensor.h>

#include <vector>

namespace descent::autograd {

// Runs the backward pass from `roots` with the given gradients.
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph, bool create_graph);

// Gradients of `outputs` with respect to `inputs` (returned, not accumulated into
// .grad()). create_graph records the computation for higher-order derivatives.
// allow_unused=false throws when an input is not reachable from the outputs.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

}  // namespace descent::autograd
