#pragma once
// Plain-loop reference kernels for the fused ops oneDNN cannot run (f64): the same
// contracts as the Backend slots they serve (backends/backend.h). They exist so that
// finite-difference gradchecks in f64 exercise the op API, and as the yardstick the
// oneDNN f32 kernels are tested against. Internal to backends/cpu.
#include <descent/backends/backend.h>

namespace descent::cpu {

void batch_norm_ref(const BatchNormArgs& args);
void batch_norm_backward_ref(const BatchNormBackwardArgs& args);

void lstm_ref(LstmArgs& args);
void lstm_backward_ref(const LstmBackwardArgs& args);

}  // namespace descent::cpu
