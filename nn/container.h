#pragma once
// Sequential and ModuleList: ordered submodules named "0", "1", ...
//
//   nn::Sequential model(nn::Linear(784, 512), nn::ReLU(), nn::Linear(512, 10));
//   Tensor y = model(x);                       // each module's output feeds the next
//   nn::Linear& fc = model.at<nn::Linear>(0);  // typed access; throws on a wrong type
//   model[-1];                                 // Module&, negative counts from the end
//
// Modules are passed by value (moved into shared_ptrs inside) or as a shared_ptr (then
// shared with the caller). Passing an lvalue module fails to compile: modules are not
// copyable, so write std::move(m) or pass a shared_ptr. An index out of range and a
// wrong type in at<M>() throw descent::Error.
#include <descent/nn/module.h>

#include <concepts>
#include <memory>
#include <type_traits>

namespace descent::nn {

namespace detail {

template <class T>
struct is_module_ptr : std::false_type {};
template <class M>
struct is_module_ptr<std::shared_ptr<M>> : std::bool_constant<std::derived_from<M, Module>> {};

// A module by value or a shared_ptr to one.
template <class M>
concept ModuleArg =
    std::derived_from<std::decay_t<M>, Module> || is_module_ptr<std::decay_t<M>>::value;

template <class M>
std::shared_ptr<Module> to_module_ptr(M&& m) {
  using D = std::decay_t<M>;
  if constexpr (is_module_ptr<D>::value) {
    return std::forward<M>(m);
  } else {
    static_assert(!std::is_lvalue_reference_v<M> && !std::is_const_v<std::remove_reference_t<M>>,
                  "modules are not copyable: pass std::move(module) or a std::shared_ptr");
    return std::make_shared<D>(std::move(m));
  }
}

}  // namespace detail

// The shared part of Sequential and ModuleList.
class ModuleSequence : public Module {
 public:
  // Appends a module under the next index name.
  template <detail::ModuleArg M>
  void push_back(M&& m) {
    append(detail::to_module_ptr(std::forward<M>(m)));
  }
  size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }
  // The i-th module (negative i counts from the end).
  Module& operator[](int64_t i) const { return *ptr(i); }
  std::shared_ptr<Module> ptr(int64_t i) const;
  // The i-th module as an M; throws when it is another type.
  template <class M>
  M& at(int64_t i) const {
    Module& m = (*this)[i];
    auto* typed = dynamic_cast<M*>(&m);
    if (!typed) throw_wrong_type(i, m, typeid(M).name());
    return *typed;
  }

 protected:
  ModuleSequence() = default;

 private:
  void append(std::shared_ptr<Module> m);
  [[noreturn]] void throw_wrong_type(int64_t i, const Module& m, const char* want) const;
};

// Runs its modules in order, each output feeding the next; empty = identity.
class Sequential : public ModuleSequence {
 public:
  Sequential() = default;
  template <detail::ModuleArg... Ms>
  requires(sizeof...(Ms) > 0 &&
           !(sizeof...(Ms) == 1 && (std::is_same_v<std::decay_t<Ms>, Sequential> &&
                                    ...))) explicit Sequential(Ms&&... ms) {
    (push_back(std::forward<Ms>(ms)), ...);
  }
  Tensor forward(const Tensor& input) override;
};

// Holds modules for a parent's forward to use; it has no forward of its own.
class ModuleList : public ModuleSequence {
 public:
  ModuleList() = default;
  template <detail::ModuleArg... Ms>
  requires(sizeof...(Ms) > 0 &&
           !(sizeof...(Ms) == 1 && (std::is_same_v<std::decay_t<Ms>, ModuleList> &&
                                    ...))) explicit ModuleList(Ms&&... ms) {
    (push_back(std::forward<Ms>(ms)), ...);
  }
};

}  // namespace descent::nn
