// Printing, a port of torch/_tensor_str.py (PyTorch 1.13) with its default print
// options (precision 4, threshold 1000, edgeitems 3, linewidth 80), so that a tensor
// reads the same in descent as in Python. Only the dtype names differ (f64, not
// torch.float64). Values are read straight from the strided storage; a summarized
// tensor only touches the elements it shows.
#include <descent/core/grad_mode.h>
#include <descent/core/node.h>
#include <descent/ops/print.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

namespace descent {
namespace {

constexpr int kPrecision = 4;
constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdgeItems = 3;
constexpr int kLineWidth = 80;

enum class Kind { Floating, Integer, Boolean };

Kind kind_of(DType t) {
  if (is_floating(t)) return Kind::Floating;
  if (t == DType::Bool) return Kind::Boolean;
  return Kind::Integer;
}

// One element, widened: doubles for every floating dtype (16-bit ones converted, as
// torch does before printing), int64 for the integers and bool.
struct Value {
  double f = 0;
  int64_t i = 0;
};

// A CPU tensor's elements addressed by element offsets from its first element.
class Reader {
 public:
  explicit Reader(const Tensor& t) : base_(t.raw_data()), dtype_(t.dtype()) {}
  Value at(int64_t off) const {
    Value v;
    visit_dtype(dtype_, [&]<class T>() {
      const T x = static_cast<const T*>(base_)[off];
      if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) {
        v.i = int64_t(x);
      } else {
        v.f = double(compute_t<T>(x));
      }
    });
    return v;
  }

 private:
  const void* base_;
  DType dtype_;
};

// Python's "{}".format for a float: nan and inf without a sign on nan.
std::string format_nonfinite(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

// torch's _Formatter: picks fixed, integer-valued or scientific notation from the
// displayed values and the common width every element is padded to.
class Formatter {
 public:
  Formatter(Kind kind, const std::vector<Value>& values) : kind_(kind) {
    if (kind_ == Kind::Boolean) {
      for (const Value& v : values) width_ = std::max<size_t>(width_, v.i ? 4 : 5);
      return;
    }
    if (kind_ == Kind::Integer) {
      for (const Value& v : values) width_ = std::max(width_, fmt::formatted_size("{}", v.i));
      return;
    }
    std::vector<double> nz;  // nonzero finite values
    for (const Value& v : values) {
      if (std::isfinite(v.f) && v.f != 0) nz.push_back(v.f);
    }
    if (nz.empty()) return;
    double lo = std::abs(nz[0]), hi = lo;
    for (double v : nz) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    const bool wide_range = hi / lo > 1000.0 || hi > 1.0e8;
    sci_mode_ = int_mode_ ? wide_range : (wide_range || lo < 1.0e-4);
    for (double v : nz) {
      if (sci_mode_) {
        width_ = std::max(width_, fmt::formatted_size("{:.{}e}", v, kPrecision));
      } else if (int_mode_) {
        width_ = std::max(width_, fmt::formatted_size("{:.0f}", v) + 1);  // + "."
      } else {
        width_ = std::max(width_, fmt::formatted_size("{:.{}f}", v, kPrecision));
      }
    }
  }

  size_t width() const { return width_; }

  std::string format(const Value& v) const {
    std::string s;
    switch (kind_) {
      case Kind::Boolean: s = v.i ? "True" : "False"; break;
      case Kind::Integer: s = fmt::format("{}", v.i); break;
      case Kind::Floating:
        if (!std::isfinite(v.f)) {
          s = format_nonfinite(v.f);
        } else if (sci_mode_) {
          s = fmt::format("{:.{}e}", v.f, kPrecision);
        } else if (int_mode_) {
          s = fmt::format("{:.0f}.", v.f);
        } else {
          s = fmt::format("{:.{}f}", v.f, kPrecision);
        }
        break;
    }
    if (s.size() < width_) s.insert(0, width_ - s.size(), ' ');
    return s;
  }

 private:
  Kind kind_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  size_t width_ = 1;
};

class Printer {
 public:
  Printer(const Tensor& t, bool summarize)
      : reader_(t), shape_(t.shape()), strides_(t.strides()), summarize_(summarize) {}

  // The indices shown along a dim of size n: all, or the first and last kEdgeItems.
  std::vector<int64_t> shown(int64_t n) const {
    std::vector<int64_t> idx;
    if (elided(n)) {
      for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
      for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
    } else {
      for (int64_t i = 0; i < n; ++i) idx.push_back(i);
    }
    return idx;
  }
  bool elided(int64_t n) const { return summarize_ && n > 2 * kEdgeItems; }

  // The values the formatter sizes itself on (torch's get_summarized_data).
  void collect(int d, int64_t off, std::vector<Value>& out) const {
    if (d == shape_.size()) {
      out.push_back(reader_.at(off));
      return;
    }
    for (int64_t i : shown(shape_[d])) collect(d + 1, off + i * strides_[d], out);
  }

  std::string str(const Formatter& f, int d, int64_t off, int indent) const {
    const int rest = shape_.size() - d;
    if (rest == 0) return f.format(reader_.at(off));
    const int64_t n = shape_[d];
    const std::vector<int64_t> idx = shown(n);
    if (rest == 1) return vector_str(f, idx, off, strides_[d], indent, elided(n));
    std::vector<std::string> slices;
    for (size_t k = 0; k < idx.size(); ++k) {
      if (elided(n) && k == size_t(kEdgeItems)) slices.push_back("...");
      slices.push_back(str(f, d + 1, off + idx[k] * strides_[d], indent + 1));
    }
    const std::string sep = "," + std::string(rest - 1, '\n') + std::string(indent + 1, ' ');
    return "[" + join(slices, sep) + "]";
  }

 private:
  std::string vector_str(const Formatter& f, const std::vector<int64_t>& idx, int64_t off,
                         int64_t stride, int indent, bool elide) const {
    const int64_t element_length = int64_t(f.width()) + 2;
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / element_length);
    std::vector<std::string> data;
    for (size_t k = 0; k < idx.size(); ++k) {
      if (elide && k == size_t(kEdgeItems)) data.push_back(" ...");
      data.push_back(f.format(reader_.at(off + idx[k] * stride)));
    }
    std::vector<std::string> lines;
    for (size_t i = 0; i < data.size(); i += per_line) {
      const size_t end = std::min(data.size(), i + size_t(per_line));
      lines.push_back(join({data.begin() + i, data.begin() + end}, ", "));
    }
    return "[" + join(lines, ",\n" + std::string(indent + 1, ' ')) + "]";
  }

  static std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) out += sep;
      out += parts[i];
    }
    return out;
  }

  Reader reader_;
  Shape shape_;
  Strides strides_;
  bool summarize_;
};

