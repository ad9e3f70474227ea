// safetensors files: round trips of every dtype (0-dim, empty, views), the header
// layout the reference implementation expects, PyTorch interop both ways, StateDict
// files, and one test per validation error on read and on write.
#include <descent/core/atomic_file.h>
#include <descent/core/safetensors.h>
#include <descent/core/state_dict_file.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "safetensors_testing.h"
#include "testing/fixtures.h"
#include "testing/gradcheck.h"

using namespace descent;
using descent::testing::make_image;
using descent::testing::raw_bytes;
using descent::testing::ScratchDir;

namespace {

// A tensor of every dtype, plus 0-dim, empty and non-contiguous ones.
std::map<std::string, Tensor> sample_tensors() {
  Generator gen(11);
  std::map<std::string, Tensor> m;
  m["f32"] = randn({3, 4}, {}, &gen);
  m["f64"] = randn({2, 2, 2}, {.dtype = DType::F64}, &gen);
  m["f16"] = randn({5}, {}, &gen).to(DType::F16);
  m["bf16"] = randn({2, 3}, {}, &gen).to(DType::BF16);
  m["i64"] = from_vector<int64_t>(
      {std::numeric_limits<int64_t>::min(), -1, 0, 7, std::numeric_limits<int64_t>::max()});
  m["i32"] = from_vector<int32_t>({-5, 0, 5, 1 << 30}, {2, 2});
  m["bool"] = from_vector<bool>({true, false, false, true, true, false}, {3, 2});
  m["scalar"] = scalar_tensor(-1.25, {.dtype = DType::F64});
  m["empty"] = zeros({0, 4}, {.dtype = DType::I32});
  m["transposed"] = arange(12.0).reshape({3, 4}).t();
  m["sliced"] = arange(0.0, 30.0, 1.0, {.dtype = DType::I64}).slice(0, 5, 25, 3);
  m["needs_grad"] = randn({2}, {.requires_grad = true}, &gen);
  return m;
}

void expect_same(const std::map<std::string, Tensor>& want,
                 const std::map<std::string, Tensor>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << name;
    const Tensor& g = it->second;
    EXPECT_EQ(g.dtype(), w.dtype()) << name;
    EXPECT_EQ(g.shape(), w.shape()) << name;
    EXPECT_TRUE(g.is_contiguous() && g.device().is_cpu() && !g.requires_grad()) << name;
    EXPECT_EQ(raw_bytes(g), raw_bytes(w)) << name;
  }
}

const std::map<std::string, std::string> kMetadata = {
    {"format", "pt"}, {"quote\"back\\slash", "tab\tnl\nctl\x01"}, {"utf8 é 中 😀", "ok"}};

}  // namespace

TEST(Safetensors, RoundTripEveryDtypeThroughAFile) {
  ScratchDir dir;
  const auto tensors = sample_tensors();
  save_safetensors(dir.file("a.safetensors"), tensors, kMetadata);
  const SafetensorsFile f = load_safetensors(dir.file("a.safetensors"));
  expect_same(tensors, f.tensors);
  EXPECT_EQ(f.metadata, kMetadata);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.safetensors"});  // no temp file left
}

TEST(Safetensors, BytesInMemoryEqualTheFile) {
  ScratchDir dir;
  const auto tensors = sample_tensors();
  save_safetensors(dir.file("a.safetensors"), tensors, kMetadata);
  const auto bytes = safetensors_bytes(tensors, kMetadata);
  EXPECT_EQ(read_file_bytes(dir.file("a.safetensors"), "test"), bytes);
  expect_same(tensors, parse_safetensors(bytes).tensors);
}

