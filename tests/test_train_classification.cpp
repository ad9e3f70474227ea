// train::accuracy and train::confusion_matrix: counts against hand-worked examples,
// logits and class inputs, and the errors for bad shapes and out-of-range classes.
#include <descent/descent.h>
#include <gtest/gtest.h>

#include "testing/gradcheck.h"

using namespace descent;

TEST(Classification, AccuracyFromLogitsAndFromClasses) {
  const Tensor logits = from_vector<float>({2, 1, 0, 0, 3, 1, 1, 0, 5, 0, 9, 1}, {4, 3});
  const Tensor target = from_vector<int64_t>({0, 1, 1, 1});  // predictions: 0, 1, 2, 1
  EXPECT_DOUBLE_EQ(train::accuracy(logits, target), 0.75);
  EXPECT_DOUBLE_EQ(train::accuracy(from_vector<int32_t>({1, 1}), from_vector<int32_t>({1, 0})),
                   0.5);
  EXPECT_DOUBLE_EQ(train::accuracy(zeros({0, 3}), zeros({0}, {.dtype = DType::I64})), 0.0);
}

TEST(Classification, ConfusionMatrixRowsAreTrueClasses) {
  const Tensor pred = from_vector<int64_t>({0, 2, 2, 1, 0, 2});
  const Tensor target = from_vector<int64_t>({0, 2, 1, 1, 2, 2});
  const Tensor cm = train::confusion_matrix(pred, target, 3);
  EXPECT_EQ(cm.shape(), (Shape{3, 3}));
  EXPECT_EQ(cm.dtype(), DType::I64);
  EXPECT_EQ(cm.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0,  //
                                                           0, 1, 1,  //
                                                           1, 0, 2}));
  // Logits work too: argmax over classes.
  const Tensor logits = F::one_hot(pred, 3).to(DType::F32);
  EXPECT_EQ(train::confusion_matrix(logits, target, 3).to_vector<int64_t>(),
            cm.to_vector<int64_t>());
}

TEST(Classification, BadInputsAreErrors) {
  const Tensor t = from_vector<int64_t>({0, 1});
  EXPECT_THROW_MSG(train::accuracy(zeros({2, 3}), from_vector<int64_t>({0})),
                   "accuracy: 2 predictions for 1 targets");
  EXPECT_THROW_MSG(train::accuracy(zeros({2}), t), "scores of shape [2] and dtype f32");
  EXPECT_THROW_MSG(train::accuracy(zeros({2, 3}), zeros({2})), "target of shape [2] and dtype f32");
  EXPECT_THROW_MSG(train::confusion_matrix(from_vector<int64_t>({0, 3}), t, 3),
                   "confusion_matrix: classes range over [0, 3], expected [0, 3)");
  EXPECT_THROW_MSG(train::confusion_matrix(from_vector<int64_t>({0, -1}), t, 3),
                   "classes range over [-1, 1]");
  EXPECT_THROW_MSG(train::confusion_matrix(t, t, 0), "num_classes = 0");
}
