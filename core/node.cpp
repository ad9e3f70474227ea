#include <descent/core/function.h>
#include <descent/core/node.h>

namespace descent::autograd {

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
