#pragma once
// Automatic mixed precision: inside an amp::Autocast scope, the GEMM-bound ops
// (matmul, linear, LSTM) compute in a 16-bit dtype from f32 inputs, while softmax,
// log_softmax and the losses upcast 16-bit inputs to f32. Weights stay f32 ("master
// weights"): gradients flowing back into them are cast to f32 by the engine.
//
//   { amp::Autocast cast(DType::BF16); loss = F::cross_entropy(model(x), y); }
//
// The state is per thread, like NoGradGuard. f64 is never lowered, so gradchecks are
// unaffected.
#include <descent/core/dtype.h>

namespace descent {
class Tensor;
}

namespace descent::amp {

bool autocast_enabled();
// The 16-bit dtype of the innermost enabled scope (BF16 when none).
DType autocast_dtype();

class Autocast {
 public:
  // dtype must be BF16 or F16; enabled=false makes a scope that turns autocast off.
  explicit Autocast(DType dtype = DType::BF16, bool enabled = true);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool prev_enabled_;
  DType prev_dtype_;
};

// The dtype a lower-precision op computes in for operands of (promoted) dtype `dt`:
// the autocast dtype when autocast is on and dt is f32/f16/bf16, else dt.
DType lower_precision(DType dt);
// For ops that stay in f32: x converted to f32 when autocast is on and x is 16-bit.
Tensor to_fp32(const Tensor& x);

}  // namespace descent::amp
