#include <descent/core/atomic_file.h>
#include <descent/core/json.h>
#include <descent/core/safetensors.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <functional>
#include <system_error>

namespace descent {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; big-endian hosts would need byte swaps");

namespace {

constexpr std::string_view kMetadataKey = "__metadata__";
// Metadata "descent.crc32.<tensor>" = 8 lowercase hex digits: the CRC-32 of the tensor's
// bytes, written by save and checked by load, so a damaged file is an error rather than
// wrong weights. Files without it (PyTorch's) load unchecked; readers that do not know
// it see one more metadata string.
constexpr std::string_view kChecksumPrefix = "descent.crc32.";

uint32_t crc32_of(const void* data, size_t n) {
  return uint32_t(::crc32_z(::crc32_z(0, nullptr, 0), static_cast<const Bytef*>(data), n));
}

// dtype names the format defines but descent has no type for.
constexpr std::string_view kForeignDtypes[] = {"I8",  "U8",  "I16",     "U16",
                                               "U32", "U64", "F8_E5M2", "F8_E4M3"};

constexpr DType kAllDtypes[] = {DType::F64, DType::F32, DType::F16, DType::BF16,
                                DType::I64, DType::I32, DType::Bool};

// One tensor as the header describes it.
struct Entry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;
  uint64_t nbytes = 0;  // shape × element size
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
};

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

DType parse_dtype(const std::string& s, std::string_view who, const std::string& name) {
  for (DType t : kAllDtypes) {
    if (s == safetensors_dtype_name(t)) return t;
  }
  for (std::string_view f : kForeignDtypes) {
    check(s != f, who,
          "tensor '{}': dtype {} is not supported by descent (supported: F64, F32, "
          "F16, BF16, I64, I32, BOOL)",
          name, s);
  }
  fail(who, fmt::format("tensor '{}': unknown dtype '{}' (expected one of F64, F32, F16, BF16, "
                        "I64, I32, BOOL)",
                        name, s));
}

const json::Value& field(const json::Value& entry, std::string_view key, json::Value::Kind kind,
                         std::string_view who, const std::string& name) {
  const json::Value* v = entry.find(key);
  check(v != nullptr, who, "tensor '{}': missing field \"{}\"", name, key);
  check(v->kind == kind, who, "tensor '{}': field \"{}\" is {}, expected {}", name, key,
        json::kind_name(v->kind), json::kind_name(kind));
  return *v;
}

Entry parse_entry(const std::string& raw_name, const json::Value& v, std::string_view who) {
  using Kind = json::Value::Kind;
  const std::string name = json::printable(raw_name);  // as messages show it
  check(v.kind == Kind::Object, who, "tensor '{}': entry is {}, expected an object", name,
        json::kind_name(v.kind));
  for (const auto& [key, _] : v.object) {
    check(key == "dtype" || key == "shape" || key == "data_offsets", who,
          "tensor '{}': unknown field \"{}\" (expected dtype, shape, data_offsets)", name, key);
  }
  Entry e;
  e.name = raw_name;
  e.dtype = parse_dtype(field(v, "dtype", Kind::String, who, name).string, who, name);

  const auto& dims = field(v, "shape", Kind::Array, who, name).array;
  check(dims.size() <= size_t(kMaxDims), who, "tensor '{}': shape has {} dims, at most {} allowed",
        name, dims.size(), kMaxDims);
  // Count bytes in unsigned 64-bit arithmetic and refuse anything that overflows it or
  // int64 (the element count type). Empty tensors need the check too: their row-major
  // strides multiply the other dims and must fit in int64.
  uint64_t numel = 1, stride_span = 1;
  bool overflow = false;
  for (const json::Value& d : dims) {
    check(d.kind == Kind::Integer, who, "tensor '{}': shape entry is {}, expected an integer", name,
          json::kind_name(d.kind));
    check(d.integer >= 0, who, "tensor '{}': shape has negative dim {}", name, d.integer);
    e.shape.push_back(d.integer);
    overflow |= __builtin_mul_overflow(numel, uint64_t(d.integer), &numel);
    overflow |= __builtin_mul_overflow(stride_span, std::max<uint64_t>(uint64_t(d.integer), 1),
                                       &stride_span);
  }
  overflow |= numel > uint64_t(INT64_MAX) || stride_span > uint64_t(INT64_MAX) ||
              __builtin_mul_overflow(numel, uint64_t(dtype_size(e.dtype)), &e.nbytes);
  check(!overflow, who, "tensor '{}': shape {} of {} overflows 64-bit sizes", name, e.shape,
        safetensors_dtype_name(e.dtype));

  const auto& off = field(v, "data_offsets", Kind::Array, who, name).array;
  check(off.size() == 2, who, "tensor '{}': data_offsets has {} entries, expected 2 [begin, end]",
        name, off.size());
  for (const json::Value& o : off) {
    check(o.kind == Kind::Integer, who,
          "tensor '{}': data_offsets entry is {}, expected an integer", name,
          json::kind_name(o.kind));
    check(o.integer >= 0, who, "tensor '{}': data_offsets has negative entry {}", name, o.integer);
  }
  e.begin = uint64_t(off[0].integer);
  e.end = uint64_t(off[1].integer);
  check(e.begin <= e.end, who, "tensor '{}': data_offsets [{}, {}] end before they begin", name,
        e.begin, e.end);
  check(e.end - e.begin == e.nbytes, who,
        "tensor '{}': data_offsets [{}, {}] hold {} bytes, but shape {} of {} needs {}", name,
        e.begin, e.end, e.end - e.begin, e.shape, safetensors_dtype_name(e.dtype), e.nbytes);
  return e;
}

Header parse_header(std::string_view text, uint64_t buffer_bytes, std::string_view who) {
  using Kind = json::Value::Kind;
  const json::Value root = json::parse(text, who);
  check(root.kind == Kind::Object, who, "header is {}, expected a JSON object",
        json::kind_name(root.kind));
  Header h;
  for (const auto& [name, v] : root.object) {
    if (name == kMetadataKey) {
      check(v.kind == Kind::Object, who, "\"__metadata__\" is {}, expected an object",
            json::kind_name(v.kind));
      for (const auto& [k, s] : v.object) {
        check(s.kind == Kind::String, who, "metadata '{}' is {}, expected a string",
              json::printable(k), json::kind_name(s.kind));
        h.metadata[k] = s.string;
      }
      continue;
    }
    h.entries.push_back(parse_entry(name, v, who));
  }
  // The tensors must tile [0, buffer_bytes) exactly, as the reference reader demands.
  std::vector<const Entry*> order;
  for (const Entry& e : h.entries) {
    check(e.end <= buffer_bytes, who,
          "tensor '{}': data_offsets [{}, {}] reach past the data buffer ({} bytes)",
          json::printable(e.name), e.begin, e.end, buffer_bytes);
    order.push_back(&e);
  }
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t cursor = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : order) {
    if (e->begin < cursor) {
      fail(who, fmt::format("tensor '{}': data_offsets [{}, {}] overlap tensor '{}' [{}, {}]",
                            json::printable(e->name), e->begin, e->end, json::printable(prev->name),
                            prev->begin, prev->end));
    }
    check(e->begin == cursor, who,
          "tensor '{}': data_offsets [{}, {}] leave bytes [{}, {}) of the buffer unused",
          json::printable(e->name), e->begin, e->end, cursor, e->begin);
    cursor = e->end;
    prev = e;
  }
  check(cursor == buffer_bytes, who,
        "the tensors end at byte {} of the data buffer, but it holds {} bytes", cursor,
        buffer_bytes);
  return h;
}

