// Fuzzing the safetensors reader: thousands of seeded mutations of valid files (bit
// flips, truncations, appended bytes, length-field lies, header text edits with the
// length kept consistent, number swaps, splices) must each end in a successful load or
// a descent::Error — never another exception, a crash or (under ASan) a bad read. A
// load that succeeds must survive a save/load round trip unchanged. The committed
// regression corpus (tests/data/safetensors/corpus, expectations in expected.txt) is
// replayed from files.
#include <descent/core/atomic_file.h>
#include <descent/core/safetensors.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "safetensors_testing.h"
#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using Bytes = std::vector<std::byte>;

namespace {

std::vector<Bytes> seeds() {
  Generator gen(5);
  std::vector<Bytes> out;
  out.push_back(safetensors_bytes({}));
  out.push_back(safetensors_bytes({{"w", randn({2, 3}, {}, &gen)}}, {{"format", "pt"}}));
  out.push_back(safetensors_bytes({{"a.weight", randn({4, 3}, {.dtype = DType::F64}, &gen)},
                                   {"a.bias", randn({4}, {}, &gen).to(DType::BF16)},
                                   {"h", randn({2, 2}, {}, &gen).to(DType::F16)},
                                   {"idx", randint(-9, 9, {5}, {.dtype = DType::I64}, &gen)},
                                   {"i", randint(-9, 9, {3}, {.dtype = DType::I32}, &gen)},
                                   {"m", from_vector<bool>({true, false, true})},
                                   {"s", scalar_tensor(3.0)},
                                   {"e", zeros({0, 2})}},
                                  {{"k\"ey", "v\\al\nue"}, {"\xc3\xa9", "\xf0\x9f\x98\x80"}}));
  out.push_back(read_file_bytes(
      descent::testing::test_data_path("safetensors/from_torch.safetensors"), "fuzz"));
  return out;
}

uint64_t header_len(const Bytes& b) {
  uint64_t n = 0;
  std::memcpy(&n, b.data(), 8);
  return n;
}
void set_header_len(Bytes& b, uint64_t n) { std::memcpy(b.data(), &n, 8); }

// Mutations. Header edits keep the length field consistent so that they reach the
// JSON and semantic checks instead of stopping at the length check.
class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  Bytes mutate(const std::vector<Bytes>& pool) {
    Bytes b = pool[pick(pool.size())];
    const int rounds = 1 + int(pick(3));
    for (int r = 0; r < rounds; ++r) mutate_once(b, pool);
    return b;
  }

 private:
  size_t pick(size_t n) { return n == 0 ? 0 : size_t(rng_() % n); }

  std::string header_of(const Bytes& b) {
    const uint64_t n = std::min<uint64_t>(header_len(b), b.size() - 8);
    return std::string(reinterpret_cast<const char*>(b.data()) + 8, n);
  }
  // Replaces the header text (fixing the length field) and keeps the buffer.
  static void replace_header(Bytes& b, const std::string& old_header, const std::string& h) {
    Bytes out(8);
    set_header_len(out, h.size());
    const auto* p = reinterpret_cast<const std::byte*>(h.data());
    out.insert(out.end(), p, p + h.size());
    out.insert(out.end(), b.begin() + 8 + std::ptrdiff_t(old_header.size()), b.end());
    b = std::move(out);
  }

  std::string edit_text(std::string h) {
    static const std::vector<std::string> tokens = {"{",
                                                    "}",
                                                    "[",
                                                    "]",
                                                    ",",
                                                    ":",
                                                    "\"",
                                                    "\\",
                                                    "\\u",
                                                    "-",
                                                    "0",
                                                    "1",
                                                    "9",
                                                    " ",
                                                    "\0",
                                                    "\xff",
                                                    "\xc3",
                                                    "\"dtype\"",
                                                    "F32",
                                                    "\"BOOL\"",
                                                    "\"U8\"",
                                                    "\"shape\"",
                                                    "[-1]",
                                                    "[]",
                                                    "[0]",
                                                    "1e5",
                                                    "\"__metadata__\"",
                                                    "[0,",
                                                    "\\ud800",
                                                    "\"a\":1",
                                                    "\"data_offsets\""};
    static const std::vector<std::string> numbers = {"0",
                                                     "1",
                                                     "-1",
                                                     "7",
                                                     "8",
                                                     "24",
                                                     "4294967296",
                                                     "9223372036854775807",
                                                     "18446744073709551616",
                                                     "4611686018427387904",
                                                     "100000000000"};
    switch (pick(6)) {
      case 0:  // change one character to a structural one
        if (!h.empty()) h[pick(h.size())] = "{}[],:\"\\-0123456789 "[pick(21)];
        break;
      case 1:  // insert a token
        h.insert(pick(h.size() + 1), tokens[pick(tokens.size())]);
        break;
      case 2: {  // delete a span
        const size_t at = pick(h.size() + 1), len = 1 + pick(12);
        h.erase(at, len);
        break;
      }
      case 3: {  // duplicate a span (duplicate keys, repeated entries)
        const size_t at = pick(h.size() + 1), len = 1 + pick(80);
        h.insert(pick(h.size() + 1), h.substr(at, len));
        break;
      }
      case 4: {  // replace a number with an interesting one
        std::vector<size_t> starts;
        for (size_t i = 0; i < h.size(); ++i) {
          if (std::isdigit(static_cast<unsigned char>(h[i])) &&
              (i == 0 || !std::isdigit(static_cast<unsigned char>(h[i - 1])))) {
            starts.push_back(i);
          }
        }
        if (starts.empty()) break;
        const size_t at = starts[pick(starts.size())];
        size_t end = at;
        while (end < h.size() && std::isdigit(static_cast<unsigned char>(h[end]))) ++end;
        h.replace(at, end - at, numbers[pick(numbers.size())]);
        break;
      }
      default: {  // swap one dtype name for another
        static const char* dtypes[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "BOOL", "U8"};
        const size_t at = h.find("\"dtype\":\"", pick(h.size() + 1));
        if (at == std::string::npos) break;
        const size_t v = at + 9, e = h.find('"', v);
        if (e != std::string::npos) h.replace(v, e - v, dtypes[pick(8)]);
      }
    }
    return h;
  }

