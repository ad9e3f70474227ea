#pragma once
// StateDict ↔ one safetensors file (core/safetensors.h), written atomically.
//
// Tensors are stored as safetensors tensors under their own keys, so PyTorch's
// safetensors.torch.load_file reads them as a plain state dict. Numbers and strings go
// to "__metadata__" (whose values must be strings), told apart by a key prefix:
//   "number:<key>"  the double in the shortest decimal form that reads back to the
//                   same bits (std::to_chars): "0.001", "1e-08", "inf", "-0", "nan"
//   "string:<key>"  the string itself
// plus "format": "descent.state_dict.v1". Every finite double, ±inf and -0 round-trip
// exactly (NaN stays NaN, its payload is not kept).
//
// load_state_dict_file also reads foreign files: metadata without a prefix (e.g.
// Hugging Face's "format": "pt") becomes a string under its own key. It throws
// descent::Error for anything load_safetensors rejects and for a "number:" entry that
// is not a number.
#include <descent/core/state_dict.h>

#include <string>

namespace descent {

void save(const StateDict& state, const std::string& path);
StateDict load_state_dict_file(const std::string& path);

}  // namespace descent
