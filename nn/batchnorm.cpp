#include <descent/core/grad_mode.h>
#include <descent/nn/batchnorm.h>
#include <descent/ops/batchnorm.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>

namespace descent::nn {

BatchNormBase::BatchNormBase(int64_t num_features, BatchNormOptions options, int min_dim,
                             int max_dim, std::string_view name)
    : num_features_(num_features),
      options_(options),
      min_dim_(min_dim),
      max_dim_(max_dim),
      name_(name) {
  check(num_features > 0, name, "got num_features={}, expected at least 1", num_features);
  check(!options.momentum || (*options.momentum >= 0 && *options.momentum <= 1), name,
        "got momentum={}, expected a value in [0, 1] (or none for a cumulative average)",
        options.momentum.value_or(0));
  check(options.eps >= 0, name, "got eps={}, expected eps >= 0", options.eps);
  const int64_t C = num_features;
  weight_ = register_parameter("weight", options.affine ? empty({C}) : Tensor());
  bias_ = register_parameter("bias", options.affine ? empty({C}) : Tensor());
  const bool track = options.track_running_stats;
  running_mean_ = register_buffer("running_mean", track ? empty({C}) : Tensor());
  running_var_ = register_buffer("running_var", track ? empty({C}) : Tensor());
  num_batches_tracked_ =
      register_buffer("num_batches_tracked", track ? zeros({}, {.dtype = DType::I64}) : Tensor());
  reset_parameters();
}

void BatchNormBase::reset_running_stats() {
  if (!options_.track_running_stats) return;
  NoGradGuard no_grad;
  running_mean_.zero_();
  running_var_.fill_(1.0);
  num_batches_tracked_.zero_();
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  if (!options_.affine) return;
  NoGradGuard no_grad;
  weight_.fill_(1.0);
  bias_.zero_();
}

Tensor BatchNormBase::forward(const Tensor& input) {
  check(input.defined(), name_, "got an undefined input");
  check(input.dim() >= min_dim_ && input.dim() <= max_dim_, name_,
        "got input of shape {}, expected {}", input.shape(),
        min_dim_ == max_dim_ ? "(N, C, H, W)" : "(N, C) or (N, C, L)");
  check(input.size(1) == num_features_, name_,
        "got input of shape {} with {} channels, expected num_features={}", input.shape(),
        input.size(1), num_features_);
  const bool track = options_.track_running_stats;
  double factor = options_.momentum.value_or(0.0);
  if (is_training() && track) {
    if (options_.momentum) {
      // In place on the buffer's device: no read back, so no GPU stall per step.
      NoGradGuard no_grad;
      add_(num_batches_tracked_,
           ones({}, {.dtype = DType::I64, .device = num_batches_tracked_.device()}));
    } else {
      // The cumulative average needs the count on the host.
      const int64_t n = num_batches_tracked_.item<int64_t>() + 1;
      num_batches_tracked_.fill_(double(n));
      factor = 1.0 / double(n);
    }
  }
  // Eval without running statistics normalises with the batch's own.
  const bool use_batch_stats = is_training() || !track;
  return F::batch_norm(input, running_mean_, running_var_, weight_, bias_, use_batch_stats, factor,
                       options_.eps);
}

std::string BatchNormBase::extra_repr() const {
  const std::string momentum =
      options_.momentum ? fmt::format("{}", *options_.momentum) : std::string("None");
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features_,
                     options_.eps, momentum, options_.affine, options_.track_running_stats);
}

}  // namespace descent::nn
