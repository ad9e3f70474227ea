#include <cxxabi.h>
#include <descent/nn/container.h>

#include <cstdlib>
#include <string>

namespace descent::nn {

void ModuleSequence::append(std::shared_ptr<Module> m) {
  register_module(std::to_string(size()), std::move(m));
}

std::shared_ptr<Module> ModuleSequence::ptr(int64_t i) const {
  const int64_t n = int64_t(size());
  check(i >= -n && i < n, type_name(), "index {} is out of range for {} modules", i, n);
  return named_children()[size_t(i < 0 ? i + n : i)].second;
}

void ModuleSequence::throw_wrong_type(int64_t i, const Module& m, const char* want) const {
  int status = 0;
  char* demangled = abi::__cxa_demangle(want, nullptr, nullptr, &status);
  const std::string want_name = status == 0 && demangled ? demangled : want;
  std::free(demangled);
  fail(type_name(), fmt::format("module {} is a {}, expected {}", i, m.type_name(), want_name));
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& [name, m] : named_children()) x = (*m)(x);
  return x;
}

}  // namespace descent::nn
