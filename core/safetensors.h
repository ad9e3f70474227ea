#pragma once
// safetensors files (https://huggingface.co/docs/safetensors), the format PyTorch and
// Hugging Face read: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
//   {"__metadata__": {"k": "v"}, "w": {"dtype": "F32", "shape": [2, 3],
//                                      "data_offsets": [0, 24]}, ...}
// then the data buffer; offsets are relative to the buffer, tensors are row-major and
// tile the buffer exactly (sorted by offset, no holes, no overlaps).
//
// dtypes: F64 F32 F16 BF16 I64 I32 BOOL. Files with other safetensors dtypes (I8, U8,
// I16, U16, U32, U64, F8_*) are rejected naming the dtype.
//
// Checksums: the writer stores each tensor's CRC-32 (zlib's) in the metadata as
// "descent.crc32.<name>" (8 hex digits); the reader verifies them and fails naming the
// tensor when its bytes do not match, and hides these keys from the metadata it returns.
// Files without them (PyTorch's) load unchecked; the key prefix is reserved.
//
// Writing: save_safetensors is atomic (core/atomic_file.h). Tensors may be views, on
// any device, and need not be contiguous: each is copied to a contiguous CPU tensor
// first. The buffer holds tensors by element size (largest first), then by name, and
// the header is space-padded to a multiple of 8 bytes, so every tensor is aligned.
// Throws descent::Error for an undefined tensor, the reserved name "__metadata__", or
// names / metadata that are not valid UTF-8.
//
// Reading validates everything before it allocates tensor memory, so a corrupt or
// hostile file costs at most its own size and ends in a descent::Error that names the
// file and the problem ("load_safetensors: 'm.safetensors': tensor 'w': data_offsets
// [0, 20] hold 20 bytes, but shape [2, 3] of F32 needs 24"): a file shorter than 8
// bytes, a header length past the file or above kSafetensorsMaxHeaderBytes, invalid
// JSON or UTF-8, missing, mistyped or unknown fields, an unknown dtype, negative dims,
// more than kMaxDims dims or a byte size that overflows, offsets out of range,
// overlapping, leaving holes or not matching shape × dtype size, trailing bytes after
// the last tensor, duplicate names, and BOOL bytes other than 0 and 1.
#include <descent/core/tensor.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace descent {

// The reference implementation's limit: headers above it are treated as corrupt.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // contiguous CPU tensors, no requires_grad
  std::map<std::string, std::string> metadata;
};

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

SafetensorsFile load_safetensors(const std::string& path);

// The exact bytes save_safetensors writes, in memory.
std::vector<std::byte> safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                                         const std::map<std::string, std::string>& metadata = {});

// Reads a safetensors image from memory with the same validation as load_safetensors;
// `source` stands for the file name in errors.
SafetensorsFile parse_safetensors(std::span<const std::byte> bytes,
                                  std::string_view source = "<memory>");

// "F32", "BF16", ... as written in headers.
std::string_view safetensors_dtype_name(DType t);

}  // namespace descent
