#pragma once
// descent::amp — automatic mixed precision: the Autocast scope and the GradScaler.
#include <descent/amp/grad_scaler.h>
#include <descent/core/autocast.h>
