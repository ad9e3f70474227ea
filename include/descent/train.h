#pragma once
// descent::train — training-loop helpers: whole-state checkpoints, early stopping, the
// LR range test, the metrics CSV and the progress bar.
#include <descent/train/checkpoint.h>
#include <descent/train/early_stopping.h>
#include <descent/train/lr_range_test.h>
#include <descent/train/metrics.h>
#include <descent/train/progress.h>
#include <descent/train/classification.h>
#include <descent/train/curvature.h>
