#pragma once
// Device math for the .cu files: the shared host/device scalar math of
// backends/element_math.h (m_exp, mul_rn, …), found from descent::cuda by the
// enclosing namespace.
#include <cuda_runtime.h>
#include <descent/backends/element_math.h>
