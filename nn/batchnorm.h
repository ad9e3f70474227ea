#pragma once
// nn::BatchNorm1d / nn::BatchNorm2d — F::batch_norm with PyTorch's module semantics.
// BatchNorm1d takes (N, C) or (N, C, L), BatchNorm2d (N, C, H, W), C = num_features.
// Parameters "weight" (C, ones) and "bias" (C, zeros), absent with affine = false.
// Buffers "running_mean" (C, zeros), "running_var" (C, ones) and "num_batches_tracked"
// (i64 scalar), absent with track_running_stats = false — the names of torch.nn, so
// state dicts match PyTorch's key for key.
// Training normalises with batch statistics and, when tracking, updates the running
// ones (unbiased variance; momentum = nullopt gives the cumulative average
// 1/num_batches_tracked, as PyTorch's momentum=None). Eval uses the running statistics
// (batch statistics when not tracking). Throws descent::Error for num_features < 1,
// momentum outside [0, 1], eps < 0, and an input of the wrong rank or channel count.
#include <descent/nn/module.h>

#include <optional>

namespace descent::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
};

// The shared implementation; BatchNorm1d and BatchNorm2d fix the accepted ranks.
class BatchNormBase : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  // running_mean ← 0, running_var ← 1, num_batches_tracked ← 0.
  void reset_running_stats();
  // reset_running_stats(), weight ← 1, bias ← 0.
  void reset_parameters();

  int64_t num_features() const { return num_features_; }
  const BatchNormOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // undefined without affine
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }  // undefined when not tracking
  const Tensor& running_var() const { return running_var_; }
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 protected:
  BatchNormBase(int64_t num_features, BatchNormOptions options, int min_dim, int max_dim,
                std::string_view name);

 private:
  int64_t num_features_;
  BatchNormOptions options_;
  int min_dim_, max_dim_;
  std::string_view name_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {})
      : BatchNormBase(num_features, options, 2, 3, "BatchNorm1d") {}
};

class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {})
      : BatchNormBase(num_features, options, 4, 4, "BatchNorm2d") {}
};

}  // namespace descent::nn
