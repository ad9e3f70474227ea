#pragma once
// Everything a training program needs: #include <descent/descent.h>
// Finer headers cut compile time: <descent/tensor.h> (tensors, autograd and every op),
// <descent/nn.h>, <descent/optim.h>, <descent/amp.h>, <descent/data.h>, <descent/train.h>.
// Backend internals (descent/backends/) are not part of it.
#include <descent/amp.h>
#include <descent/data.h>
#include <descent/nn.h>
#include <descent/optim.h>
#include <descent/tensor.h>
#include <descent/train.h>
