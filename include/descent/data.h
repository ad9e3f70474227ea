#pragma once
// descent::data — data sets and loaders.
#include <descent/data/dataset.h>
#include <descent/data/idx.h>
#include <descent/data/loader.h>
#include <descent/data/text.h>
#include <descent/data/transforms.h>
