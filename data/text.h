#pragma once
// A character corpus for character-level language models. The vocabulary is the
// sorted set of distinct bytes of the text (UTF-8 multi-byte characters become
// several tokens, so any file round-trips); token ids are i64.
//
//   auto corpus = data::TextCorpus::load("datasets/text/corpus.txt", {.val_fraction = 0.1});
//   Generator gen(0);
//   auto [x, y] = data::random_batch(corpus.train(), 32, 64, &gen);  // (32, 64) each
//   std::string s = corpus.vocab().decode(x.select(0, 0));
//
// y[b, t] is the token after x[b, t]. Throws descent::Error for a missing or empty
// file, characters outside the vocabulary, ids out of range, a val_fraction outside
// [0, 1), and token sequences too short for the requested windows.
#include <descent/core/random.h>
#include <descent/data/dataset.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace descent::data {

class Vocabulary {
 public:
  Vocabulary() = default;
  // The sorted distinct bytes of `text`.
  explicit Vocabulary(std::string_view text);

  int64_t size() const { return int64_t(chars_.size()); }
  // The characters, in id order.
  const std::string& chars() const { return chars_; }
  // The id of `c`; throws when `c` is not in the vocabulary.
  int64_t id(char c) const;
  // i64 (n) ids of `text`.
  Tensor encode(std::string_view text) const;
  // The text of an integer tensor of ids (any shape, read in row-major order).
  std::string decode(const Tensor& ids) const;

 private:
  std::string chars_;
  std::array<int16_t, 256> ids_{};  // byte → id, -1 when absent
};

struct TextOptions {
  // The last fraction of the text becomes the validation tokens.
  double val_fraction = 0.1;
};

class TextCorpus {
 public:
  TextCorpus(std::string text, TextOptions opt = {});
  static TextCorpus load(const std::string& path, TextOptions opt = {});

  const std::string& text() const { return text_; }
  const Vocabulary& vocab() const { return vocab_; }
  // i64 (n_train) and i64 (n_val) token ids; together they are the whole text.
  const Tensor& train() const { return train_; }
  const Tensor& val() const { return val_; }

 private:
  std::string text_;
  Vocabulary vocab_;
  Tensor train_, val_;
};

// `batch` windows of `seq_len` tokens at uniform random offsets (as nanoGPT's
// get_batch): x (batch, seq_len) and the next tokens y (batch, seq_len).
Batch random_batch(const Tensor& tokens, int64_t batch, int64_t seq_len, Generator* gen = nullptr);

// The non-overlapping windows x[i] = tokens[i·T, i·T+T), y[i] = tokens[i·T+1, i·T+T+1)
// as a Dataset of (N, T) inputs and targets, N = (n - 1) / T, for a DataLoader.
Dataset sequences(const Tensor& tokens, int64_t seq_len);

}  // namespace descent::data
