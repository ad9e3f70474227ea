#include <descent/core/error.h>
#include <descent/data/text.h>
#include <descent/ops/factory.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace descent::data {

namespace {

void check_tokens(const Tensor& tokens, std::string_view op) {
  check(tokens.defined(), op, "tokens are undefined");
  check(tokens.dim() == 1 && tokens.dtype() == DType::I64 && tokens.device().is_cpu(), op,
        "tokens must be a 1-D i64 CPU tensor, got {} {} on {}", tokens.shape(), tokens.dtype(),
        tokens.device());
}

}  // namespace

Vocabulary::Vocabulary(std::string_view text) {
  std::array<bool, 256> seen{};
  for (char c : text) seen[uint8_t(c)] = true;
  ids_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    if (!seen[size_t(b)]) continue;
    ids_[size_t(b)] = int16_t(chars_.size());
    chars_.push_back(char(b));
  }
}

int64_t Vocabulary::id(char c) const {
  const int16_t i = ids_[uint8_t(c)];
  check(i >= 0, "Vocabulary::id", "character 0x{:02x} is not in the vocabulary of {} characters",
        uint8_t(c), chars_.size());
  return i;
}

Tensor Vocabulary::encode(std::string_view text) const {
  Tensor out = Tensor::empty({int64_t(text.size())}, {.dtype = DType::I64});
  int64_t* p = out.data<int64_t>();
  for (size_t i = 0; i < text.size(); ++i) {
    const int16_t id = ids_[uint8_t(text[i])];
    check(id >= 0, "Vocabulary::encode",
          "character 0x{:02x} at position {} is not in the vocabulary of {} characters",
          uint8_t(text[i]), i, chars_.size());
    p[i] = id;
  }
  return out;
}

std::string Vocabulary::decode(const Tensor& ids) const {
  check(ids.defined() && is_integral(ids.dtype()), "Vocabulary::decode",
        "expected an integer tensor of ids, got {}",
        ids.defined() ? fmt::format("{}", ids.dtype()) : "an undefined tensor");
  std::string out;
  for (int64_t id : ids.to_vector<int64_t>()) {
    check(0 <= id && id < size(), "Vocabulary::decode", "id {} is out of range [0, {})", id,
          size());
    out.push_back(chars_[size_t(id)]);
  }
  return out;
}

TextCorpus::TextCorpus(std::string text, TextOptions opt) : text_(std::move(text)) {
  check(!text_.empty(), "TextCorpus", "the text is empty");
  check(opt.val_fraction >= 0.0 && opt.val_fraction < 1.0, "TextCorpus",
        "got val_fraction = {}, expected 0 <= val_fraction < 1", opt.val_fraction);
  vocab_ = Vocabulary(text_);
  const Tensor all = vocab_.encode(text_);
  const int64_t n = all.numel();
  const int64_t n_val = int64_t(std::floor(double(n) * opt.val_fraction));
  train_ = all.narrow(0, 0, n - n_val);
  val_ = all.narrow(0, n - n_val, n_val);
}

TextCorpus TextCorpus::load(const std::string& path, TextOptions opt) {
  check(std::filesystem::is_regular_file(path), "TextCorpus::load", "{}: no such file", path);
  std::ifstream in(path, std::ios::binary);
  check(bool(in), "TextCorpus::load", "{}: cannot open", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  check(!text.empty(), "TextCorpus::load", "{}: the file is empty", path);
  return TextCorpus(std::move(text), opt);
}

Batch random_batch(const Tensor& tokens, int64_t batch, int64_t seq_len, Generator* gen) {
  check_tokens(tokens, "random_batch");
  check(batch >= 1 && seq_len >= 1, "random_batch",
        "got batch = {}, seq_len = {}, expected both >= 1", batch, seq_len);
  const int64_t n = tokens.numel();
  check(n >= seq_len + 1, "random_batch",
        "{} tokens are too few for windows of seq_len {} plus the next token", n, seq_len);
  const auto starts = randint(0, n - seq_len, {batch}, {.dtype = DType::I64}, gen);
  const int64_t* s = starts.data<int64_t>();
  const Tensor src = tokens.contiguous();
  const int64_t* t = src.data<int64_t>();
  Tensor x = Tensor::empty({batch, seq_len}, {.dtype = DType::I64});
  Tensor y = Tensor::empty({batch, seq_len}, {.dtype = DType::I64});
  int64_t *px = x.data<int64_t>(), *py = y.data<int64_t>();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < seq_len; ++i) {
      px[b * seq_len + i] = t[s[b] + i];
      py[b * seq_len + i] = t[s[b] + i + 1];
    }
  }
  return {x, y};
}

Dataset sequences(const Tensor& tokens, int64_t seq_len) {
  check_tokens(tokens, "sequences");
  check(seq_len >= 1, "sequences", "got seq_len = {}, expected >= 1", seq_len);
  const int64_t n = tokens.numel();
  const int64_t windows = (n - 1) / seq_len;
  check(windows >= 1, "sequences",
        "{} tokens are too few for one window of seq_len {} plus the next token", n, seq_len);
  const Tensor src = tokens.contiguous();
  const Tensor x = src.narrow(0, 0, windows * seq_len).reshape({windows, seq_len});
  const Tensor y = src.narrow(0, 1, windows * seq_len).reshape({windows, seq_len});
  return Dataset(x, y);
}

}  // namespace descent::data
