#pragma once
// The consumer's own header, named like one of descent's (see core/tensor.h).
namespace consumer {
inline int own_sgd_header() { return 2; }
}  // namespace consumer
