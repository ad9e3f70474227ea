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

UseCounts use_counts(const std::vector<Tensor>& inputs) {
  UseCounts c;
  c.impl.reserve(inputs.size());
  c.storage.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    c.impl.push_back(t.defined() ? t.impl_ptr().use_count() : 0);
    c.storage.push_back(t.defined() ? t.storage().use_count() : 0);
  }
  return c;
}

void remember_saved(Node& node, const std::vector<Tensor>& inputs, const UseCounts& before,
                    const std::vector<Tensor*>& outputs) {
  for (uint32_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) continue;
    // Each output that views this input's storage holds one more reference to it.
    long output_views = 0;
    for (const Tensor* o : outputs) output_views += o->defined() && o->storage() == t.storage();
    const bool kept_handle = t.impl_ptr().use_count() > before.impl[i];
    const bool kept_view = t.storage().use_count() - output_views > before.storage[i];
    if (kept_handle || kept_view) {
      node.saved_versions.push_back({t.storage(), t.storage()->version(), false, i});
    }
  }
  for (uint32_t i = 0; i < outputs.size(); ++i) {
    const Tensor& o = *outputs[i];
    if (o.defined() && o.impl_ptr().use_count() > 1) {
      node.saved_versions.push_back({o.storage(), o.storage()->version(), true, i});
    }
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
