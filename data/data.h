#pragma once
// descent::data — data sets, loaders and training-loop helpers:
// #include <descent/data/data.h>
#include "data/dataset.h"
#include "data/idx.h"
#include "data/loader.h"
#include "data/metrics.h"
#include "data/progress.h"
#include "data/text.h"
