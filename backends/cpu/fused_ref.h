#pragma once
// Plain-loop reference kernels for the fused ops oneDNN cannot run (f64): the same
// contracts as the Backend slots they serve (backends/backend.h). They exist so that
// finite-difference gradchecks in f64 exercise the op API, and as the yardstick the
// oneDNN f32 kernels are tested against. Internal to backends/cpu.
#include <descent/backends/backend.h>

namespace descent::cpu {

// Batch norm in per-channel loops (batchnorm_loops.cpp): f64, and f32 with trailing
// dims (images), where oneDNN's plain-layout kernel is slow.
void batch_norm_loops(const BatchNormArgs& args);
void batch_norm_backward_loops(const BatchNormBackwardArgs& args);

void conv2d_ref(const Conv2dArgs& args);
void conv2d_backward_ref(const Conv2dBackwardArgs& args);

void layer_norm_ref(const LayerNormArgs& args);
void layer_norm_backward_ref(const LayerNormBackwardArgs& args);

void lstm_ref(LstmArgs& args);
void lstm_backward_ref(const LstmBackwardArgs& args);

}  // namespace descent::cpu
