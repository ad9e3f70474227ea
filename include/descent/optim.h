#pragma once
// descent::optim — every optimizer, the LR schedulers and gradient clipping. Each
// optimizer keeps a full copy of its options per parameter group and updates parameters
// through the fused update rules of backends/optim_rules.h.
#include <descent/optim/adadelta.h>
#include <descent/optim/adagrad.h>
#include <descent/optim/adam.h>
#include <descent/optim/adamax.h>
#include <descent/optim/clip.h>
#include <descent/optim/gd.h>
#include <descent/optim/lion.h>
#include <descent/optim/nadam.h>
#include <descent/optim/optimizer.h>
#include <descent/optim/radam.h>
#include <descent/optim/rmsprop.h>
#include <descent/optim/schedulers/cosine_lr.h>
#include <descent/optim/schedulers/cyclic_lr.h>
#include <descent/optim/schedulers/lambda_lr.h>
#include <descent/optim/schedulers/linear_lr.h>
#include <descent/optim/schedulers/one_cycle_lr.h>
#include <descent/optim/schedulers/plateau.h>
#include <descent/optim/schedulers/scheduler.h>
#include <descent/optim/schedulers/sequential_lr.h>
#include <descent/optim/schedulers/step_lr.h>
#include <descent/optim/sgd.h>
