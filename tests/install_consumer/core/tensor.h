#pragma once
// The consumer's own header, named like one of descent's: descent's headers must never
// pick it up (they include <descent/core/tensor.h>), and this project's own
// #include "core/tensor.h" must find this file, not the library's.
namespace consumer {
inline int own_tensor_header() { return 1; }
}  // namespace consumer