  // Entries with well-formed JSON but edge-case values: dims of 0, 1, small or huge,
  // negative ones, offsets near the buffer's size, sometimes exactly right.
  std::string synthesize(uint64_t buffer_bytes) {
    static const char* dtypes[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "BOOL"};
    static const size_t sizes[] = {8, 4, 2, 2, 8, 4, 1};
    static const int64_t dims[] = {0,        1, 2, 3, 7, -1, int64_t(1) << 31, int64_t(1) << 62,
                                   INT64_MAX};
    std::string h = "{";
    uint64_t offset = 0;
    for (size_t n = pick(4); n > 0; --n) {
      const size_t t = pick(7);
      std::vector<int64_t> shape(pick(kMaxDims + 2));
      int64_t numel = 1;
      for (int64_t& d : shape) {
        d = pick(3) ? int64_t(pick(4)) : dims[pick(std::size(dims))];
        numel = d >= 0 && d < 8 && numel < 1024 ? numel * d : numel;
      }
      uint64_t begin = offset;  // sometimes a hole or an overlap
      if (pick(6) == 0) begin += pick(9);
      if (pick(6) == 0) begin -= std::min<uint64_t>(begin, pick(9));
      const uint64_t want = uint64_t(numel) * sizes[t];
      uint64_t end = pick(2) ? begin + want : pick(buffer_bytes + 2);
      if (pick(8) == 0) end = buffer_bytes;
      if (h.size() > 1) h += ',';
      h += fmt::format(R"("t{}":{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}})", n,
                       dtypes[t], fmt::join(shape, ","), begin, end);
      offset = end;
    }
    return h + "}";
  }

  void mutate_once(Bytes& b, const std::vector<Bytes>& pool) {
    if (b.size() < 8) {
      b.resize(b.size() + pick(9));
      return;
    }
    switch (pick(9)) {
      case 0: {  // bit flips, mostly inside the header
        const size_t n = 1 + pick(8);
        const size_t region = std::min<size_t>(b.size(), 8 + header_len(b));
        for (size_t i = 0; i < n; ++i) {
          const size_t at = pick(3) ? pick(region) : pick(b.size());
          b[at] ^= std::byte(1u << pick(8));
        }
        break;
      }
      case 1:  // truncation
        b.resize(pick(b.size() + 1));
        break;
      case 2:  // extra bytes at the end
        for (size_t i = 1 + pick(16); i > 0; --i) b.push_back(std::byte(rng_()));
        break;
      case 3: {  // the length field lies
        const uint64_t n = header_len(b), size = b.size();
        const uint64_t lies[] = {0,        1,        n - 1,        n + 1,
                                 n + 8,    size - 8, size - 7,     size,
                                 1u << 31, rng_(),   ~uint64_t(0), kSafetensorsMaxHeaderBytes + 1};
        set_header_len(b, lies[pick(std::size(lies))]);
        break;
      }
      case 4:
      case 5:
      case 6: {  // header text edit, length kept consistent
        if (header_len(b) > b.size() - 8) break;
        const std::string h = header_of(b);
        replace_header(b, h, edit_text(h));
        break;
      }
      case 7: {  // a made-up header of plausible entries over this file's buffer
        if (header_len(b) > b.size() - 8) break;
        replace_header(b, header_of(b), synthesize(b.size() - 8 - header_len(b)));
        break;
      }
      default: {  // another file's header on this file's buffer
        const Bytes& other = pool[pick(pool.size())];
        if (header_len(b) > b.size() - 8 || header_len(other) > other.size() - 8) break;
        replace_header(b, header_of(b), header_of(other));
      }
    }
  }

