#pragma once
// descent::train — training-loop helpers: whole-state checkpoints, early stopping, the
// LR range test, the metrics CSV and the progress bar, classification metrics, and the
// instruments that look inside training: curvature (Hessian eigenvalues, trace,
// density) and loss landscapes.
#include <descent/train/checkpoint.h>
#include <descent/train/classification.h>
#include <descent/train/curvature.h>
#include <descent/train/early_stopping.h>
#include <descent/train/landscape.h>
#include <descent/train/lr_range_test.h>
#include <descent/train/metrics.h>
#include <descent/train/monitor.h>
#include <descent/train/param_vector.h>
#include <descent/train/progress.h>
