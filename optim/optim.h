#pragma once
// Every optimizer: #include "optim/optim.h" (descent::optim). Each keeps typed options
// per parameter group (optim/param_groups.h) and updates parameters through the
// backend's fused update kernels (backends/backend.h, "fused optimizer updates").
#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/adamax.h"
#include "optim/gd.h"
#include "optim/lion.h"
#include "optim/nadam.h"
#include "optim/optimizer.h"
#include "optim/param_groups.h"
#include "optim/radam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
