#pragma once
// Counter-based random numbers (Philox-4x32-10). A generator is just (seed, offset):
// element i of a draw uses counter offset + i/4, so results do not depend on thread
// count or device, and saving the state is saving two integers.
#include <descent/core/host_device.h>

#include <array>
#include <cstdint>

namespace descent {

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // counters consumed so far
  friend bool operator==(const GeneratorState&, const GeneratorState&) = default;
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ull) : state_{seed, 0} {}
  void manual_seed(uint64_t seed) { state_ = {seed, 0}; }
  uint64_t seed() const { return state_.seed; }
  GeneratorState state() const { return state_; }
  void set_state(GeneratorState s) { state_ = s; }
  // Reserves `counters` Philox counters (4 numbers each); returns the first.
  uint64_t advance(uint64_t counters) {
    uint64_t first = state_.offset;
    state_.offset += counters;
    return first;
  }

 private:
  GeneratorState state_;
};

// The process-wide generator used when an op is given none.
Generator& default_generator();

// splitmix64's finaliser: a well-mixed 64-bit value of x, to derive generator seeds from
// (seed, epoch, …) so that neighbouring inputs give unrelated streams.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
// Seeds the default generator.
void manual_seed(uint64_t seed);

// Philox-4x32 with 10 rounds (Salmon et al., SC'11).
struct Philox4x32 {
  // descent's stream: key = seed, counter = (counter, 0).
  DESCENT_HD static std::array<uint32_t, 4> generate(uint64_t seed, uint64_t counter) {
    return generate({uint32_t(counter), uint32_t(counter >> 32), 0, 0},
                    {uint32_t(seed), uint32_t(seed >> 32)});
  }
  // The block function itself, as Random123's philox4x32_10(ctr, key).
  DESCENT_HD static std::array<uint32_t, 4> generate(std::array<uint32_t, 4> ctr,
                                                     std::array<uint32_t, 2> key) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; ++r) {
      uint64_t p0 = uint64_t(0xD2511F53u) * c0;
      uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
      uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
      uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
      c1 = uint32_t(p1);
      c3 = uint32_t(p0);
      c0 = n0;
      c2 = n2;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    return {c0, c1, c2, c3};
  }
  // Uniform in [0, 1) with 24 random bits (exact in f32).
  DESCENT_HD static float to_unit_float(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }
  // Uniform in [0, 1) with 53 random bits, from two draws.
  DESCENT_HD static double to_unit_double(uint32_t hi, uint32_t lo) {
    uint64_t v = (uint64_t(hi) << 21) ^ uint64_t(lo >> 11);
    return double(v & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
  }
};

}  // namespace descent
