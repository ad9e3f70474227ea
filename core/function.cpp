#include <descent/core/function.h>

namespace descent::autograd::detail {

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

void connect(Node& node, const std::shared_ptr<Node>& self, const std::vector<Tensor>& inputs,
             std::vector<Tensor*> outputs) {
  node.next_edges.reserve(inputs.size());
  node.inputs.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node.next_edges.push_back(gradient_edge(t));
    node.inputs.push_back(meta_of(t));
  }
  node.outputs.reserve(outputs.size());
  for (uint32_t i = 0; i < outputs.size(); ++i) {
    Tensor& out = *outputs[i];
    node.outputs.push_back(meta_of(out));
    if (!out.defined() || !is_floating(out.dtype())) continue;
    // If forward kept a handle to this output (saved it, or returned an input), give
    // the caller a fresh handle: a saved tensor must not own the node that saves it.
    if (out.impl_ptr().use_count() > 1)
      out = make_view(out, out.shape(), out.strides(), out.offset());
    out.impl()->grad_fn = self;
    out.impl()->output_nr = i;
    out.impl()->requires_grad = true;
  }
}

void check_outputs_finite(std::string_view op, const std::vector<Tensor*>& outputs) {
  for (Tensor* t : outputs) check_anomaly(*t, op, AnomalyPhase::Forward);
}

std::vector<Tensor> check_grad_count(std::string_view op, std::vector<Tensor>&& g, size_t want) {
  check(g.size() == want, op, "backward returned {} gradients for {} inputs", g.size(), want);
  return std::move(g);
}

}  // namespace descent::autograd::detail
