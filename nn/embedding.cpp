#include <descent/core/grad_mode.h>
#include <descent/nn/embedding.h>
#include <descent/nn/init.h>
#include <descent/ops/factory.h>
#include <descent/ops/index.h>

namespace descent::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions options)
    : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  check(num_embeddings > 0 && embedding_dim > 0, "Embedding",
        "got num_embeddings={}, embedding_dim={}, expected positive sizes", num_embeddings,
        embedding_dim);
  if (options.padding_idx) {
    int64_t p = *options.padding_idx;
    check(p >= -num_embeddings && p < num_embeddings, "Embedding",
          "got padding_idx={}, expected a value in [{}, {})", p, -num_embeddings, num_embeddings);
    padding_idx_ = p < 0 ? p + num_embeddings : p;
  }
  weight_ = register_parameter("weight", empty({num_embeddings, embedding_dim}));
  reset_parameters(options.generator);
}

void Embedding::reset_parameters(Generator* gen) {
  init::normal_(weight_, 0.0, 1.0, gen);
  if (padding_idx_) {
    NoGradGuard no_grad;
    weight_.select(0, *padding_idx_).zero_();
  }
}

Embedding Embedding::from_pretrained(const Tensor& weights, bool freeze,
                                     std::optional<int64_t> padding_idx) {
  check(weights.defined() && weights.dim() == 2 && is_floating(weights.dtype()),
        "Embedding.from_pretrained", "got {}, expected a 2-D floating tensor",
        weights.defined() ? fmt::format("a {} tensor of shape {}", weights.dtype(), weights.shape())
                          : std::string("an undefined tensor"));
  Embedding e(weights.size(0), weights.size(1), {.padding_idx = padding_idx});
  NoGradGuard no_grad;
  e.to(weights.dtype());
  e.weight_.copy_(weights);
  e.weight_.requires_grad_(!freeze);
  return e;
}

Tensor Embedding::forward(const Tensor& indices) {
  return F::embedding(indices, weight_, padding_idx_);
}

std::string Embedding::extra_repr() const {
  std::string s = fmt::format("{}, {}", num_embeddings_, embedding_dim_);
  if (padding_idx_) s += fmt::format(", padding_idx={}", *padding_idx_);
  return s;
}

}  // namespace descent::nn
