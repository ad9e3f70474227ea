#pragma once
// nn::Embedding — a lookup table (F::embedding). indices: integers of any shape →
// (..., embedding_dim). Parameter "weight" (num_embeddings, embedding_dim), f32,
// initialised N(0, 1) as torch. With padding_idx (negative counts from the end) that
// row starts at zero and never receives a gradient.
// Throws descent::Error for non-positive sizes, a padding_idx out of range, and (in
// the op) indices out of range or of a non-integer dtype.
#include <descent/core/random.h>
#include <descent/nn/module.h>

#include <optional>

namespace descent::nn {

struct EmbeddingOptions {
  std::optional<int64_t> padding_idx = std::nullopt;
  Generator* generator = nullptr;  // for the initial values
};

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions options = {});
  // A table holding a copy of `weights` (2-D, floating; its dtype is kept), trained
  // unless `freeze`. The padding row is not zeroed, as torch's from_pretrained.
  static Embedding from_pretrained(const Tensor& weights, bool freeze = true,
                                   std::optional<int64_t> padding_idx = std::nullopt);
  // Re-draws the weight (N(0, 1), padding row zero).
  void reset_parameters(Generator* gen = nullptr);
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;

  const Tensor& weight() const { return weight_; }
  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  // Normalised to [0, num_embeddings).
  std::optional<int64_t> padding_idx() const { return padding_idx_; }

 private:
  int64_t num_embeddings_, embedding_dim_;
  std::optional<int64_t> padding_idx_;
  Tensor weight_;
};

}  // namespace descent::nn
