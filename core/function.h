#pragma once
// autograd::Function<T> — how every differentiable op is written, the library's own
// and a user's alike. T is a plain struct:
//
//   struct Swish : autograd::Function<Swish> {
//     static constexpr std::string_view name = "swish";
//     Tensor x, beta;                                  // typed saved state
//     Tensor forward(const Tensor& x_, const Tensor& beta_) {
//       x = x_; beta = beta_;
//       return x_ * sigmoid(beta_ * x_);
//     }
//     std::vector<Tensor> backward(const Tensor& grad) {  // one gradient per tensor input
//       ...
//     }
//   };
//   Tensor y = Swish::apply(x, beta);    // or autograd::apply<Swish>(x, beta)
//
// forward runs without recording a graph; it may take non-tensor arguments too. Its
// tensor arguments (Tensor, or std::vector<Tensor>, in order) are the op's inputs.
// backward gets the gradient of each output (a Tensor for a single output, a
// std::vector<Tensor> for several) and returns one gradient per input; an undefined
// Tensor means zero. A returned gradient may have any shape that broadcasts to its
// input: the engine sums it back. If backward is written with differentiable ops,
// higher-order gradients work for free (a saved *output* counts as a constant there).
#include <descent/core/grad_mode.h>
#include <descent/core/node.h>

#include <optional>
#include <tuple>
#include <type_traits>

namespace descent::autograd {

namespace detail {

inline void collect_inputs(std::vector<Tensor>&) {}

template <class A, class... Rest>
void collect_inputs(std::vector<Tensor>& out, const A& a, const Rest&... rest) {
  using D = std::decay_t<A>;
  if constexpr (std::is_same_v<D, Tensor>) {
    out.push_back(a);
  } else if constexpr (std::is_same_v<D, std::vector<Tensor>>) {
    out.insert(out.end(), a.begin(), a.end());
  }
  collect_inputs(out, rest...);
}

inline TensorMeta meta_of(const Tensor& t) {
  if (!t.defined()) return {};
  return {t.shape(), t.dtype(), t.device()};
}

bool any_requires_grad(const std::vector<Tensor>& inputs);
// Wires `node` to its inputs and attaches it as grad_fn of the floating outputs.
void connect(Node& node, const std::shared_ptr<Node>& self, const std::vector<Tensor>& inputs,
             std::vector<Tensor*> outputs);
void check_outputs_finite(std::string_view op, const std::vector<Tensor*>& outputs);

// How many handles share each input's TensorImpl and Storage, taken before forward: what
// forward kept beyond them it saved for backward.
struct UseCounts {
  std::vector<long> impl, storage;
};
UseCounts use_counts(const std::vector<Tensor>& inputs);
// Records in node.saved_versions, with their storages' versions, every input forward
// kept (its handle, or a view of its storage) and every output it kept.
void remember_saved(Node& node, const std::vector<Tensor>& inputs, const UseCounts& before,
                    const std::vector<Tensor*>& outputs);
std::vector<Tensor> check_grad_count(std::string_view op, std::vector<Tensor>&& g, size_t want);

}  // namespace detail

// T::name may be a static data member or a static function (local classes can only
// have the latter).
template <class T>
constexpr std::string_view op_name() {
  if constexpr (requires { T::name(); }) {
    return T::name();
  } else {
    return T::name;
  }
}

template <class T>
class FunctionNode final : public Node {
 public:
  std::optional<T> fn;

  std::string_view name() const override { return op_name<T>(); }

  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override {
    check_saved_versions(op_name<T>(), *this);
    std::vector<Tensor> out;
    if constexpr (requires(T & t, const Tensor& g) { t.backward(g); }) {
      out = to_vector(fn->backward(grads[0]));
    } else {
      out = to_vector(fn->backward(grads));
    }
    return detail::check_grad_count(op_name<T>(), std::move(out), inputs.size());
  }

  bool release_saved() override {
    fn.reset();
    return true;
  }

 private:
  static std::vector<Tensor> to_vector(Tensor t) { return {std::move(t)}; }
  static std::vector<Tensor> to_vector(std::vector<Tensor> v) { return v; }
};

// Runs T's forward on args and, when gradients are needed, records its backward.
// Returns what forward returns (Tensor or std::vector<Tensor>).
template <class T, class... Args>
auto apply(Args&&... args) {
  std::vector<Tensor> inputs;
  inputs.reserve(sizeof...(Args));
  detail::collect_inputs(inputs, args...);
  const bool record = GradMode::is_enabled() && detail::any_requires_grad(inputs);

  std::shared_ptr<FunctionNode<T>> node;
  std::optional<T> local;
  detail::UseCounts before;
  T* fn;
  if (record) {
    before = detail::use_counts(inputs);
    node = std::make_shared<FunctionNode<T>>();
    fn = &node->fn.emplace();
  } else {
    fn = &local.emplace();
  }

  using Out = decltype(fn->forward(std::forward<Args>(args)...));
  Out out;
  {
    NoGradGuard no_grad;
    out = fn->forward(std::forward<Args>(args)...);
  }
  std::vector<Tensor*> outs;
  if constexpr (std::is_same_v<Out, Tensor>) {
    outs.push_back(&out);
  } else {
    for (auto& o : out) outs.push_back(&o);
  }
  if (anomaly_enabled()) detail::check_outputs_finite(op_name<T>(), outs);
  if (record) {
    detail::remember_saved(*node, inputs, before, outs);
    detail::connect(*node, node, inputs, std::move(outs));
  }
  return out;
}

// CRTP convenience: `struct MyOp : autograd::Function<MyOp>` gets MyOp::apply(...).
template <class T>
struct Function {
  template <class... Args>
  static auto apply(Args&&... args) {
    return autograd::apply<T>(std::forward<Args>(args)...);
  }
};

}  // namespace descent::autograd
