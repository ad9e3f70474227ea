#pragma once
// Classification metrics: accuracy and the confusion matrix, from logits or predicted
// classes and integer targets, on any device.
//
//   double acc = train::accuracy(model(x), y);                  // logits (N, C)
//   Tensor cm = train::confusion_matrix(argmax(logits, 1), y, 10);
//   // cm[t][p]: how many samples of true class t were predicted as p
#include <descent/core/tensor.h>

#include <cstdint>

namespace descent::train {

// The fraction of samples whose prediction equals the target. `scores` is either
// logits / probabilities (N, C), whose argmax over dim 1 is the prediction, or the
// predicted classes (N) as integers. `target` is (N) integers. 0 for N = 0.
double accuracy(const Tensor& scores, const Tensor& target);

// (num_classes, num_classes) i64 counts: row = true class, column = predicted class
// (scikit-learn's layout). prediction and target are (N) integers in [0, num_classes).
Tensor confusion_matrix(const Tensor& prediction, const Tensor& target, int64_t num_classes);

}  // namespace descent::train
