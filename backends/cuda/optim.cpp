// The fused optimizer updates on CUDA (backend.h, "fused optimizer updates"). The slot
// validates all its updates first (check_update, as the CPU backend), then hands them to
// optim_kernels.cu in chunks of up to kOptimMaxTensors tensors of one dtype: one launch
// per chunk, whatever the rule (backends/optim_rules.h).
#include <descent/backends/cuda/cuda_backend.h>
#include <descent/backends/cuda/cuda_check.h>
#include <descent/backends/cuda/optim_kernels.h>
#include <descent/backends/slot_helpers.h>

#include <climits>
#include <memory>

namespace descent::cuda {

namespace {

// Fills a chunk and launches it when it is full.
template <class Rule>
class Chunker {
 public:
  Chunker(DType dt, Launch l) : dt_(KDType(dt)), launch_(l) {}

  void add(const Update<Rule>& u) {
    const int64_t numel = u.param.numel();
    if (numel == 0) return;
    const int64_t blocks = (numel + kOptimSlice - 1) / kOptimSlice;
    check(blocks <= INT_MAX, Rule::kOp, "a tensor of {} elements is too large", numel);
    // A parameter listed twice is updated twice, in order: the second update goes to the
    // next launch (the stream orders them) rather than racing with the first.
    bool repeated = false;
    for (int t = 0; t < chunk_->count; ++t)
      repeated = repeated || chunk_->param[t] == u.param.raw_data();
    if (chunk_->count == kOptimMaxTensors || repeated ||
        chunk_->block_start[chunk_->count] > INT_MAX - blocks) {
      flush();
    }
    const int t = chunk_->count++;
    chunk_->param[t] = u.param.raw_data();
    chunk_->grad[t] = u.grad.raw_data();
    for (int k = 0; k < Rule::kSlots; ++k) {
      chunk_->slot[t][k] = u.rule.uses_slot(k) ? u.slots[k].raw_data() : nullptr;
    }
    chunk_->numel[t] = numel;
    chunk_->rule[t] = u.rule;
    chunk_->block_start[t + 1] = chunk_->block_start[t] + int32_t(blocks);
  }

  void flush() {
    if (chunk_->count == 0) return;
    CUDA_CHECK(launch_optim(dt_, *chunk_, launch_));
    *chunk_ = OptimChunk<Rule>{};
  }

 private:
  std::unique_ptr<OptimChunk<Rule>> chunk_ = std::make_unique<OptimChunk<Rule>>();
  KDType dt_;
  Launch launch_;
};

template <class Rule>
void run_updates(CudaBackend& be, std::span<const Update<Rule>> updates) {
  if (updates.empty()) return;
  for (const Update<Rule>& u : updates) check_update(u, be.device());
  be.activate();
  for (DType dt : {DType::F32, DType::F64}) {
    Chunker<Rule> chunker(dt, Launch{be.stream(), be.error_flag()});
    for (const Update<Rule>& u : updates) {
      if (u.param.dtype() == dt) chunker.add(u);
    }
    chunker.flush();
  }
}

}  // namespace

void CudaBackend::optimizer_step(UpdateSpan updates) {
  std::visit([this](auto span) { run_updates(*this, span); }, updates);
}

}  // namespace descent::cuda
