#include <descent/core/error.h>
#include <descent/data/idx.h>
#include <descent/ops/factory.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace descent::data {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr int kMaxDims = 4;

// The whole file, decompressed. gzread passes a file without a gzip header through
// unchanged, so one path serves raw and .gz files.
std::vector<uint8_t> read_all(const std::string& path) {
  check(std::filesystem::is_regular_file(path), "idx", "{}: no such file", path);
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), gzclose);
  check(f != nullptr, "idx", "{}: cannot open", path);
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f.get(), buf, sizeof buf);
    if (n < 0) {
      int errnum = 0;
      const char* msg = gzerror(f.get(), &errnum);
      fail("idx", fmt::format("{}: corrupt compressed data ({})", path, msg ? msg : "?"));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  // A gzip stream cut short reads as a clean end of file; zlib reports it only here.
  int errnum = Z_OK;
  const char* msg = gzerror(f.get(), &errnum);
  check(errnum == Z_OK, "idx", "{}: corrupt compressed data ({})", path, msg ? msg : "?");
  return bytes;
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string find_file(const std::string& dir, const std::string& name) {
  const auto base = std::filesystem::path(dir) / name;
  if (std::filesystem::is_regular_file(base)) return base.string();
  const std::string gz = base.string() + ".gz";
  if (std::filesystem::is_regular_file(gz)) return gz;
  fail("Idx::load", fmt::format("{}: no such file (nor {}.gz)", base.string(), name));
}

const char* split_prefix(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Test: return "t10k";
  }
  return "?";
}

}  // namespace

IdxArray read_idx(const std::string& path) { return parse_idx(read_all(path), path); }

IdxArray parse_idx(std::span<const uint8_t> bytes, std::string_view path) {
  check(bytes.size() >= 4, "idx", "{}: file has {} bytes, too short for the 4-byte magic number",
        path, bytes.size());
  check(bytes[0] == 0 && bytes[1] == 0, "idx",
        "{}: wrong magic number 0x{:02x}{:02x}{:02x}{:02x}, expected 0x0000<type><ndim>", path,
        bytes[0], bytes[1], bytes[2], bytes[3]);
  check(bytes[2] == kUnsignedByte, "idx",
        "{}: unsupported data type 0x{:02x}, expected 0x08 (unsigned byte)", path, bytes[2]);
  const int ndim = bytes[3];
  check(1 <= ndim && ndim <= kMaxDims, "idx", "{}: got {} dims, expected 1 to {}", path, ndim,
        kMaxDims);
  const size_t header = 4 + 4 * size_t(ndim);
  check(bytes.size() >= header, "idx", "{}: truncated header: {} bytes, expected {} for {} dims",
        path, bytes.size(), header, ndim);
  IdxArray out;
  uint64_t count = 1;
  for (int d = 0; d < ndim; ++d) {
    const uint32_t n = big_endian_u32(bytes.data() + 4 + 4 * d);
    out.dims.push_back(int64_t(n));
    // Each dim is below 2^32, so with at most 4 dims the product cannot overflow before
    // the comparison below rejects it.
    count *= n;
    check(count <= bytes.size(), "idx",
          "{}: truncated data: dims {} need more than the {} bytes "
          "in the file",
          path, fmt::join(out.dims, "x"), bytes.size());
  }
  const size_t have = bytes.size() - header;
  check(have >= count, "idx", "{}: truncated data: dims {} need {} bytes, file has {}", path,
        fmt::join(out.dims, "x"), count, have);
  check(have == count, "idx", "{}: {} bytes after the data of dims {} (expected {} bytes)", path,
        have - count, fmt::join(out.dims, "x"), count);
  out.values.assign(bytes.begin() + std::ptrdiff_t(header), bytes.end());
  return out;
}

void write_idx(const std::string& path, const IdxArray& array) {
  const size_t ndim = array.dims.size();
  check(1 <= ndim && ndim <= size_t(kMaxDims), "write_idx", "{}: got {} dims, expected 1 to {}",
        path, ndim, kMaxDims);
  uint64_t count = 1;
  for (int64_t d : array.dims) {
    check(0 <= d && d <= int64_t(UINT32_MAX), "write_idx", "{}: dim {} does not fit in u32", path,
          d);
    count *= uint64_t(d);
  }
  check(count == array.values.size(), "write_idx", "{}: dims {} need {} values, got {}", path,
        fmt::join(array.dims, "x"), count, array.values.size());
  std::vector<uint8_t> bytes = {0, 0, kUnsignedByte, uint8_t(ndim)};
  for (int64_t d : array.dims) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(uint8_t(uint64_t(d) >> s));
  }
  bytes.insert(bytes.end(), array.values.begin(), array.values.end());
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  check(f != nullptr, "write_idx", "{}: cannot open for writing", path);
  check(std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size(), "write_idx",
        "{}: short write", path);
}

std::string Idx::images_path(const std::string& dir, Split split) {
  return find_file(dir, fmt::format("{}-images-idx3-ubyte", split_prefix(split)));
}

std::string Idx::labels_path(const std::string& dir, Split split) {
  return find_file(dir, fmt::format("{}-labels-idx1-ubyte", split_prefix(split)));
}

Dataset Idx::load(const std::string& dir, Split split, IdxOptions opt) {
  const std::string images_file = images_path(dir, split);
  const std::string labels_file = labels_path(dir, split);
  const IdxArray images = read_idx(images_file);
  const IdxArray labels = read_idx(labels_file);
  check(images.dims.size() == 3, "Idx::load",
        "{}: images have dims {}, expected 3 (count, rows, cols)", images_file,
        fmt::join(images.dims, "x"));
  check(images.dims[1] > 0 && images.dims[2] > 0, "Idx::load",
        "{}: images are {}x{} pixels, expected rows and cols > 0", images_file, images.dims[1],
        images.dims[2]);
  check(labels.dims.size() == 1, "Idx::load", "{}: labels have dims {}, expected 1 (count)",
        labels_file, fmt::join(labels.dims, "x"));
  const int64_t n = images.dims[0], rows = images.dims[1], cols = images.dims[2];
  check(labels.dims[0] == n, "Idx::load", "{} holds {} labels but {} holds {} images", labels_file,
        labels.dims[0], images_file, n);

  const Shape shape =
      opt.layout == ImageLayout::Flat ? Shape{n, rows * cols} : Shape{n, 1, rows, cols};
  Tensor x = Tensor::empty(shape);
  float* px = x.data<float>();
  for (size_t i = 0; i < images.values.size(); ++i) px[i] = float(images.values[i]) / 255.0f;
  Tensor y = Tensor::empty({n}, {.dtype = DType::I64});
  int64_t* py = y.data<int64_t>();
  for (size_t i = 0; i < labels.values.size(); ++i) py[i] = labels.values[i];
  return Dataset(x, y);
}

}  // namespace descent::data
