// Built against the installed package only. Its own core/tensor.h and optim/sgd.h share
// their names with descent's headers; both must resolve to the right file.
#include <descent/descent.h>

#include <cstdio>

#include "core/tensor.h"
#include "optim/sgd.h"

int main() {
  using namespace descent;
  Tensor w = ones({3}, {.requires_grad = true});
  Tensor loss = (w * 2.0).sum();
  loss.backward();
  const auto g = w.grad().to_vector<float>();
  optim::SGD opt({w}, {.lr = 0.5});
  opt.step();
  const float w0 = w.to_vector<float>()[0];
  const bool ok = loss.item<float>() == 6.0f && g[0] == 2.0f && g[2] == 2.0f && w0 == 0.0f &&
                  consumer::own_tensor_header() == 1 && consumer::own_sgd_header() == 2;
  std::printf("consumer: loss=%g grad=%g w=%g %s\n", loss.item<double>(), double(g[0]), double(w0),
              ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
