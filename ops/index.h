#pragma once
// Joining, splitting and indexing. Index tensors are i64 (i32 accepted). Indices out of
// range throw.
#include <descent/core/tensor.h>

#include <optional>
#include <vector>

namespace descent {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Pieces of `split_size` along dim (the last may be smaller).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
// Pieces of the given sizes along dim.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Out of place: a copy of x with src added at index along dim.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);

namespace F {
// weight: (num_embeddings, dim); indices: any shape of integers → (..., dim).
// Rows equal to padding_idx get no gradient (nullopt: none; negative counts from the
// end, as torch).
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);
// (..., ) integers → (..., num_classes) i64; num_classes -1 infers max+1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);
}  // namespace F

}  // namespace descent
