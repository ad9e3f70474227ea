// accuracy and confusion_matrix (classification.h), with the tensor ops of the device
// the inputs live on; one host read each.
#include <descent/ops/dispatch.h>
#include <descent/ops/elementwise.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>
#include <descent/ops/reduce.h>
#include <descent/train/classification.h>

namespace descent::train {

namespace {

// The predicted classes: argmax over classes for (N, C) scores, the values for (N).
Tensor predicted(const Tensor& scores, std::string_view op) {
  ops::check_defined(scores, op, "scores");
  if (scores.dim() == 2) return argmax(scores, 1);
  check(scores.dim() == 1 && !is_floating(scores.dtype()), op,
        "scores of shape {} and dtype {}, expected (N, C) scores or (N) integer classes",
        scores.shape(), scores.dtype());
  return scores.to(DType::I64);
}

void check_target(const Tensor& target, int64_t n, std::string_view op) {
  ops::check_defined(target, op, "target");
  check(target.dim() == 1 && !is_floating(target.dtype()) && target.dtype() != DType::Bool, op,
        "target of shape {} and dtype {}, expected (N) integer classes", target.shape(),
        target.dtype());
  check(target.shape()[0] == n, op, "{} predictions for {} targets", n, target.shape()[0]);
}

}  // namespace

double accuracy(const Tensor& scores, const Tensor& target) {
  const Tensor pred = predicted(scores, "accuracy");
  check_target(target, pred.numel(), "accuracy");
  ops::check_same_device(pred, target, "accuracy");
  if (pred.numel() == 0) return 0.0;
  return sum(pred == target.to(DType::I64)).item<double>() / double(pred.numel());
}

Tensor confusion_matrix(const Tensor& prediction, const Tensor& target, int64_t num_classes) {
  constexpr std::string_view op = "confusion_matrix";
  check(num_classes > 0, op, "num_classes = {}, expected > 0", num_classes);
  const Tensor pred = predicted(prediction, op);
  check(pred.dim() == 1, op, "prediction of shape {}, expected (N) classes", prediction.shape());
  check_target(target, pred.numel(), op);
  ops::check_same_device(pred, target, op);
  const Tensor t = target.to(DType::I64);
  if (pred.numel() > 0) {
    // One read of both ranges: a class outside [0, num_classes) is an error, not a
    // count in the wrong cell.
    const double lo = std::min(amin(pred, 0).item(), amin(t, 0).item());
    const double hi = std::max(amax(pred, 0).item(), amax(t, 0).item());
    check(lo >= 0 && hi < double(num_classes), op, "classes range over [{}, {}], expected [0, {})",
          lo, hi, num_classes);
  }
  const Tensor flat = t * num_classes + pred;
  const Tensor ones_n = ones({pred.numel()}, {.dtype = DType::I64, .device = pred.device()});
  const Tensor zeros_cc =
      zeros({num_classes * num_classes}, {.dtype = DType::I64, .device = pred.device()});
  return scatter_add(zeros_cc, 0, flat, ones_n).reshape({num_classes, num_classes});
}

}  // namespace descent::train