TEST(Safetensors, HeaderLayoutFollowsTheReferenceWriter) {
  // Largest elements first, then by name; header padded with spaces to 8 bytes.
  const std::map<std::string, Tensor> t = {{"b", from_vector<int32_t>({1, 2, 3})},
                                           {"a", from_vector<bool>({true})},
                                           {"c", scalar_tensor(2.0, {.dtype = DType::F64})}};
  const std::string s = descent::testing::to_string(safetensors_bytes(t, {{"k", "v"}}));
  uint64_t n = 0;
  std::memcpy(&n, s.data(), 8);
  ASSERT_EQ(s.size(), 8 + n + 8 + 12 + 1);
  EXPECT_EQ((8 + n) % 8, 0u);
  // Each tensor's CRC-32 (zlib's, of its bytes in the buffer) sits in the metadata.
  const auto crc = [&](size_t begin, size_t end) {
    const auto* p = reinterpret_cast<const Bytef*>(s.data() + 8 + n + begin);
    return fmt::format("{:08x}", ::crc32(::crc32(0, nullptr, 0), p, uInt(end - begin)));
  };
  const std::string json =
      fmt::format(R"({{"__metadata__":{{"descent.crc32.a":"{}","descent.crc32.b":"{}",)"
                  R"("descent.crc32.c":"{}","k":"v"}},)"
                  R"("c":{{"dtype":"F64","shape":[],"data_offsets":[0,8]}},)"
                  R"("b":{{"dtype":"I32","shape":[3],"data_offsets":[8,20]}},)"
                  R"("a":{{"dtype":"BOOL","shape":[1],"data_offsets":[20,21]}}}})",
                  crc(20, 21), crc(8, 20), crc(0, 8));
  EXPECT_EQ(s.substr(8, n), json + std::string(n - json.size(), ' '));
  EXPECT_LT(n - json.size(), 8u);
}

TEST(Safetensors, ReadsTorchFixtureExactly) {
  const SafetensorsFile f =
      load_safetensors(descent::testing::test_data_path("safetensors/from_torch.safetensors"));
  const auto expected = descent::testing::read_fixtures(
      descent::testing::test_data_path("safetensors/from_torch.expected.txt"));
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(f.tensors.size(), expected.size());
  ASSERT_EQ(f.tensors.size(), 28u);
  const std::map<std::string, DType> dtype_of_prefix = {
      {"f64", DType::F64}, {"f32", DType::F32}, {"f16", DType::F16},  {"bf16", DType::BF16},
      {"i64", DType::I64}, {"i32", DType::I32}, {"bool", DType::Bool}};
  int zero_dim = 0, empty = 0, nans = 0;
  for (const auto& [name, want] : expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(f.tensors.contains(name));
    const Tensor& got = f.tensors.at(name);
    EXPECT_EQ(got.dtype(), dtype_of_prefix.at(name.substr(0, name.find('.'))));
    EXPECT_EQ(got.shape(), want.shape());
    zero_dim += got.dim() == 0;
    empty += got.numel() == 0;
    const auto g = got.to_vector<double>(), w = want.to_vector<double>();
    ASSERT_EQ(g.size(), w.size());
    for (size_t i = 0; i < g.size(); ++i) {
      if (std::isnan(w[i])) {
        EXPECT_TRUE(std::isnan(g[i])) << i;
        ++nans;
      } else {
        EXPECT_EQ(g[i], w[i]) << i;  // exact, and -0 stays -0
        EXPECT_EQ(std::signbit(g[i]), std::signbit(w[i])) << i;
      }
    }
  }
  EXPECT_EQ(zero_dim, 7);
  EXPECT_EQ(empty, 7);
  EXPECT_EQ(nans, 4);
}

// The torch-side check of descent's output: the same tensors torch made, descent's
// own views, and a StateDict's numbers and strings (tests/oracle/safetensors_interop.py).
TEST(Safetensors, TorchReadsDescentFile) {
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "SKIPPED: /usr/bin/python3 cannot import torch and numpy "
                    "(apt-get install python3-torch); interop check not run";
  }
  StateDict sd;
  sd.tensors =
      load_safetensors(descent::testing::test_data_path("safetensors/from_torch.safetensors"))
          .tensors;
  sd.tensors["descent.transposed"] = arange(12.0).reshape({3, 4}).t();
  sd.tensors["descent.sliced"] = arange(0.0, 20.0, 1.0, {.dtype = DType::I64}).slice(0, 3, 17, 2);
  sd.tensors["descent.expanded"] = from_vector<double>({1.5, -2.0}).reshape({1, 2}).expand({3, 2});
  sd.numbers = {{"lr", 1e-3},     {"step", 12345},    {"third", 1.0 / 3.0},
                {"tiny", 5e-324}, {"neg_zero", -0.0}, {"big", std::ldexp(1.0, 60)},
                {"inf", INFINITY}};
  sd.strings = {{"name", "adam"}, {"unicode", "éè 中 😀 \"q\" \\ \n"}};
  ScratchDir dir;
  const std::string path = dir.file("from_descent.safetensors");
  save(sd, path);
  const std::string cmd =
      fmt::format("/usr/bin/python3 '{}' check '{}' 2>&1",
                  descent::testing::test_data_path("../oracle/safetensors_interop.py"), path);
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(
      out.find("31 tensors and 10 metadata entries match torch; 31 CRC-32 checksums verified"),
      std::string::npos)
      << out;
}

