#pragma once
// The autograd graph. A Node is the backward of one op application: it gets one
// gradient per op output and returns one per op input. Edges point from a node to the
// nodes of its inputs. Only the engine accumulates gradients, reduces a broadcast
// gradient back to its input's shape and casts it to the input's dtype.
#include <descent/core/tensor.h>

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace descent::autograd {

class Node;

struct Edge {
  std::shared_ptr<Node> node;  // null when the input needs no gradient
  uint32_t input_nr = 0;       // which input slot of `node` the gradient feeds
  bool valid() const { return node != nullptr; }
};

// What the engine needs to know about a tensor a gradient is for.
struct TensorMeta {
  Shape shape;
  DType dtype = DType::F32;
  Device device;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  // Releases the nodes only this one keeps alive without recursing, so a graph of any
  // depth (a long recurrence, `total = total + loss` over many steps) is freed with a
  // bounded stack.
  virtual ~Node();
  virtual std::string_view name() const = 0;

  // grads: one per output, never undefined (the engine fills zeros). Returns one
  // gradient per input (undefined = zero) in any shape that broadcasts to the input.
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  // Frees what forward saved for backward. Returns false when nothing was saved.
  virtual bool release_saved() { return false; }

  std::vector<Edge> next_edges;                          // one per input
  std::vector<TensorMeta> inputs;                        // one per input
  std::vector<TensorMeta> outputs;                       // one per output
  std::vector<std::pair<uint32_t, GradHook>> pre_hooks;  // (output_nr, hook)
  // The storages of the inputs and outputs forward saved, with their versions then.
  struct SavedVersion {
    std::weak_ptr<Storage> storage;
    uint64_t version = 0;
    bool is_output = false;
    uint32_t index = 0;  // which input or output
  };
  std::vector<SavedVersion> saved_versions;
  bool released = false;  // saved state was freed by a backward
};

// Throws naming `op`, the tensor and both versions when a saved tensor was modified in
// place since forward (PyTorch's "modified by an inplace operation" error).
void check_saved_versions(std::string_view op, const Node& node);

// The gradient edge of a tensor: its grad_fn, or its leaf accumulator, or none.
Edge gradient_edge(const Tensor& t);

// Accumulates into a leaf's .grad().
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::string_view name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// Which pass produced the tensor check_anomaly inspects: a forward op's output (which
// may run inside some node's backward) or a gradient the engine passes along.
enum class AnomalyPhase : uint8_t { Forward, Backward };

// Throws naming `op` when anomaly mode is on and `t` holds a NaN or Inf. Defined with
// the engine (autograd/engine.cpp), which knows the node whose backward is running.
void check_anomaly(const Tensor& t, std::string_view op, AnomalyPhase phase);

}  // namespace descent::autograd
