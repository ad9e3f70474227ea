#pragma once
// Gradient (activation) checkpointing: trade compute for memory. checkpoint(fn, inputs)
// runs fn without keeping its intermediate activations; the backward pass runs fn
// again from the saved inputs (with the default generator's state of the forward
// restored, so dropout masks match) and backpropagates through the recomputed graph.
//
//   Tensor h = autograd::checkpoint([&](const std::vector<Tensor>& in) {
//     return F::relu(block2(F::relu(block1(in[0]))));
//   }, {x});
//
// Parameters that fn uses (captured module weights) receive their gradients during
// the recomputation, as with torch.utils.checkpoint(use_reentrant=True): at least one
// input must require grad for the segment to be part of the graph, so a segment fed
// directly by data (no requires_grad) is an error when grad mode is on. Not
// supported: create_graph through a checkpointed segment.
#include <descent/core/tensor.h>

#include <functional>
#include <vector>

namespace descent::autograd {

using SegmentFn = std::function<Tensor(const std::vector<Tensor>&)>;

Tensor checkpoint(const SegmentFn& fn, const std::vector<Tensor>& inputs);

}  // namespace descent::autograd