TEST(StateDictFile, RoundTripsTensorsNumbersAndStringsExactly) {
  StateDict sd;
  sd.tensors = sample_tensors();
  const double specials[] = {0.1,
                             1.0 / 3.0,
                             -0.0,
                             5e-324,
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::min(),
                             std::ldexp(1.0, 53) + 2,
                             1e300,
                             -INFINITY,
                             INFINITY,
                             std::nextafter(1.0, 2.0)};
  for (size_t i = 0; i < std::size(specials); ++i) sd.numbers[fmt::format("n.{}", i)] = specials[i];
  sd.numbers["nan"] = NAN;
  sd.numbers["neg_nan"] = -NAN;
  sd.strings = {{"name", "adam"}, {"empty", ""}, {"esc", "a\"b\\c\n\x1f é"}};
  sd.strings["format"] = "not the file's own format key";
  ScratchDir dir;
  save(sd, dir.file("s.safetensors"));
  const StateDict back = load_state_dict_file(dir.file("s.safetensors"));
  expect_same(sd.tensors, back.tensors);
  EXPECT_EQ(back.strings, sd.strings);
  ASSERT_EQ(back.numbers.size(), sd.numbers.size());
  for (const auto& [k, v] : sd.numbers) {
    SCOPED_TRACE(k);
    ASSERT_TRUE(back.numbers.contains(k));
    if (std::isnan(v)) {
      EXPECT_TRUE(std::isnan(back.numbers.at(k)));
    } else {
      EXPECT_EQ(std::memcmp(&v, &back.numbers.at(k), sizeof v), 0) << back.numbers.at(k);
    }
  }
  // Readable as a plain safetensors file, numbers as short decimal strings.
  const SafetensorsFile raw = load_safetensors(dir.file("s.safetensors"));
  EXPECT_EQ(raw.metadata.at("format"), "descent.state_dict.v1");
  EXPECT_EQ(raw.metadata.at("number:n.0"), "0.1");
  EXPECT_EQ(raw.metadata.at("string:name"), "adam");
}

TEST(StateDictFile, ReadsForeignFilesAndRejectsBadNumbers) {
  const StateDict torch_file =
      load_state_dict_file(descent::testing::test_data_path("safetensors/from_torch.safetensors"));
  EXPECT_EQ(torch_file.tensors.size(), 28u);
  EXPECT_EQ(torch_file.strings, (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_TRUE(torch_file.numbers.empty());

  ScratchDir dir;
  for (const char* bad : {"", "1.5x", "one", "1e999"}) {
    save_safetensors(dir.file("bad.safetensors"), {}, {{"number:lr", bad}});
    EXPECT_THROW_MSG(load_state_dict_file(dir.file("bad.safetensors")),
                     fmt::format("metadata 'number:lr' = '{}' is not a number", bad));
  }
}

TEST(Safetensors, SaveRejectsBadInput) {
  ScratchDir dir;
  const std::string path = dir.file("x.safetensors");
  EXPECT_THROW_MSG(save_safetensors(path, {{"w", Tensor()}}), "tensor 'w' is undefined");
  EXPECT_THROW_MSG(save_safetensors(path, {{"__metadata__", ones({1})}}),
                   "\"__metadata__\" is reserved");
  EXPECT_THROW_MSG(save_safetensors(path, {{"bad\xff", ones({1})}}), "is not valid UTF-8");
  EXPECT_THROW_MSG(save_safetensors(path, {}, {{"k", "\xc0\x80"}}), "metadata 'k' is not valid");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Safetensors, LoadNamesTheFile) {
  ScratchDir dir;
  EXPECT_THROW_MSG(load_safetensors(dir.file("missing.safetensors")),
                   fmt::format("load_safetensors: '{}': cannot open: No such file or directory",
                               dir.file("missing.safetensors")));
  EXPECT_THROW_MSG(load_safetensors(dir.path()), "not a regular file");
  write_file_atomic(dir.file("short.safetensors"), std::string_view("abc"));
  EXPECT_THROW_MSG(load_safetensors(dir.file("short.safetensors")),
                   fmt::format("load_safetensors: '{}': file is 3 bytes, shorter than the 8-byte "
                               "header length",
                               dir.file("short.safetensors")));
}

namespace {

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return fmt::format(R"("{}":{{"dtype":"{}","shape":{},"data_offsets":{}}})", name, dtype, shape,
                     offsets);
}

void expect_rejected(const std::string& header, const std::string& buffer,
                     const std::string& message) {
  SCOPED_TRACE(header);
  try {
    parse_safetensors(make_image(header, buffer), "t.safetensors");
    ADD_FAILURE() << "expected an error containing: " << message;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("load_safetensors: 't.safetensors': ", 0), 0u) << what;
    EXPECT_NE(what.find(message), std::string::npos) << what;
  }
}

}  // namespace

