#pragma once
// Helpers shared by the safetensors tests: a scratch folder, raw tensor bytes and
// hand-made files.
#include <descent/core/safetensors.h>
#include <descent/descent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace descent::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it at the end.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/descent_st_XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = made;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Names of everything in the folder, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

// The tensor's elements as row-major bytes.
inline std::string raw_bytes(const Tensor& t) {
  const Tensor c = t.detach().to(Device::CPU).contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), size_t(c.numel()) * c.element_size());
}

// A safetensors image from a header text (not padded, length field set to its size)
// and a data buffer.
inline std::vector<std::byte> make_image(const std::string& header, const std::string& buffer) {
  std::string s(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) s[i] = char(n & 0xff);
  s += header;
  s += buffer;
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

inline std::string to_string(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace descent::testing
