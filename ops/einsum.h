#pragma once
// Einstein summation, as torch.einsum, for letter subscripts: "ij,jk->ik" (matmul),
// "bij,bjk->bik" (bmm), "i,j->ij" (outer), "ij->ji", "ij->"
// (sum), and any number of operands, contracted left to right through matmul. Without
// "->" the output is the letters that appear once, in alphabetical order. Not
// supported, with an Error that says so: "..." (ellipsis) and a letter repeated within
// one operand (diagonals). Differentiable (it is built from permute, sum and matmul).
#include <descent/core/tensor.h>

#include <string_view>
#include <vector>

namespace descent {

Tensor einsum(std::string_view equation, const std::vector<Tensor>& operands);

}  // namespace descent
