// The backward engine: dependency-counted topological execution of the graph.
// It is the only place that accumulates gradients, sums broadcast gradients back to
// an input's shape and casts them to the input's dtype, so ops never have to.
#include <descent/autograd/engine.h>
#include <descent/backends/backend.h>
#include <descent/core/function.h>
#include <descent/core/grad_mode.h>
#include <descent/core/node.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/reduce.h>

#include <unordered_map>

namespace descent::autograd {

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  auto impl = leaf_.lock();
  if (!impl) return {};
  Tensor leaf(impl);
  Tensor g = std::move(grads[0]);
  Tensor prev = leaf.grad();
  if (GradMode::is_enabled()) {  // create_graph: keep the gradient's own graph
    leaf.set_grad(prev.defined() ? add(prev, g) : g);
  } else if (!prev.defined()) {
    // Store a private copy unless nobody else holds this gradient tensor.
    leaf.set_grad(g.impl_ptr().use_count() == 1 && g.is_contiguous() ? g.detach() : g.clone());
  } else {
    leaf.set_grad(add(prev, g));
  }
  return {};
}

namespace {

// The node whose backward is running, so anomalies inside it name that op.
thread_local const Node* current_backward = nullptr;

struct CurrentBackward {
  const Node* prev;
  explicit CurrentBackward(const Node* n) : prev(current_backward) { current_backward = n; }
  ~CurrentBackward() { current_backward = prev; }
};

// Sums `g` over the dims where it was broadcast so that it gets `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int lead = g.dim() - shape.size();
  check(lead >= 0, "backward", "gradient of shape {} cannot be reduced to input shape {}",
        g.shape(), shape);
  Shape dims;
  for (int i = 0; i < g.dim(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(i);
  }
  Tensor r = dims.empty() ? g : g.sum(dims, /*keepdim=*/true);
  if (lead > 0 || r.shape() != shape) r = r.reshape(shape);
  return r;
}

struct GraphTask {
  bool retain_graph = false;
  bool create_graph = false;
  bool accumulate = true;  // false for autograd::grad: leaves' .grad() untouched
  std::unordered_map<Node*, int> deps;
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  // For autograd::grad: (node, slot) → index into `captured`.
  std::unordered_map<Node*, std::vector<std::pair<uint32_t, size_t>>> captures;
  std::vector<Tensor> captured;
};

void add_to_buffer(GraphTask& task, Node* node, uint32_t slot, Tensor g) {
  auto& buf = task.buffers[node];
  if (buf.size() < node->outputs.size()) buf.resize(node->outputs.size());
  Tensor& cur = buf[slot];
  cur = cur.defined() ? add(cur, g) : std::move(g);
}

void compute_dependencies(GraphTask& task, const std::vector<Node*>& roots) {
  std::vector<Node*> stack;
  for (Node* r : roots) {
    if (task.deps.emplace(r, 0).second) stack.push_back(r);
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      auto [it, inserted] = task.deps.emplace(e.node.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(e.node.get());
    }
  }
}

void execute(GraphTask& task, const std::vector<Edge>& root_edges,
             const std::vector<Tensor>& root_grads) {
  std::vector<Node*> roots;
  for (size_t i = 0; i < root_edges.size(); ++i) {
    roots.push_back(root_edges[i].node.get());
  }
  compute_dependencies(task, roots);
  for (size_t i = 0; i < root_edges.size(); ++i) {
    add_to_buffer(task, root_edges[i].node.get(), root_edges[i].input_nr, root_grads[i]);
  }
  std::vector<Node*> ready;
  for (Node* r : roots) {
    if (task.deps[r] == 0 && std::find(ready.begin(), ready.end(), r) == ready.end()) {
      ready.push_back(r);
    }
  }

  EnableGradGuard grad_mode(task.create_graph);
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    std::vector<Tensor> grads = std::move(task.buffers[node]);
    task.buffers.erase(node);
    grads.resize(node->outputs.size());
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined()) {
        const TensorMeta& m = node->outputs[i];
        grads[i] = zeros(m.shape, {.dtype = m.dtype, .device = m.device});
      }
    }
    for (auto& [slot, hook] : node->pre_hooks) {
      Tensor r = hook(grads[slot]);
      if (r.defined()) grads[slot] = r;
    }
    if (auto c = task.captures.find(node); c != task.captures.end()) {
      for (auto [slot, idx] : c->second) task.captured[idx] = grads[slot];
    }
    const bool is_leaf_acc = dynamic_cast<AccumulateGrad*>(node) != nullptr;
    if (is_leaf_acc && !task.accumulate) continue;

    check(!node->released, "backward",
          "trying to backward through the graph a second time: the saved tensors of '{}' were "
          "freed by the first backward; pass retain_graph=true to the first call",
          node->name());
    std::vector<Tensor> in_grads;
    {
      CurrentBackward scope(node);
      in_grads = node->apply(std::move(grads));
    }
    if (!task.retain_graph) node->released = node->release_saved();

    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      Node* next = e.node.get();
      if (i < in_grads.size() && in_grads[i].defined()) {
        Tensor g = std::move(in_grads[i]);
        const TensorMeta& m = node->inputs[i];
        if (anomaly_enabled()) check_anomaly(g, node->name(), AnomalyPhase::Backward);
        g = sum_to(g, m.shape);
        if (g.dtype() != m.dtype) g = g.to(m.dtype);
        add_to_buffer(task, next, e.input_nr, std::move(g));
      }
      if (--task.deps[next] == 0) ready.push_back(next);
    }
  }
}

