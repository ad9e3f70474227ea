#pragma once
// A model summary: every module of the tree with its own parameters' shapes and count,
// then the totals, as torchinfo's table.
//
//   fmt::print("{}", nn::summary(model).str());
//   Module (type)    Parameters                     Count
//   (Sequential)     -                              0
//   0 (Linear)       weight [512, 784], bias [512]  401,920
//   1 (BatchNorm1d)  weight [512], bias [512]       1,024
//   2 (ReLU)         -                              0
//   3 (Linear)       weight [10, 512], bias [10]    5,130
//   Total: 408,074 parameters, 408,074 trainable, 1.6 MB
#include <descent/nn/module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace descent::nn {

// One row of the summary: a module and the parameters registered on it directly.
struct SummaryRow {
  std::string name;  // dotted path ("" for the root)
  std::string type;  // type_name()
  std::vector<NamedTensor> parameters;
  int64_t count = 0;  // elements of those parameters
};

struct Summary {
  std::vector<SummaryRow> rows;  // the root first, then depth first
  int64_t total = 0, trainable = 0;
  int64_t bytes = 0;  // of the parameters and buffers
  // The table, one line per module, and the totals.
  std::string str() const;
};

Summary summary(const Module& model);

}  // namespace descent::nn