// Random access to the file's bytes; read() throws when it cannot deliver all n.
struct Source {
  uint64_t size = 0;
  std::function<void(uint64_t offset, void* dst, size_t n)> read;
};

SafetensorsFile load(const Source& src, std::string_view who) {
  check(src.size >= 8, who, "file is {} bytes, shorter than the 8-byte header length", src.size);
  unsigned char len_bytes[8];
  src.read(0, len_bytes, 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  check(n <= kSafetensorsMaxHeaderBytes, who,
        "header length {} exceeds the limit of {} bytes (corrupt file?)", n,
        kSafetensorsMaxHeaderBytes);
  check(n <= src.size - 8, who, "header length {} reaches past the end of the file ({} bytes)", n,
        src.size);
  std::string text(n, '\0');
  src.read(8, text.data(), n);
  const uint64_t data_start = 8 + n;
  const Header h = parse_header(text, src.size - data_start, who);

  SafetensorsFile out;
  std::map<std::string, std::string> checksums;
  for (const auto& [k, v] : h.metadata) {
    if (k.starts_with(kChecksumPrefix)) {
      checksums.emplace(k.substr(kChecksumPrefix.size()), v);
    } else {
      out.metadata.emplace(k, v);
    }
  }
  for (const auto& [name, _] : checksums) {
    check(std::any_of(h.entries.begin(), h.entries.end(),
                      [&](const Entry& e) { return e.name == name; }),
          who, "metadata has a checksum for tensor '{}', which the file does not hold",
          json::printable(name));
  }
  for (const Entry& e : h.entries) {
    Tensor t = Tensor::empty(e.shape, {.dtype = e.dtype});
    if (e.nbytes > 0) src.read(data_start + e.begin, t.raw_data(), e.nbytes);
    if (auto it = checksums.find(e.name); it != checksums.end()) {
      const std::string want = fmt::format("{:08x}", crc32_of(t.raw_data(), e.nbytes));
      check(it->second == want, who,
            "tensor '{}': its bytes have CRC-32 {} but the file recorded {}: the file is "
            "damaged",
            json::printable(e.name), want, json::printable(it->second));
    }
    if (e.dtype == DType::Bool) {
      // Any byte but 0 or 1 would be undefined behaviour once read as a C++ bool.
      const auto* b = static_cast<const unsigned char*>(t.raw_data());
      for (uint64_t i = 0; i < e.nbytes; ++i) {
        check(b[i] <= 1, who, "tensor '{}': BOOL element {} is byte {}, expected 0 or 1",
              json::printable(e.name), i, b[i]);
      }
    }
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

// The tensors as they will be written: contiguous CPU copies in buffer order.
struct Prepared {
  std::string header;  // length field + padded JSON
  std::vector<std::pair<std::string, Tensor>> tensors;
};

Prepared prepare(const std::map<std::string, Tensor>& tensors,
                 const std::map<std::string, std::string>& metadata, std::string_view op) {
  Prepared p;
  for (const auto& [name, t] : tensors) {
    check(t.defined(), op, "tensor '{}' is undefined", json::printable(name));
    check(name != kMetadataKey, op, "tensor name \"__metadata__\" is reserved for metadata");
    check(json::is_valid_utf8(name), op, "tensor name '{}' is not valid UTF-8",
          json::printable(name));
    p.tensors.emplace_back(name, t.detach().to(Device::CPU).contiguous());
  }
  std::map<std::string, std::string> all_metadata = metadata;
  for (const auto& [k, v] : metadata) {
    check(json::is_valid_utf8(k) && json::is_valid_utf8(v), op,
          "metadata '{}' is not valid UTF-8 (key or value)", json::printable(k));
    check(!k.starts_with(kChecksumPrefix), op,
          "metadata key '{}' uses the prefix '{}', which holds the tensors' checksums",
          json::printable(k), kChecksumPrefix);
  }
  for (const auto& [name, t] : p.tensors) {
    all_metadata[std::string(kChecksumPrefix) + name] =
        fmt::format("{:08x}", crc32_of(t.raw_data(), size_t(t.numel()) * t.element_size()));
  }
  // Largest elements first keeps every tensor aligned to its element size.
  std::stable_sort(p.tensors.begin(), p.tensors.end(), [](const auto& a, const auto& b) {
    return a.second.element_size() > b.second.element_size();
  });
  std::string js = "{";
  if (!all_metadata.empty()) {
    json::append_string(js, kMetadataKey);
    js += ":{";
    bool first = true;
    for (const auto& [k, v] : all_metadata) {
      if (!first) js += ',';
      first = false;
      json::append_string(js, k);
      js += ':';
      json::append_string(js, v);
    }
    js += '}';
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : p.tensors) {
    if (js.size() > 1) js += ',';
    json::append_string(js, name);
    const uint64_t nbytes = uint64_t(t.numel()) * t.element_size();
    js += fmt::format(R"(:{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}})",
                      safetensors_dtype_name(t.dtype()), fmt::join(t.shape(), ","), offset,
                      offset + nbytes);
    offset += nbytes;
  }
  js += '}';
  js.resize((js.size() + 7) / 8 * 8, ' ');
  p.header.resize(8);
  uint64_t n = js.size();
  for (int i = 0; i < 8; ++i, n >>= 8) p.header[i] = char(n & 0xff);
  p.header += js;
  return p;
}

void emit(const Prepared& p, const std::function<void(const void*, size_t)>& sink) {
  sink(p.header.data(), p.header.size());
  for (const auto& [_, t] : p.tensors) {
    const size_t nbytes = size_t(t.numel()) * t.element_size();
    if (nbytes > 0) sink(t.raw_data(), nbytes);
  }
}

}  // namespace

std::string_view safetensors_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const Prepared p = prepare(tensors, metadata, fmt::format("save_safetensors: '{}'", path));
  write_file_atomic(
      path, [&](AtomicWriter& w) { emit(p, [&](const void* d, size_t n) { w.write(d, n); }); });
}

std::vector<std::byte> safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                                         const std::map<std::string, std::string>& metadata) {
  const Prepared p = prepare(tensors, metadata, "safetensors_bytes");
  std::vector<std::byte> out;
  emit(p, [&](const void* d, size_t n) {
    const auto* b = static_cast<const std::byte*>(d);
    out.insert(out.end(), b, b + n);
  });
  return out;
}