std::vector<Edge> root_edges_of(const std::vector<Tensor>& roots, std::vector<Tensor>& grads) {
  check(grads.empty() || grads.size() == roots.size(), "backward",
        "got {} gradients for {} tensors", grads.size(), roots.size());
  grads.resize(roots.size());
  std::vector<Edge> edges;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    check(r.defined(), "backward", "tensor {} is undefined", i);
    Edge e = gradient_edge(r);
    check(e.valid(), "backward",
          "tensor does not require grad and has no grad_fn (shape {}); did you forget "
          "requires_grad_() or run the forward under NoGradGuard?",
          r.shape());
    if (!grads[i].defined()) {
      check(r.numel() == 1, "backward",
            "gradient can be implicitly created only for scalar outputs; got shape {}, pass a "
            "gradient of that shape",
            r.shape());
      grads[i] = ones(r.shape(), {.dtype = r.dtype(), .device = r.device()});
    } else {
      check(grads[i].shape() == r.shape(), "backward",
            "gradient has shape {} but the tensor has shape {}", grads[i].shape(), r.shape());
      if (grads[i].dtype() != r.dtype()) grads[i] = grads[i].to(r.dtype());
    }
    edges.push_back(std::move(e));
  }
  return edges;
}

}  // namespace

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph, bool create_graph) {
  std::vector<Tensor> grads = grad_roots;
  auto edges = root_edges_of(roots, grads);
  GraphTask task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  execute(task, edges, grads);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused) {
  std::vector<Tensor> grads = grad_outputs;
  auto edges = root_edges_of(outputs, grads);
  GraphTask task;
  task.retain_graph = retain_graph || create_graph;
  task.create_graph = create_graph;
  task.accumulate = false;
  task.captured.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    check(inputs[i].defined() && inputs[i].requires_grad(), "grad",
          "input {} does not require grad", i);
    Edge e = gradient_edge(inputs[i]);
    task.captures[e.node.get()].emplace_back(e.input_nr, i);
  }
  execute(task, edges, grads);
  for (size_t i = 0; i < inputs.size(); ++i) {
    check(allow_unused || task.captured[i].defined(), "grad",
          "input {} is not used in computing the outputs; pass allow_unused=true", i);
  }
  return task.captured;
}

void check_anomaly(const Tensor& t, std::string_view op, AnomalyPhase phase) {
  if (!t.defined() || !is_floating(t.dtype())) return;
  if (current_backward && phase == AnomalyPhase::Forward) {  // an op inside some node's backward
    check(backend_for(t).all_finite(t), current_backward->name(),
          "anomaly detected: backward produced NaN or Inf (in {}, shape {})", op, t.shape());
    return;
  }
  check(backend_for(t).all_finite(t), op, "anomaly detected: {} produced NaN or Inf (shape {})",
        phase == AnomalyPhase::Forward ? "forward" : "backward", t.shape());
}

}  // namespace descent::autograd

namespace descent {

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  check(defined(), "backward", "tensor is undefined");
  autograd::run_backward({*this}, {gradient}, retain_graph, create_graph);
}

}  // namespace descent
