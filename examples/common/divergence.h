#pragma once
// What the examples do when training diverges: stop at once with a message that says
// where and what to try, and a non-zero exit code (the caller's catch prints it),
// instead of finishing with "test_loss=nan" and exit 0.
#include <descent/core/error.h>

#include <cmath>
#include <cstdint>

namespace examples {

inline void check_finite_loss(double loss, int64_t epoch, int64_t step) {
  descent::check(std::isfinite(loss), "train",
                 "the loss became {} at epoch {}, step {}: training diverged (lower "
                 "--lr, set --clip, or run with --detect-anomaly to find the first op that "
                 "produced a non-finite value)",
                 loss, epoch, step);
}

}  // namespace examples
