// Printing: the expected strings are PyTorch 1.13's str(tensor) for the same values,
// with descent's dtype names (f64 for torch.float64) and size=[..] for torch's (..).
#include <limits>
#include <sstream>

#include "testing/gradcheck.h"

using namespace descent;

namespace {

Tensor f32(const std::vector<float>& v, const Shape& shape) { return from_vector(v, shape); }
Tensor f32(const std::vector<float>& v) { return from_vector(v); }

}  // namespace

TEST(Print, FloatMatrix) {
  EXPECT_EQ(to_string(f32({0.1f, -1.2f, 3.f, 4.f}, {2, 2})),
            "tensor([[ 0.1000, -1.2000],\n"
            "        [ 3.0000,  4.0000]])");
}

TEST(Print, ZeroDim) {
  EXPECT_EQ(to_string(scalar_tensor(3.5)), "tensor(3.5000)");
  EXPECT_EQ(to_string(scalar_tensor(7, {.dtype = DType::I64})), "tensor(7)");
}

TEST(Print, IntegersAndBools) {
  EXPECT_EQ(to_string(from_vector<int64_t>({1, -2, 10})), "tensor([ 1, -2, 10])");
  EXPECT_EQ(to_string(from_vector<int32_t>({1, -2, 10})), "tensor([ 1, -2, 10], dtype=i32)");
  EXPECT_EQ(to_string(from_vector<int64_t>({1, 0}).to(DType::Bool)), "tensor([ True, False])");
  EXPECT_EQ(to_string(from_vector<int64_t>({1, 0, 1}, {1, 3}).to(DType::Bool)),
            "tensor([[ True, False,  True]])");
  EXPECT_EQ(to_string(arange(12, {.dtype = DType::I64}).reshape({2, 3, 2})),
            "tensor([[[ 0,  1],\n"
            "         [ 2,  3],\n"
            "         [ 4,  5]],\n"
            "\n"
            "        [[ 6,  7],\n"
            "         [ 8,  9],\n"
            "         [10, 11]]])");
}

TEST(Print, FloatModes) {
  // Integer-valued floats print with a trailing dot.
  EXPECT_EQ(to_string(f32({1, 2, -3})), "tensor([ 1.,  2., -3.])");
  EXPECT_EQ(to_string(zeros({3})), "tensor([0., 0., 0.])");
  // Scientific notation when the magnitudes span more than 1000x, exceed 1e8 or go
  // below 1e-4.
  EXPECT_EQ(to_string(f32({1e-5f, 1.0f})), "tensor([1.0000e-05, 1.0000e+00])");
  EXPECT_EQ(to_string(f32({123456789.0f, 1.5f})), "tensor([1.2346e+08, 1.5000e+00])");
  EXPECT_EQ(to_string(f32({1, 1e4f})), "tensor([1.0000e+00, 1.0000e+04])");
  EXPECT_EQ(to_string(f32({1e10f, -3, 0})), "tensor([ 1.0000e+10, -3.0000e+00,  0.0000e+00])");
  EXPECT_EQ(to_string(f32({-0.0f, 1.25f})), "tensor([-0.0000, 1.2500])");
}

TEST(Print, NonFinite) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(to_string(f32({nan, inf, -inf, 1.5f})), "tensor([   nan,    inf,   -inf, 1.5000])");
  EXPECT_EQ(to_string(f32({-nan, 0})), "tensor([nan, 0.])");
}

TEST(Print, OtherFloatDtypes) {
  EXPECT_EQ(to_string(from_vector<double>({0.5, -0.25})), "tensor([ 0.5000, -0.2500], dtype=f64)");
  // 16-bit values print converted: bf16(0.1) is 0.10009765625.
  EXPECT_EQ(to_string(f32({0.1f, 1.0f}).to(DType::F16)), "tensor([0.1000, 1.0000], dtype=f16)");
  EXPECT_EQ(to_string(f32({0.1f, -2.5f}, {1, 2}).to(DType::BF16)),
            "tensor([[ 0.1001, -2.5000]], dtype=bf16)");
}

TEST(Print, WrapsLongRowsAt80Columns) {
  EXPECT_EQ(to_string(arange(30) * 0.5),
            "tensor([ 0.0000,  0.5000,  1.0000,  1.5000,  2.0000,  2.5000,  3.0000,  3.5000,\n"
            "         4.0000,  4.5000,  5.0000,  5.5000,  6.0000,  6.5000,  7.0000,  7.5000,\n"
            "         8.0000,  8.5000,  9.0000,  9.5000, 10.0000, 10.5000, 11.0000, 11.5000,\n"
            "        12.0000, 12.5000, 13.0000, 13.5000, 14.0000, 14.5000])");
}

TEST(Print, NonContiguousViews) {
  EXPECT_EQ(to_string(arange(6).reshape({2, 3}).t()),
            "tensor([[0., 3.],\n"
            "        [1., 4.],\n"
            "        [2., 5.]])");
  EXPECT_EQ(to_string(arange(24).reshape({2, 3, 4}).permute({2, 0, 1}).slice(0, 1, 3)),
            "tensor([[[ 1.,  5.,  9.],\n"
            "         [13., 17., 21.]],\n"
            "\n"
            "        [[ 2.,  6., 10.],\n"
            "         [14., 18., 22.]]])");
  EXPECT_EQ(to_string(f32({1, 2}).expand({2, 2})),
            "tensor([[1., 2.],\n"
            "        [1., 2.]])");
  EXPECT_EQ(to_string(arange(2000, {.dtype = DType::I64}).reshape({50, 40}).t()),
            "tensor([[   0,   40,   80,  ..., 1880, 1920, 1960],\n"
            "        [   1,   41,   81,  ..., 1881, 1921, 1961],\n"
            "        [   2,   42,   82,  ..., 1882, 1922, 1962],\n"
            "        ...,\n"
            "        [  37,   77,  117,  ..., 1917, 1957, 1997],\n"
            "        [  38,   78,  118,  ..., 1918, 1958, 1998],\n"
            "        [  39,   79,  119,  ..., 1919, 1959, 1999]])");
}