TEST(Safetensors, LengthFieldErrors) {
  auto img = make_image("{}", "");
  img[0] = std::byte{200};
  EXPECT_THROW_MSG(parse_safetensors(img), "header length 200 reaches past the end of the file");
  img[0] = std::byte{0};
  img[7] = std::byte{0x80};
  EXPECT_THROW_MSG(parse_safetensors(img),
                   "header length 9223372036854775808 exceeds the limit of 100000000 bytes");
  EXPECT_THROW_MSG(parse_safetensors(std::span(img).first(7)), "file is 7 bytes, shorter");
}

TEST(Safetensors, HeaderErrors) {
  const std::string f32_6 = entry("w", "F32", "[2,3]", "[0,24]");
  const std::string buf24(24, '\0');
  expect_rejected("{\"w\":", buf24, "invalid JSON header at byte 5: expected a value");
  expect_rejected("{\"w\xff\":1}", "", "invalid JSON header: invalid UTF-8 at byte 3");
  expect_rejected("[1]", "", "header is an array, expected a JSON object");
  expect_rejected("{" + f32_6 + "," + f32_6 + "}", buf24, "duplicate key \"w\"");
  expect_rejected(R"({"w":[1]})", "", "tensor 'w': entry is an array, expected an object");
  expect_rejected(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "",
                  "tensor 'w': missing field \"dtype\"");
  expect_rejected(R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "",
                  "tensor 'w': field \"shape\" is a string, expected an array");
  expect_rejected(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", "",
                  "tensor 'w': unknown field \"x\"");
  expect_rejected("{" + entry("w", "F33", "[1]", "[0,4]") + "}", "", "unknown dtype 'F33'");
  expect_rejected("{" + entry("w", "U8", "[1]", "[0,1]") + "}", "",
                  "tensor 'w': dtype U8 is not supported by descent");
  expect_rejected("{" + entry("w", "F32", "[2,-3]", "[0,0]") + "}", "", "negative dim -3");
  expect_rejected("{" + entry("w", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") + "}", "",
                  "shape has 9 dims, at most 8 allowed");
  expect_rejected("{" + entry("w", "F32", "[4611686018427387904,4]", "[0,0]") + "}", "",
                  "shape [4611686018427387904, 4] of F32 overflows");
  expect_rejected("{" + entry("w", "F64", "[4611686018427387904]", "[0,0]") + "}", "",
                  "overflows 64-bit sizes");
  expect_rejected(R"({"__metadata__":{"k":1}})", "",
                  "metadata 'k' is an integer, expected a string");
  expect_rejected(R"({"__metadata__":[]})", "", "\"__metadata__\" is an array, expected an object");
}

