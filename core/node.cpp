#include <descent/core/function.h>
#include <descent/core/node.h>

namespace descent::autograd {

Node::~Node() {
  // Destroying a child from here would run its destructor inside this one, and so on down
  // the chain. Instead, every child this node is the last owner of moves to a local
  // stack; its saved tensors are freed first (they may hold the grandchildren through
  // their grad_fn), so the grandchildren it solely owns move too before it dies, and
  // each destructor returns at once.
  std::vector<std::shared_ptr<Node>> orphans;
  const auto adopt = [&orphans](Node& n) {
    for (Edge& e : n.next_edges) {
      if (e.node && e.node.use_count() == 1) orphans.push_back(std::move(e.node));
    }
  };
  adopt(*this);
  while (!orphans.empty()) {
    std::shared_ptr<Node> n = std::move(orphans.back());
    orphans.pop_back();
    n->release_saved();
    n->pre_hooks.clear();
    adopt(*n);
  }
}

void check_saved_versions(std::string_view op, const Node& node) {
  for (const Node::SavedVersion& s : node.saved_versions) {
    const std::shared_ptr<Storage> storage = s.storage.lock();
    if (!storage || storage->version() == s.version) continue;
    fail(op, fmt::format("{} {} saved for backward was modified by an in-place operation "
                         "after the forward (its version is {}, backward expected {}); clone "
                         "it before modifying it, or run backward first",
                         s.is_output ? "output" : "input", s.index, storage->version(), s.version));
  }
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  if (!impl->requires_grad) return {};
  if (!impl->grad_accumulator) {
    auto acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    acc->outputs.push_back(detail::meta_of(t));
    impl->grad_accumulator = acc;
  }
  return {impl->grad_accumulator, 0};
}

}  // namespace descent::autograd