  std::mt19937_64 rng_;
};

// A successful load must round-trip: save what was read, read it again, same bytes.
void expect_round_trip(const SafetensorsFile& f) {
  const SafetensorsFile again = parse_safetensors(safetensors_bytes(f.tensors, f.metadata));
  EXPECT_EQ(again.metadata, f.metadata);
  ASSERT_EQ(again.tensors.size(), f.tensors.size());
  for (const auto& [k, t] : f.tensors) {
    EXPECT_EQ(again.tensors.at(k).dtype(), t.dtype());
    EXPECT_EQ(again.tensors.at(k).shape(), t.shape());
    EXPECT_EQ(descent::testing::raw_bytes(again.tensors.at(k)), descent::testing::raw_bytes(t));
  }
}

// An error message with numbers and quoted names blanked out, so that messages
// count by kind: "tensor '': data_offsets [] hold N bytes, ...".
std::string message_template(const std::string& what) {
  std::string out;
  char quote = 0;
  for (size_t i = std::strlen("load_safetensors: 'fuzz': "); i < what.size(); ++i) {
    const char c = what[i];
    if (quote) {
      if (c == quote) out.push_back(c), quote = 0;
    } else if (c == '\'' || c == '"' || c == '[') {
      out.push_back(c), quote = c == '[' ? ']' : c;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (out.empty() || out.back() != 'N') out.push_back('N');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

TEST(SafetensorsFuzz, MutatedFilesLoadOrFailCleanly) {
  const std::vector<Bytes> pool = seeds();
  Mutator mut(0x5afe7e11505ull);
  descent::testing::ScratchDir dir;
  constexpr int kCases = 50000;
  int loaded = 0, rejected = 0;
  std::map<std::string, int> reasons;  // first words of each error, for the summary
  for (int i = 0; i < kCases; ++i) {
    const Bytes b = mut.mutate(pool);
    std::string from_memory;
    try {
      const SafetensorsFile f = parse_safetensors(b, "fuzz");
      ++loaded;
      if (loaded % 50 == 0) expect_round_trip(f);
    } catch (const Error& e) {
      ++rejected;
      from_memory = e.what();
      ++reasons[message_template(from_memory)];
    } catch (const std::exception& e) {
      const std::string kept = dir.file(fmt::format("crash_{}.safetensors", i));
      write_file_atomic(kept, b);
      ADD_FAILURE() << "case " << i << ": not a descent::Error: " << e.what() << " (input kept in "
                    << kept << ")";
    }
    // Every 500th case also goes through a real file: same outcome, same message.
    if (i % 500 == 0) {
      const std::string path = dir.file("case.safetensors");
      write_file_atomic(path, b);
      std::string from_file;
      try {
        load_safetensors(path);
      } catch (const Error& e) {
        from_file = e.what();
        const size_t at = from_file.find(path);
        if (at != std::string::npos) from_file.replace(at, path.size(), "fuzz");
      }
      EXPECT_EQ(from_file, from_memory) << "case " << i;
    }
  }
  std::string summary;
  for (const auto& [k, n] : reasons) summary += fmt::format("\n  {:6} {}", n, k);
  std::printf("%d cases: %d loaded, %d rejected:%s\n", kCases, loaded, rejected, summary.c_str());
  EXPECT_EQ(loaded + rejected, kCases);
  // Both paths must be exercised a lot, or the mutations are too weak (or too strong).
  EXPECT_GT(loaded, kCases / 50);
  EXPECT_GT(rejected, kCases / 2);
  EXPECT_GT(reasons.size(), 20u);
}

TEST(SafetensorsFuzz, RegressionCorpus) {
  namespace fs = std::filesystem;
  const std::string root = descent::testing::test_data_path("safetensors/corpus");
  std::ifstream manifest(root + "/expected.txt");
  ASSERT_TRUE(manifest.good()) << root << "/expected.txt";
  // Lines: <file> OK | <file> <substring of the error message>
  std::map<std::string, std::string> expected;
  for (std::string line; std::getline(manifest, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    ASSERT_NE(sp, std::string::npos) << line;
    expected[line.substr(0, sp)] = line.substr(sp + 1);
  }
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (name == "expected.txt") continue;
    ++files;
    SCOPED_TRACE(name);
    ASSERT_TRUE(expected.contains(name)) << "add it to expected.txt";
    const std::string& want = expected.at(name);
    if (want == "OK") {
      EXPECT_NO_THROW(load_safetensors(e.path().string()));
    } else {
      EXPECT_THROW_MSG(load_safetensors(e.path().string()), want);
    }
  }
  EXPECT_EQ(files, expected.size()) << "expected.txt names files that are missing";
  EXPECT_GE(files, 20u);
}
