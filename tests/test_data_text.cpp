// Character corpus: vocabulary, encode/decode round trips, the train/validation split,
// random (B, T) batches and non-overlapping windows whose targets are the next
// characters, and the errors.
#include <descent/data/loader.h>
#include <descent/data/text.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "testing/gradcheck.h"

using namespace descent;

TEST(DataText, VocabularyIsSortedDistinctBytes) {
  const data::Vocabulary v("hello, world");
  EXPECT_EQ(v.chars(), " ,dehlorw");
  EXPECT_EQ(v.size(), 9);
  EXPECT_EQ(v.id(' '), 0);
  EXPECT_EQ(v.id('w'), 8);
  const Tensor ids = v.encode("hello");
  EXPECT_EQ(ids.dtype(), DType::I64);
  EXPECT_EQ(ids.to_vector<int64_t>(), (std::vector<int64_t>{4, 3, 5, 5, 6}));
  EXPECT_EQ(v.decode(ids), "hello");
  EXPECT_EQ(v.decode(ids.reshape({1, 5}).to(DType::I32)), "hello");
  EXPECT_THROW_MSG(v.encode("hex"), "character 0x78 at position 2 is not in the vocabulary of 9");
  EXPECT_THROW_MSG(v.id('z'), "character 0x7a is not in the vocabulary");
  EXPECT_THROW_MSG(v.decode(from_vector<int64_t>({0, 9})), "id 9 is out of range [0, 9)");
  EXPECT_THROW_MSG(v.decode(zeros({2})), "expected an integer tensor of ids, got f32");
}

TEST(DataText, Utf8RoundTripsByteWise) {
  const std::string s = "naïve café — ok";
  const data::Vocabulary v(s);
  EXPECT_EQ(v.decode(v.encode(s)), s);
  EXPECT_TRUE(std::is_sorted(v.chars().begin(), v.chars().end(),
                             [](char a, char b) { return uint8_t(a) < uint8_t(b); }));
}

TEST(DataText, TrainValidationSplitCoversTheText) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += char('a' + i % 7);
  const data::TextCorpus c(text, {.val_fraction = 0.25});
  EXPECT_EQ(c.train().numel(), 75);
  EXPECT_EQ(c.val().numel(), 25);
  EXPECT_EQ(c.vocab().decode(c.train()) + c.vocab().decode(c.val()), text);
  const data::TextCorpus all(text, {.val_fraction = 0.0});
  EXPECT_EQ(all.val().numel(), 0);
  EXPECT_THROW_MSG(data::TextCorpus(text, {.val_fraction = 1.0}),
                   "got val_fraction = 1, expected 0 <= val_fraction < 1");
  EXPECT_THROW_MSG(data::TextCorpus(""), "TextCorpus: the text is empty");
}

TEST(DataText, LoadsAFile) {
  const auto path = std::filesystem::temp_directory_path() / "descent_corpus.txt";
  {
    std::ofstream f(path, std::ios::binary);
    f << "abc\nabd\n";
  }
  const data::TextCorpus c = data::TextCorpus::load(path.string(), {.val_fraction = 0.5});
  EXPECT_EQ(c.text(), "abc\nabd\n");
  EXPECT_EQ(c.vocab().chars(), "\nabcd");
  { std::ofstream f(path, std::ios::binary | std::ios::trunc); }
  EXPECT_THROW_MSG(data::TextCorpus::load(path.string()), "the file is empty");
  std::filesystem::remove(path);
  EXPECT_THROW_MSG(data::TextCorpus::load(path.string()), "descent_corpus.txt: no such file");
}

TEST(DataText, RandomBatchTargetsAreTheNextCharacters) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += char('a' + (i * 7) % 26);
  const data::TextCorpus c(text);
  Generator gen(11);
  const auto [x, y] = data::random_batch(c.train(), 8, 16, &gen);
  EXPECT_EQ(x.shape(), (Shape{8, 16}));
  EXPECT_EQ(y.shape(), (Shape{8, 16}));
  const std::string train = c.vocab().decode(c.train());
  std::set<size_t> starts;
  for (int64_t b = 0; b < 8; ++b) {
    const std::string xs = c.vocab().decode(x.select(0, b));
    const std::string ys = c.vocab().decode(y.select(0, b));
    const size_t at = train.find(xs + ys.back());
    ASSERT_NE(at, std::string::npos) << "window " << b << " is not in the text";
    EXPECT_EQ(xs.substr(1), ys.substr(0, 15));
    starts.insert(at);
  }
  EXPECT_GT(starts.size(), 4u);  // offsets are random, not all the same
  // Same generator state, same batch.
  Generator again(11);
  EXPECT_EQ(data::random_batch(c.train(), 8, 16, &again).x.to_vector<int64_t>(),
            x.to_vector<int64_t>());
  // The window may end on the last token.
  const Tensor tiny = from_vector<int64_t>({0, 1, 2});
  const auto [tx, ty] = data::random_batch(tiny, 3, 2, &gen);
  for (int64_t b = 0; b < 3; ++b) {
    EXPECT_EQ(tx.select(0, b).to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
    EXPECT_EQ(ty.select(0, b).to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  }
  EXPECT_THROW_MSG(data::random_batch(tiny, 1, 3), "3 tokens are too few for windows of seq_len 3");
  EXPECT_THROW_MSG(data::random_batch(zeros({4}), 1, 1), "tokens must be a 1-D i64 CPU tensor");
}

TEST(DataText, SequencesAreNonOverlappingWindowsForALoader) {
  const Tensor tokens = arange(11.0, {.dtype = DType::I64});
  const data::Dataset ds = data::sequences(tokens, 3);
  EXPECT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.inputs().to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(ds.targets().to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  data::DataLoader loader(ds, {.batch_size = 2, .shuffle = true, .seed = 3});
  int64_t rows = 0;
  for (auto [x, y] : loader) {
    EXPECT_EQ(x.size(1), 3);
    // tokens are 0, 1, 2, ...: each target is its input plus one.
    auto next = x.to_vector<int64_t>();
    for (auto& v : next) ++v;
    EXPECT_EQ(y.to_vector<int64_t>(), next);
    rows += x.size(0);
  }
  EXPECT_EQ(rows, 3);
  EXPECT_EQ(data::sequences(tokens, 10).size(), 1);  // 10 inputs and the 11th as last target
  EXPECT_THROW_MSG(data::sequences(tokens, 11),
                   "11 tokens are too few for one window of seq_len 11");
  EXPECT_THROW_MSG(data::sequences(tokens, 0), "got seq_len = 0");
}

// The English corpus from scripts/get-data (skipped visibly when absent).
TEST(DataText, RealCorpus) {
  const auto path = std::filesystem::path(DESCENT_DATASETS_DIR) / "text" / "corpus.txt";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing: run scripts/get-data";
  const data::TextCorpus c = data::TextCorpus::load(path.string());
  EXPECT_GT(c.text().size(), 50000u);
  EXPECT_EQ(c.text().find("\n%\n"), std::string::npos);  // separators stripped
  EXPECT_GT(c.vocab().size(), 60);                       // letters, digits, punctuation
  EXPECT_LT(c.vocab().size(), 256);
  EXPECT_EQ(c.vocab().decode(c.train()) + c.vocab().decode(c.val()), c.text());
  Generator gen(0);
  const auto [x, y] = data::random_batch(c.val(), 4, 32, &gen);
  EXPECT_EQ(x.shape(), (Shape{4, 32}));
}
