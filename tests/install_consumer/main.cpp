#include <descent/descent.h>

#include <cstdio>

int main() {
  using namespace descent;
  Tensor w = ones({3}, {.requires_grad = true});
  Tensor loss = (w * 2.0).sum();
  loss.backward();
  const auto g = w.grad().to_vector<float>();
  const bool ok = loss.item<float>() == 6.0f && g[0] == 2.0f && g[2] == 2.0f;
  std::printf("consumer: loss=%g grad=%g %s\n", loss.item<double>(), double(g[0]),
              ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
