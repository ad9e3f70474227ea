#pragma once
// descent::nn — modules, containers, init and the layers.
#include <descent/nn/activation.h>
#include <descent/nn/batchnorm.h>
#include <descent/nn/container.h>
#include <descent/nn/conv.h>
#include <descent/nn/dropout.h>
#include <descent/nn/embedding.h>
#include <descent/nn/flatten.h>
#include <descent/nn/init.h>
#include <descent/nn/layernorm.h>
#include <descent/nn/linear.h>
#include <descent/nn/lstm.h>
#include <descent/nn/module.h>
#include <descent/nn/pool.h>
#include <descent/nn/summary.h>
#include <descent/nn/utils/weight_norm.h>