// torch's _add_suffixes: ", suffix" while the line fits in kLineWidth, else a new line.
std::string add_suffixes(std::string s, const std::vector<std::string>& suffixes, int indent) {
  // Same arithmetic as torch, which overcounts the last line by two (npos acts as -1).
  int64_t last_line_len = int64_t(s.size()) - int64_t(s.rfind('\n')) + 1;
  for (const std::string& suffix : suffixes) {
    const int64_t len = int64_t(suffix.size());
    if (last_line_len + len + 2 > kLineWidth) {
      s += ",\n" + std::string(indent, ' ') + suffix;
      last_line_len = indent + len;
    } else {
      s += ", " + suffix;
      last_line_len += len + 2;
    }
  }
  return s + ")";
}

bool has_default_dtype(DType t) {
  // torch leaves out the dtype of the default float type, int64 and bool.
  return t == DType::F32 || t == DType::I64 || t == DType::Bool;
}

}  // namespace

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  const std::string prefix = "tensor(";
  const int indent = int(prefix.size());
  std::vector<std::string> suffixes;
  if (!t.device().is_cpu()) suffixes.push_back(fmt::format("device='{}'", t.device()));

  std::string body;
  if (t.numel() == 0) {
    if (t.dim() != 1) suffixes.push_back(fmt::format("size={}", t.shape()));
    if (t.dtype() != DType::F32) suffixes.push_back(fmt::format("dtype={}", t.dtype()));
    body = "[]";
  } else {
    if (!has_default_dtype(t.dtype())) suffixes.push_back(fmt::format("dtype={}", t.dtype()));
    Tensor host;
    {
      NoGradGuard no_grad;
      host = t.device().is_cpu() ? t : t.detach().to(Device::CPU);
    }
    Printer printer(host, t.numel() > kThreshold);
    std::vector<Value> shown;
    printer.collect(0, 0, shown);
    const Formatter formatter(kind_of(t.dtype()), shown);
    body = printer.str(formatter, 0, 0, indent);
  }

  if (t.grad_fn()) {
    suffixes.push_back(fmt::format("grad_fn=<{}>", t.grad_fn()->name()));
  } else if (t.requires_grad()) {
    suffixes.push_back("requires_grad=True");
  }
  return add_suffixes(prefix + body, suffixes, indent);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace descent
