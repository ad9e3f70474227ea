// nn::summary (summary.h).
#include <descent/nn/summary.h>

#include <algorithm>
#include <array>

namespace descent::nn {

namespace {

// 1234567 → "1,234,567".
std::string grouped(int64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

SummaryRow row_of(const std::string& name, const Module& m) {
  SummaryRow r{name, m.type_name(), m.named_parameters(false), 0};
  for (const auto& [n, t] : r.parameters) r.count += t.numel();
  return r;
}

}  // namespace

Summary summary(const Module& model) {
  Summary s;
  s.rows.push_back(row_of("", model));
  for (const auto& [name, m] : model.named_modules()) s.rows.push_back(row_of(name, *m));
  for (const Tensor& p : model.parameters()) {
    s.total += p.numel();
    if (p.requires_grad()) s.trainable += p.numel();
    s.bytes += p.numel() * int64_t(p.element_size());
  }
  for (const auto& [name, b] : model.named_buffers())
    s.bytes += b.numel() * int64_t(b.element_size());
  return s;
}

std::string Summary::str() const {
  std::vector<std::array<std::string, 3>> cells;
  cells.push_back({"Module (type)", "Parameters", "Count"});
  for (const SummaryRow& r : rows) {
    std::string params;
    for (const auto& [n, t] : r.parameters) {
      params += fmt::format("{}{} {}", params.empty() ? "" : ", ", n, t.shape());
    }
    const std::string label =
        r.name.empty() ? fmt::format("({})", r.type) : fmt::format("{} ({})", r.name, r.type);
    cells.push_back({label, params.empty() ? "-" : params, r.count ? grouped(r.count) : "0"});
  }
  size_t w0 = 0, w1 = 0;
  for (const auto& c : cells) {
    w0 = std::max(w0, c[0].size());
    w1 = std::max(w1, c[1].size());
  }
  std::string out;
  for (const auto& c : cells)
    out += fmt::format("{:<{}}  {:<{}}  {:>}\n", c[0], w0, c[1], w1, c[2]);
  out += fmt::format("Total: {} parameters, {} trainable, {:.1f} MB\n", grouped(total),
                     grouped(trainable), double(bytes) / 1e6);
  return out;
}

}  // namespace descent::nn
