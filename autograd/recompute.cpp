#include <descent/autograd/engine.h>
#include <descent/autograd/recompute.h>
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/core/node.h>
#include <descent/core/random.h>

namespace descent::autograd {

namespace {

struct Checkpoint {
  static constexpr std::string_view name = "checkpoint";
  SegmentFn fn;
  std::vector<Tensor> inputs;  // detached: the segment's activations are not kept
  GeneratorState rng;

  std::vector<bool> requires_grad;  // per input: gets a fresh leaf in backward

  Tensor forward(const std::vector<Tensor>& in, const SegmentFn& f, std::vector<bool> rg) {
    fn = f;
    requires_grad = std::move(rg);
    rng = default_generator().state();
    for (const Tensor& t : in) inputs.push_back(t.defined() ? t.detach() : t);
    return fn(in);  // runs under NoGradGuard (apply's forward): no graph is recorded
  }

  std::vector<Tensor> backward(const Tensor& g) {
    check(!GradMode::is_enabled(), name,
          "create_graph is not supported through a checkpointed segment");
    // Fresh leaves for the inputs that need gradients; the rest enter as they are.
    std::vector<Tensor> leaves;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      leaves.push_back(t.defined() && requires_grad[i] ? t.detach().requires_grad_() : t);
    }
    // Replay the forward's random numbers, then give the caller back its own stream.
    const GeneratorState now = default_generator().state();
    default_generator().set_state(rng);
    Tensor out;
    {
      EnableGradGuard grad_on;
      out = fn(leaves);
    }
    default_generator().set_state(now);
    std::vector<Tensor> grads(inputs.size());
    if (out.requires_grad()) {
      // Accumulates into the parameters fn captured, and into the fresh input leaves.
      run_backward({out}, {g}, /*retain_graph=*/false, /*create_graph=*/false);
      for (size_t i = 0; i < leaves.size(); ++i) {
        if (requires_grad[i]) grads[i] = leaves[i].grad();
      }
    }
    return grads;
  }
};

}  // namespace

Tensor checkpoint(const SegmentFn& fn, const std::vector<Tensor>& inputs) {
  check(bool(fn), "checkpoint", "the segment function is empty");
  if (!GradMode::is_enabled()) return fn(inputs);
  bool any = false;
  for (const Tensor& t : inputs) any |= t.defined() && t.requires_grad();
  check(any, "checkpoint",
        "none of the {} inputs requires grad, so the parameters inside the segment would get "
        "no gradient; make an input require grad or do not checkpoint this segment",
        inputs.size());
  std::vector<bool> flags;
  for (const Tensor& t : inputs) flags.push_back(t.defined() && t.requires_grad());
  return autograd::apply<Checkpoint>(inputs, fn, std::move(flags));
}

}  // namespace descent::autograd
