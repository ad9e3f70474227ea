// One LSTM layer in f64 loops (PyTorch's formulas, gate order i, f, g, o). The training
// forward saves the gate activations and cell states; the backward is plain BPTT over
// them. Small and obvious on purpose: it is the yardstick for the oneDNN kernel.
#include <descent/backends/cpu/fused_ref.h>

#include <cmath>
#include <vector>

namespace descent::cpu {

namespace {

struct RefSaved final : LstmSaved {
  std::vector<double> gates;  // (T, N, 4H): activated i, f, g, o
  std::vector<double> c;      // (T, N, H)
};

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

struct Dims {
  int64_t T, N, I, H;
};

Dims dims_of(const LstmArgs& a) { return {a.x.size(0), a.x.size(1), a.x.size(2), a.h0.size(1)}; }

}  // namespace

void lstm_ref(LstmArgs& a) {
  const auto [T, N, I, H] = dims_of(a);
  const int64_t G = 4 * H;
  const double* x = a.x.data<double>();
  const double* wih = a.w_ih.data<double>();
  const double* whh = a.w_hh.data<double>();
  const double* bih = a.b_ih.defined() ? a.b_ih.data<double>() : nullptr;
  const double* bhh = a.b_hh.defined() ? a.b_hh.data<double>() : nullptr;
  double* y = a.y.data<double>();
  auto saved = std::make_shared<RefSaved>();
  saved->gates.resize(size_t(T * N * G));
  saved->c.resize(size_t(T * N * H));
  std::vector<double> h(a.h0.data<double>(), a.h0.data<double>() + N * H);
  std::vector<double> c(a.c0.data<double>(), a.c0.data<double>() + N * H);
  std::vector<double> pre(static_cast<size_t>(G));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t n = 0; n < N; ++n) {
      const double* xt = x + (t * N + n) * I;
      const double* hp = h.data() + n * H;
      for (int64_t r = 0; r < G; ++r) {
        double s = (bih ? bih[r] : 0.0) + (bhh ? bhh[r] : 0.0);
        for (int64_t k = 0; k < I; ++k) s += wih[r * I + k] * xt[k];
        for (int64_t k = 0; k < H; ++k) s += whh[r * H + k] * hp[k];
        pre[size_t(r)] = s;
      }
      double* gt = saved->gates.data() + (t * N + n) * G;
      for (int64_t j = 0; j < H; ++j) {
        const double i = sigmoid(pre[j]), f = sigmoid(pre[H + j]);
        const double g = std::tanh(pre[2 * H + j]), o = sigmoid(pre[3 * H + j]);
        gt[j] = i;
        gt[H + j] = f;
        gt[2 * H + j] = g;
        gt[3 * H + j] = o;
        double& cc = c[size_t(n * H + j)];
        cc = f * cc + i * g;
        saved->c[size_t((t * N + n) * H + j)] = cc;
        y[(t * N + n) * H + j] = o * std::tanh(cc);
      }
    }
    // h_{t} for the next step, read only after the whole step is done.
    std::copy(y + t * N * H, y + (t + 1) * N * H, h.begin());
  }
  std::copy(h.begin(), h.end(), a.h_n.data<double>());
  std::copy(c.begin(), c.end(), a.c_n.data<double>());
  if (a.training) a.saved = std::move(saved);
}

void lstm_backward_ref(const LstmBackwardArgs& b) {
  const LstmArgs& a = *b.forward;
  const auto* saved = dynamic_cast<const RefSaved*>(a.saved.get());
  check(saved != nullptr, "lstm_backward", "the forward saved no state (was it training?)");
  const auto [T, N, I, H] = dims_of(a);
  const int64_t G = 4 * H;
  const double* x = a.x.data<double>();
  const double* wih = a.w_ih.data<double>();
  const double* whh = a.w_hh.data<double>();
  const double* y = a.y.data<double>();
  const double* h0 = a.h0.data<double>();
  const double* c0 = a.c0.data<double>();
  const double* gy = b.grad_y.data<double>();
  double* gx = b.grad_x.data<double>();
  double* gwih = b.grad_w_ih.data<double>();
  double* gwhh = b.grad_w_hh.data<double>();
  double* gb = b.grad_b.defined() ? b.grad_b.data<double>() : nullptr;
  std::fill(gwih, gwih + G * I, 0.0);
  std::fill(gwhh, gwhh + G * H, 0.0);
  if (gb) std::fill(gb, gb + G, 0.0);
  std::vector<double> dh(b.grad_h_n.data<double>(), b.grad_h_n.data<double>() + N * H);
  std::vector<double> dc(b.grad_c_n.data<double>(), b.grad_c_n.data<double>() + N * H);
  std::vector<double> da(size_t(N * G));
  for (int64_t t = T - 1; t >= 0; --t) {
    const double* h_prev = t > 0 ? y + (t - 1) * N * H : h0;
    const double* c_prev = t > 0 ? saved->c.data() + (t - 1) * N * H : c0;
    for (int64_t n = 0; n < N; ++n) {
      const double* gt = saved->gates.data() + (t * N + n) * G;
      double* dan = da.data() + n * G;
      for (int64_t j = 0; j < H; ++j) {
        const double i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
        const double tc = std::tanh(saved->c[size_t((t * N + n) * H + j)]);
        const double dht = gy[(t * N + n) * H + j] + dh[size_t(n * H + j)];
        const double dct = dc[size_t(n * H + j)] + dht * o * (1 - tc * tc);
        dan[j] = dct * g * i * (1 - i);
        dan[H + j] = dct * c_prev[n * H + j] * f * (1 - f);
        dan[2 * H + j] = dct * i * (1 - g * g);
        dan[3 * H + j] = dht * tc * o * (1 - o);
        dc[size_t(n * H + j)] = dct * f;
      }
    }
    for (int64_t n = 0; n < N; ++n) {
      const double* dan = da.data() + n * G;
      const double* xt = x + (t * N + n) * I;
      double* gxt = gx + (t * N + n) * I;
      for (int64_t k = 0; k < I; ++k) {
        double s = 0;
        for (int64_t r = 0; r < G; ++r) s += dan[r] * wih[r * I + k];
        gxt[k] = s;
      }
      for (int64_t k = 0; k < H; ++k) {
        double s = 0;
        for (int64_t r = 0; r < G; ++r) s += dan[r] * whh[r * H + k];
        dh[size_t(n * H + k)] = s;
      }
      for (int64_t r = 0; r < G; ++r) {
        for (int64_t k = 0; k < I; ++k) gwih[r * I + k] += dan[r] * xt[k];
        for (int64_t k = 0; k < H; ++k) gwhh[r * H + k] += dan[r] * h_prev[n * H + k];
        if (gb) gb[r] += dan[r];
      }
    }
  }
  std::copy(dh.begin(), dh.end(), b.grad_h0.data<double>());
  std::copy(dc.begin(), dc.end(), b.grad_c0.data<double>());
}

}  // namespace descent::cpu
