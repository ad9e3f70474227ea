#pragma once
// Golden-value fixtures written by tests/oracle/gen_golden.py (format in
// tests/oracle/README.md): one tensor per line,
//   <name> <dtype> <ndim> <d0> ... <d(ndim-1)> <value0> <value1> ...
// with dtype f32, f64, i32, i64 or bool (0/1); floats may be nan, inf, -inf; lines that
// are blank or start with '#' are skipped.
#include <descent/descent.h>

#include <map>
#include <string>
#include <string_view>

namespace descent::testing {

using Fixtures = std::map<std::string, Tensor>;

// Parses fixture text; `source` names it in errors. Throws descent::Error
// ("fixtures: <source>:<line>: ...") for an unknown dtype, a bad ndim or dim, a
// malformed number, too few or too many values, or a name seen twice.
Fixtures parse_fixtures(std::string_view text, std::string_view source = "<text>");

// Reads and parses a fixture file; throws descent::Error when it cannot be read.
Fixtures read_fixtures(const std::string& path);

// The absolute path of `relative` under tests/data (DESCENT_TEST_DATA_DIR, from the
// environment when set there, else the build's).
std::string test_data_path(std::string_view relative);

}  // namespace descent::testing