SafetensorsFile parse_safetensors(std::span<const std::byte> bytes, std::string_view source) {
  const std::string who = fmt::format("load_safetensors: '{}'", source);
  Source src{.size = bytes.size(), .read = [&](uint64_t off, void* dst, size_t n) {
               // load() only asks for ranges it has checked against the size.
               std::memcpy(dst, bytes.data() + off, n);
             }};
  return load(src, who);
}

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string who = fmt::format("load_safetensors: '{}'", path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, who, "cannot open: {}", errno_text(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  check(::fstat(fd, &st) == 0, who, "cannot stat: {}", errno_text(errno));
  check(S_ISREG(st.st_mode), who, "not a regular file");
  Source src{.size = uint64_t(st.st_size), .read = [&](uint64_t off, void* dst, size_t n) {
               auto* p = static_cast<char*>(dst);
               while (n > 0) {
                 const ssize_t r = ::pread(fd, p, n, off_t(off));
                 if (r < 0 && errno == EINTR) continue;
                 check(r >= 0, who, "cannot read: {}", errno_text(errno));
                 check(r > 0, who, "file ended at byte {} while reading (changed underneath?)",
                       off);
                 p += r;
                 off += uint64_t(r);
                 n -= size_t(r);
               }
             }};
  return load(src, who);
}

}  // namespace descent