TEST(Print, ElidesAbove1000Elements) {
  EXPECT_EQ(to_string(arange(1001, {.dtype = DType::I64})),
            "tensor([   0,    1,    2,  ...,  998,  999, 1000])");
  // The formatter only sees the shown values (here they decide scientific notation).
  EXPECT_EQ(to_string(arange(2000).reshape({40, 50}) / 7.0),
            "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 6.7143e+00, 6.8571e+00,\n"
            "         7.0000e+00],\n"
            "        [7.1429e+00, 7.2857e+00, 7.4286e+00,  ..., 1.3857e+01, 1.4000e+01,\n"
            "         1.4143e+01],\n"
            "        [1.4286e+01, 1.4429e+01, 1.4571e+01,  ..., 2.1000e+01, 2.1143e+01,\n"
            "         2.1286e+01],\n"
            "        ...,\n"
            "        [2.6429e+02, 2.6443e+02, 2.6457e+02,  ..., 2.7100e+02, 2.7114e+02,\n"
            "         2.7129e+02],\n"
            "        [2.7143e+02, 2.7157e+02, 2.7171e+02,  ..., 2.7814e+02, 2.7829e+02,\n"
            "         2.7843e+02],\n"
            "        [2.7857e+02, 2.7871e+02, 2.7886e+02,  ..., 2.8529e+02, 2.8543e+02,\n"
            "         2.8557e+02]])");
  const std::string s = to_string(arange(1200, {.dtype = DType::I64}).reshape({10, 10, 12}));
  EXPECT_TRUE(
      s.starts_with("tensor([[[   0,    1,    2,  ...,    9,   10,   11],\n"
                    "         [  12,   13,   14,  ...,   21,   22,   23],\n"
                    "         [  24,   25,   26,  ...,   33,   34,   35],\n"
                    "         ...,\n"))
      << s;
  EXPECT_NE(s.find("         [ 348,  349,  350,  ...,  357,  358,  359]],\n"
                   "\n"
                   "        ...,\n"
                   "\n"
                   "        [[ 840,  841,  842,  ...,  849,  850,  851],\n"),
            std::string::npos)
      << s;
  EXPECT_TRUE(s.ends_with(",\n         [1188, 1189, 1190,  ..., 1197, 1198, 1199]]])")) << s;
}

TEST(Print, EmptyTensors) {
  EXPECT_EQ(to_string(zeros({0, 3})), "tensor([], size=[0, 3])");
  EXPECT_EQ(to_string(zeros({0})), "tensor([])");
  EXPECT_EQ(to_string(zeros({0}, {.dtype = DType::I64})), "tensor([], dtype=i64)");
  EXPECT_EQ(to_string(zeros({2, 0}, {.dtype = DType::Bool})),
            "tensor([], size=[2, 0], dtype=bool)");
}

TEST(Print, AutogradSuffixes) {
  Tensor x = f32({1.5f, 2.f});
  x.requires_grad_();
  EXPECT_EQ(to_string(x), "tensor([1.5000, 2.0000], requires_grad=True)");
  EXPECT_EQ(to_string(x * x), "tensor([2.2500, 4.0000], grad_fn=<mul>)");
  EXPECT_EQ(to_string((x * x).detach()), "tensor([2.2500, 4.0000])");
  Tensor d = from_vector<double>({0.5, -0.25});
  d.requires_grad_();
  EXPECT_EQ(to_string(d), "tensor([ 0.5000, -0.2500], dtype=f64, requires_grad=True)");
  // Suffixes that do not fit in 80 columns go on their own line.
  Tensor m = arange(40, {.dtype = DType::F64}).reshape({5, 8}) * 0.37 - 7.0;
  m.requires_grad_();
  EXPECT_EQ(to_string(m),
            "tensor([[-7.0000, -6.6300, -6.2600, -5.8900, -5.5200, -5.1500, -4.7800, -4.4100],\n"
            "        [-4.0400, -3.6700, -3.3000, -2.9300, -2.5600, -2.1900, -1.8200, -1.4500],\n"
            "        [-1.0800, -0.7100, -0.3400,  0.0300,  0.4000,  0.7700,  1.1400,  1.5100],\n"
            "        [ 1.8800,  2.2500,  2.6200,  2.9900,  3.3600,  3.7300,  4.1000,  4.4700],\n"
            "        [ 4.8400,  5.2100,  5.5800,  5.9500,  6.3200,  6.6900,  7.0600,  7.4300]],\n"
            "       dtype=f64, requires_grad=True)");
}

TEST(Print, StreamAndFmtAgree) {
  Tensor x = f32({0.1f, -1.2f, 3.f, 4.f}, {2, 2});
  std::ostringstream os;
  os << x;
  EXPECT_EQ(os.str(), to_string(x));
  EXPECT_EQ(fmt::format("{}", x), to_string(x));
  EXPECT_EQ(fmt::format("x = {}", scalar_tensor(0.25)), "x = tensor(0.2500)");
  EXPECT_EQ(to_string(Tensor()), "tensor(undefined)");
}
