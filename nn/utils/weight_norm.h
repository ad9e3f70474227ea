#pragma once
// Weight normalisation (Salimans & Kingma 2016) as torch.nn.utils.weight_norm: a
// module's parameter w is reparametrised as w = g · v/‖v‖, with ‖v‖ taken over every
// dim except `dim` (the whole tensor when dim is nullopt, torch's dim=None). The
// parameter `name` becomes absent and two parameters take its place: name + "_g" (g,
// the norms: size 1 except along `dim`) and name + "_v" (v, initially w) — the names
// of torch's state dicts. Works on any module that reads its weights through
// Module::resolve: Linear, Conv2d, LSTM (weight_ih_l0, …) and LSTMCell.
//
//   auto fc = std::make_shared<nn::Linear>(784, 10);
//   nn::utils::weight_norm(*fc);               // fc now trains weight_g and weight_v
//   nn::utils::remove_weight_norm(*fc);        // back to a plain "weight"
//
// Throws descent::Error when the module has no such parameter, `dim` is out of range,
// the parameter is normalised already (weight_norm) or not (remove_weight_norm).
#include <descent/nn/module.h>

#include <optional>
#include <string>

namespace descent::nn::utils {

Module& weight_norm(Module& module, const std::string& name = "weight",
                    std::optional<int64_t> dim = 0);
// Computes w from g and v, stores it as the plain parameter `name` again (the tensor
// the module held before weight_norm, so existing handles stay valid) and makes
// name_g and name_v absent.
Module& remove_weight_norm(Module& module, const std::string& name = "weight");

}  // namespace descent::nn::utils

namespace descent::F {
// v · g/‖v‖ with the norm over every dim except `dim` (all dims when nullopt); g has
// size 1 in every other dim. Differentiable in v and g.
Tensor weight_norm(const Tensor& v, const Tensor& g, std::optional<int64_t> dim = 0);
// ‖v‖₂ over every dim except `dim`, with the reduced dims kept as size 1 (all of them,
// a tensor of v's rank holding one value, for nullopt): torch's norm_except_dim(v, 2, dim).
Tensor norm_except_dim(const Tensor& v, std::optional<int64_t> dim = 0);
}  // namespace descent::F