TEST(Safetensors, HostileNamesAreShortenedInMessages) {
  const std::string name = "\\u001b[31m" + std::string(1000, 'n');  // JSON-escaped ESC
  try {
    parse_safetensors(make_image("{" + entry(name, "Q", "[1]", "[0,4]") + "}", "abcd"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tensor '\\x1b[31mnnn"), std::string::npos) << what;
    EXPECT_NE(what.find("... (1005 bytes)': unknown dtype 'Q'"), std::string::npos) << what;
    EXPECT_LT(what.size(), 200u);
  }
}

TEST(Safetensors, OffsetErrors) {
  const std::string buf24(24, '\0');
  expect_rejected("{" + entry("w", "F32", "[2,3]", "[0,20]") + "}", std::string(20, '\0'),
                  "tensor 'w': data_offsets [0, 20] hold 20 bytes, but shape [2, 3] of F32 needs "
                  "24");
  expect_rejected("{" + entry("w", "F32", "[2,3]", "[4,28]") + "}", buf24,
                  "tensor 'w': data_offsets [4, 28] reach past the data buffer (24 bytes)");
  expect_rejected("{" + entry("w", "F32", "[2,3]", "[0,24]") + "}", buf24 + "abcd",
                  "the tensors end at byte 24 of the data buffer, but it holds 28 bytes");
  expect_rejected("{" + entry("w", "F32", "[2,3]", "[4,28]") + "}", buf24 + "abcd",
                  "tensor 'w': data_offsets [4, 28] leave bytes [0, 4) of the buffer unused");
  expect_rejected(
      "{" + entry("a", "F32", "[4]", "[0,16]") + "," + entry("b", "F32", "[2]", "[8,16]") + "}",
      std::string(16, '\0'), "tensor 'b': data_offsets [8, 16] overlap tensor 'a' [0, 16]");
  expect_rejected("{" + entry("w", "F32", "[0]", "[8,4]") + "}", std::string(8, '\0'),
                  "data_offsets [8, 4] end before they begin");
  expect_rejected("{" + entry("w", "F32", "[1]", "[0,4,8]") + "}", std::string(8, '\0'),
                  "data_offsets has 3 entries, expected 2");
  expect_rejected("{" + entry("w", "F32", "[1]", "[-4,0]") + "}", "",
                  "data_offsets has negative entry -4");
  expect_rejected("{" + entry("w", "BOOL", "[3]", "[0,3]") + "}", std::string("\1\2\0", 3),
                  "tensor 'w': BOOL element 1 is byte 2, expected 0 or 1");
}

TEST(Safetensors, AcceptsEdgeCasesTheFormatAllows) {
  // No tensors at all, whitespace padding, escapes in names, empty tensors sharing an
  // offset with a neighbour, keys in any order.
  EXPECT_TRUE(parse_safetensors(make_image("{}", "")).tensors.empty());
  const std::string h = std::string(" \n{") +
                        entry("e\\u00e9\\ud83d\\ude00", "F16", "[0,2]", "[4,4]") + "," +
                        R"("x":{"data_offsets":[0,4],"shape":[],"dtype":"I32"})" + "," +
                        entry("z", "F64", "[0]", "[0,0]") + "}   ";
  const SafetensorsFile f = parse_safetensors(make_image(h, std::string("\x07\0\0\0", 4)));
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors.at("x").item<int64_t>(), 7);
  EXPECT_EQ(f.tensors.at("x").dim(), 0);
  EXPECT_EQ(f.tensors.at("e\xc3\xa9\xf0\x9f\x98\x80").shape(), (Shape{0, 2}));
}

// A flipped bit anywhere in a tensor's bytes is an error naming the tensor; files without
// checksums (PyTorch's) still load; the checksum keys are the library's own.
TEST(Safetensors, ChecksumsCatchDamagedTensors) {
  const std::map<std::string, Tensor> t = {{"w", arange(0, 6).reshape({2, 3})},
                                           {"b", from_vector<double>({1.5, -2})}};
  const std::vector<std::byte> good = safetensors_bytes(t, {{"k", "v"}});
  const SafetensorsFile back = parse_safetensors(good);
  EXPECT_EQ(back.metadata, (std::map<std::string, std::string>{{"k", "v"}}));  // keys hidden
  EXPECT_EQ(back.tensors.at("w").to_vector<float>(), t.at("w").to_vector<float>());
  uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  // The buffer holds b (f64, 16 bytes) first, then w: damage the last byte of w.
  std::vector<std::byte> bad = good;
  bad.back() ^= std::byte{0x01};
  EXPECT_THROW_MSG(parse_safetensors(bad, "m.safetensors"),
                   "load_safetensors: 'm.safetensors': tensor 'w': its bytes have CRC-32");
  EXPECT_THROW_MSG(parse_safetensors(bad), "the file is damaged");
  bad = good;
  bad[8 + n + 3] ^= std::byte{0x80};  // inside b
  EXPECT_THROW_MSG(parse_safetensors(bad), "tensor 'b': its bytes have CRC-32");
  EXPECT_THROW_MSG(safetensors_bytes(t, {{"descent.crc32.w", "0"}}),
                   "uses the prefix 'descent.crc32.'");
}
