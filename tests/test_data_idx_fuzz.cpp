// Fuzzing the IDX reader as the safetensors reader is fuzzed: seeded mutations of valid
// files (bit flips, truncations, appended bytes, rewritten dims, type and ndim bytes,
// splices) must each end in a decoded array or a descent::Error — never another
// exception, a crash or (under ASan) a bad read. Some go through gzip files and
// Idx::load, which also checks the image/label pair.
#include <descent/core/atomic_file.h>
#include <descent/data/idx.h>
#include <zlib.h>

#include <filesystem>
#include <random>

#include "safetensors_testing.h"
#include "testing/gradcheck.h"

using namespace descent;
using Bytes = std::vector<uint8_t>;
using descent::testing::ScratchDir;

namespace {

Bytes idx_bytes(const std::vector<uint32_t>& dims, uint8_t fill_seed) {
  Bytes b = {0, 0, 0x08, uint8_t(dims.size())};
  uint64_t count = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
    count *= d;
  }
  for (uint64_t i = 0; i < count; ++i) b.push_back(uint8_t(i * 37 + fill_seed));
  return b;
}

std::vector<Bytes> seeds() {
  return {idx_bytes({4, 2, 3}, 1), idx_bytes({4}, 2), idx_bytes({0, 28, 28}, 3),
          idx_bytes({2, 1, 2, 2}, 4), idx_bytes({7}, 5)};
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}
  size_t pick(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

  Bytes mutate(const std::vector<Bytes>& pool) {
    Bytes b = pool[pick(pool.size())];
    for (int round = 0, rounds = 1 + int(pick(3)); round < rounds; ++round) {
      switch (pick(7)) {
        case 0:  // flip a bit
          if (!b.empty()) b[pick(b.size())] ^= uint8_t(1u << pick(8));
          break;
        case 1:  // truncate
          b.resize(pick(b.size() + 1));
          break;
        case 2:  // append garbage
          for (size_t i = 0, n = 1 + pick(9); i < n; ++i) b.push_back(uint8_t(pick(256)));
          break;
        case 3:  // rewrite one dim with an interesting or random u32
          if (b.size() >= 8) {
            const uint32_t interesting[] = {0,          1,          2,     0x7fffffff,
                                            0x80000000, 0xffffffff, 65536, uint32_t(rng_())};
            const uint32_t v = interesting[pick(std::size(interesting))];
            const size_t at = 4 + 4 * pick((b.size() - 4) / 4);
            for (int s = 0; s < 4 && at + size_t(s) < b.size(); ++s) {
              b[at + size_t(s)] = uint8_t(v >> (24 - 8 * s));
            }
          }
          break;
        case 4:  // the type or ndim byte
          if (b.size() >= 4) b[2 + pick(2)] = uint8_t(pick(2) ? pick(256) : pick(6));
          break;
        case 5:  // splice another seed's tail
        {
          const Bytes& o = pool[pick(pool.size())];
          const size_t cut = pick(b.size() + 1), from = pick(o.size() + 1);
          b.resize(cut);
          b.insert(b.end(), o.begin() + std::ptrdiff_t(from), o.end());
          break;
        }
        default:  // magic bytes
          if (b.size() >= 2) b[pick(2)] = uint8_t(pick(256));
      }
    }
    return b;
  }

 private:
  std::mt19937_64 rng_;
};

// Decodes `b`; a success must be self-consistent. Returns whether it decoded.
bool parse_or_error(const Bytes& b, size_t iteration) {
  try {
    const data::IdxArray a = data::parse_idx(b);
    uint64_t count = 1;
    for (int64_t d : a.dims) count *= uint64_t(d);
    EXPECT_EQ(count, a.values.size()) << "iteration " << iteration;
    return true;
  } catch (const Error&) {
    return false;  // refused: fine
  } catch (const std::exception& e) {
    ADD_FAILURE() << "iteration " << iteration << ": " << typeid(e).name() << ": " << e.what();
    return false;
  }
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!b.empty()) {
    ASSERT_EQ(gzwrite(f, b.data(), unsigned(b.size())), int(b.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

}  // namespace

TEST(DataIdxFuzz, MutatedImagesDecodeOrFailCleanly) {
  const std::vector<Bytes> pool = seeds();
  for (const Bytes& s : pool) EXPECT_NO_THROW(data::parse_idx(s));
  Mutator m(20261207);
  size_t decoded = 0;
  for (size_t i = 0; i < 20000; ++i) decoded += parse_or_error(m.mutate(pool), i);
  // The mutations reach both sides: files that still decode and every kind of refusal.
  EXPECT_GT(decoded, 500u);
  EXPECT_LT(decoded, 15000u);
}

TEST(DataIdxFuzz, MutatedFilesRawGzipAndCutGzipStreams) {
  ScratchDir dir;
  const std::vector<Bytes> pool = seeds();
  Mutator m(7);
  for (size_t i = 0; i < 150; ++i) {
    const Bytes b = m.mutate(pool);
    const std::string raw = dir.file("raw"), gz = dir.file("file.gz");
    write_file_atomic(raw, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    write_gz(gz, b);
    // A gzip stream cut short, or with a flipped byte, must be an error or decode.
    std::vector<std::byte> z = read_file_bytes(gz, "fuzz");
    if (i % 2 == 0) {
      z.resize(m.pick(z.size() + 1));
    } else if (!z.empty()) {
      z[m.pick(z.size())] ^= std::byte{uint8_t(1u << m.pick(8))};
    }
    const std::string cut = dir.file("cut.gz");
    write_file_atomic(cut, std::span<const std::byte>(z));
    for (const std::string& path : std::vector<std::string>{raw, gz, cut}) {
      try {
        const data::IdxArray a = data::read_idx(path);
        uint64_t count = 1;
        for (int64_t d : a.dims) count *= uint64_t(d);
        ASSERT_EQ(count, a.values.size()) << path << " iteration " << i;
      } catch (const Error&) {
      } catch (const std::exception& e) {
        FAIL() << path << " iteration " << i << ": " << e.what();
      }
    }
  }
}

TEST(DataIdxFuzz, MutatedImageAndLabelPairsLoadOrFailCleanly) {
  ScratchDir dir;
  const std::vector<Bytes> images = {idx_bytes({3, 2, 2}, 1), idx_bytes({0, 2, 2}, 2)};
  const std::vector<Bytes> labels = {idx_bytes({3}, 3), idx_bytes({0}, 4)};
  Mutator m(11);
  for (size_t i = 0; i < 200; ++i) {
    const Bytes im = m.pick(3) ? m.mutate(images) : images[0];
    const Bytes lb = m.pick(3) ? m.mutate(labels) : labels[0];
    const auto put = [&](const std::string& name, const Bytes& b) {
      write_file_atomic(dir.file(name),
                        std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    };
    put("t10k-images-idx3-ubyte", im);
    put("t10k-labels-idx1-ubyte", lb);
    try {
      const data::Dataset ds = data::Idx::load(dir.path(), data::Split::Test);
      ASSERT_EQ(ds.inputs().size(0), ds.targets().size(0)) << "iteration " << i;
    } catch (const Error&) {
    } catch (const std::exception& e) {
      FAIL() << "iteration " << i << ": " << e.what();
    }
  }
}
