// Matrix products. f32 and bf16 run oneDNN's matmul primitive straight on the
// operands' strides (transposed views cost no copy); f16 goes through f32 (oneDNN 2.6
// has no f16 matmul on the CPU); f64 and the integer types run a cache-blocked
// OpenMP loop. Batch dims are flattened first, and a batch that only `a` has is
// folded into M, so x (B, T, C) · W (C, N) is one GEMM.
#include <descent/backends/cpu/cpu_backend.h>
#include <descent/backends/cpu/dnnl_utils.h>
#include <descent/backends/cpu/loops.h>
#include <descent/backends/slot_helpers.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace descent::cpu {

namespace {

constexpr std::string_view kOp = "matmul";

// The problem after flattening: nb batch dims, then M×K · K×N → M×N. Strides are in
// elements, per operand: [batch..., row, col]; a batch stride of 0 means the operand
// broadcasts along that dim.
struct Geometry {
  int nb = 0;
  int64_t batch[kMaxDims] = {};
  int64_t m = 0, k = 0, n = 0;
  int64_t sa[kMaxDims + 2] = {}, sb[kMaxDims + 2] = {}, so[kMaxDims + 2] = {};

  int64_t batch_count() const {
    int64_t c = 1;
    for (int i = 0; i < nb; ++i) c *= batch[i];
    return c;
  }
};

Geometry make_geometry(const Tensor& a, const Tensor& b, const Tensor& out) {
  Geometry g;
  const int nd = out.dim();
  g.m = out.shape()[nd - 2];
  g.n = out.shape()[nd - 1];
  g.k = a.shape()[a.dim() - 1];
  for (int d = 0; d < nd - 2; ++d) {
    const int64_t size = out.shape()[d];
    const int64_t sa = matmul_batch_stride(a, d, nd, size, "a");
    const int64_t sb = matmul_batch_stride(b, d, nd, size, "b");
    if (size == 1) continue;
    const int64_t so = out.strides()[d];
    const int p = g.nb - 1;
    if (p >= 0 && g.sa[p] == sa * size && g.sb[p] == sb * size && g.so[p] == so * size) {
      g.batch[p] *= size;  // contiguous with the previous batch dim for every operand
      g.sa[p] = sa;
      g.sb[p] = sb;
      g.so[p] = so;
    } else {
      g.batch[g.nb] = size;
      g.sa[g.nb] = sa;
      g.sb[g.nb] = sb;
      g.so[g.nb] = so;
      ++g.nb;
    }
  }
  int64_t ar = a.strides()[a.dim() - 2], ac = a.strides()[a.dim() - 1];
  int64_t br = b.strides()[b.dim() - 2], bc = b.strides()[b.dim() - 1];
  int64_t orow = out.strides()[nd - 2], oc = out.strides()[nd - 1];
  // Fold trailing batch dims that b broadcasts over into M when a's and out's rows
  // continue across them.
  while (g.nb > 0) {
    const int p = g.nb - 1;
    const auto folds = [&](int64_t bs, int64_t rs) {
      return bs != 0 && (g.m == 1 || bs == g.m * rs);
    };
    if (g.sb[p] != 0 || !folds(g.sa[p], ar) || !folds(g.so[p], orow)) break;
    if (g.m == 1) {
      ar = g.sa[p];
      orow = g.so[p];
    }
    g.m *= g.batch[p];
    --g.nb;
  }
  g.sa[g.nb] = ar;
  g.sa[g.nb + 1] = ac;
  g.sb[g.nb] = br;
  g.sb[g.nb + 1] = bc;
  g.so[g.nb] = orow;
  g.so[g.nb + 1] = oc;
  return g;
}

// oneDNN and the blocked loop need one of the two matrix dims to be unit-stride and
// the other to step over whole rows/columns.
bool usable_strides(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  const bool row_major = (cols <= 1 || cs == 1) && (rows <= 1 || rs >= std::max<int64_t>(cols, 1));
  const bool col_major = (rows <= 1 || rs == 1) && (cols <= 1 || cs >= std::max<int64_t>(rows, 1));
  return row_major || col_major;
}

// ---- oneDNN path ------------------------------------------------------------------

struct MatmulKey {
  DType dtype = DType::F32;
  bool has_bias = false;
  int ndims = 0;
  std::array<int64_t, kMaxDims> a_dims{}, a_strides{}, b_dims{}, b_strides{}, o_dims{}, o_strides{};
  int threads = 0;  // a primitive splits its work for the thread count it was made under
  bool operator==(const MatmulKey&) const = default;
};

struct MatmulKeyHash {
  size_t operator()(const MatmulKey& k) const {
    KeyHash h;
    h.mix(uint64_t(k.dtype) | uint64_t(k.has_bias) << 8 | uint64_t(k.ndims) << 16 |
          uint64_t(k.threads) << 24);
    for (int i = 0; i < k.ndims; ++i) {
      h.mix(uint64_t(k.a_dims[i])).mix(uint64_t(k.a_strides[i])).mix(uint64_t(k.b_dims[i]));
      h.mix(uint64_t(k.b_strides[i])).mix(uint64_t(k.o_dims[i])).mix(uint64_t(k.o_strides[i]));
    }
    return h.value();
  }
};

// A ready primitive with its memory objects and argument map: a call only swaps the
// data pointers in.
struct MatmulPrimitive {
  dnnl::matmul prim;
  dnnl::memory a, b, bias, out;
  std::unordered_map<int, dnnl::memory> args;
};

MatmulKey make_key(const Geometry& g, DType dtype, bool has_bias) {
  MatmulKey key;
  key.dtype = dtype;
  key.has_bias = has_bias;
  key.ndims = g.nb + 2;
  key.threads = omp_get_max_threads();
  for (int i = 0; i < g.nb; ++i) {
    key.a_dims[i] = g.sa[i] == 0 ? 1 : g.batch[i];
    key.b_dims[i] = g.sb[i] == 0 ? 1 : g.batch[i];
    key.o_dims[i] = g.batch[i];
  }
  const int r = g.nb, c = g.nb + 1;
  key.a_dims[r] = g.m;
  key.a_dims[c] = g.k;
  key.b_dims[r] = g.k;
  key.b_dims[c] = g.n;
  key.o_dims[r] = g.m;
  key.o_dims[c] = g.n;
  for (int i = 0; i < key.ndims; ++i) {
    key.a_strides[i] = g.sa[i];
    key.b_strides[i] = g.sb[i];
    key.o_strides[i] = g.so[i];
  }
  return key;
}

std::unique_ptr<MatmulPrimitive> create_primitive(const MatmulKey& key) {
  const auto dims = [&](const std::array<int64_t, kMaxDims>& v) {
    return dnnl::memory::dims(v.begin(), v.begin() + key.ndims);
  };
  const auto a_md = dnnl_desc(dims(key.a_dims), dims(key.a_strides), key.dtype, kOp);
  const auto b_md = dnnl_desc(dims(key.b_dims), dims(key.b_strides), key.dtype, kOp);
  const auto o_md = dnnl_desc(dims(key.o_dims), dims(key.o_strides), key.dtype, kOp);
  auto p = std::make_unique<MatmulPrimitive>();
  dnnl::engine& eng = dnnl_engine();
  if (key.has_bias) {
    dnnl::memory::dims bias_dims(key.ndims, 1), bias_strides(key.ndims, 1);
    bias_dims.back() = key.o_dims[key.ndims - 1];
    const auto bias_md = dnnl_desc(bias_dims, bias_strides, key.dtype, kOp);
    p->prim = dnnl::matmul(dnnl::matmul::primitive_desc({a_md, b_md, bias_md, o_md}, eng));
    p->bias = dnnl::memory(bias_md, eng, DNNL_MEMORY_NONE);
    p->args[DNNL_ARG_BIAS] = p->bias;
  } else {
    p->prim = dnnl::matmul(dnnl::matmul::primitive_desc({a_md, b_md, o_md}, eng));
  }
  p->a = dnnl::memory(a_md, eng, DNNL_MEMORY_NONE);
  p->b = dnnl::memory(b_md, eng, DNNL_MEMORY_NONE);
  p->out = dnnl::memory(o_md, eng, DNNL_MEMORY_NONE);
  p->args[DNNL_ARG_SRC] = p->a;
  p->args[DNNL_ARG_WEIGHTS] = p->b;
  p->args[DNNL_ARG_DST] = p->out;
  return p;
}

// A key oneDNN cannot serve maps to null, so the failed creation is not retried on
// every call.
MatmulPrimitive* cached_primitive(const MatmulKey& key, std::string* why) {
  bool created = false;
  auto& slot = thread_cached<MatmulKey, MatmulKeyHash>(key, 512, [&] {
    created = true;
    std::unique_ptr<MatmulPrimitive> p;
    try {
      p = create_primitive(key);
    } catch (const dnnl::error& e) {
      *why = e.what();
    }
    return p;
  });
  if (!slot && !created) *why = "no implementation (cached)";
  return slot.get();
}

// Runs the cached primitive; false (with the reason in *why) when oneDNN has none for
// this problem, e.g. bf16 on a CPU without AVX-512 or an exotic stride pattern.
bool dnnl_matmul(const Geometry& g, const Tensor& a, const Tensor& b, const Tensor& bias,
                 const Tensor& out, std::string* why) {
  MatmulPrimitive* p = cached_primitive(make_key(g, out.dtype(), bias.defined()), why);
  if (!p) return false;
  p->a.set_data_handle(a.raw_data());
  p->b.set_data_handle(b.raw_data());
  p->out.set_data_handle(out.raw_data());
  if (bias.defined()) p->bias.set_data_handle(bias.raw_data());
  p->prim.execute(dnnl_stream(), p->args);
  return true;
}

// ---- blocked loop (f64, integers) --------------------------------------------------

template <class T>
void blocked_matmul(const Geometry& g, const Tensor& a, const Tensor& b, const Tensor& bias,
                    const Tensor& out) {
  constexpr int64_t kRowBlock = 32, kKBlock = 128, kNBlock = 256;
  const T* A = static_cast<const T*>(a.raw_data());
  const T* B = static_cast<const T*>(b.raw_data());
  const T* bias_p = bias.defined() ? static_cast<const T*>(bias.raw_data()) : nullptr;
  const int64_t bias_s = bias.defined() && bias.dim() > 0 ? bias.strides()[bias.dim() - 1] : 0;
  T* C = static_cast<T*>(out.raw_data());
  const int nb = g.nb;
  const int64_t M = g.m, K = g.k, N = g.n;
  const int64_t ar = g.sa[nb], ac = g.sa[nb + 1], br = g.sb[nb], bc = g.sb[nb + 1];
  const int64_t orow = g.so[nb];  // out's columns are unit-stride (caller ensures)
  const int64_t row_blocks = (M + kRowBlock - 1) / kRowBlock;
  const int64_t tasks = g.batch_count() * row_blocks;
  const bool parallel = tasks > 1 && g.batch_count() * M * N * K >= kParallelThreshold;

#pragma omp parallel if (parallel)
  {
    std::vector<T> panel(bc == 1 ? 0 : size_t(kKBlock * kNBlock));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) {
      int64_t bi = t / row_blocks;
      const int64_t i0 = (t % row_blocks) * kRowBlock, i1 = std::min(M, i0 + kRowBlock);
      const T *pa = A, *pb = B;
      T* pc = C;
      for (int d = nb - 1; d >= 0; --d) {
        const int64_t idx = bi % g.batch[d];
        bi /= g.batch[d];
        pa += idx * g.sa[d];
        pb += idx * g.sb[d];
        pc += idx * g.so[d];
      }
      for (int64_t i = i0; i < i1; ++i) {
        T* c = pc + i * orow;
        for (int64_t j = 0; j < N; ++j) c[j] = bias_p ? bias_p[j * bias_s] : T(0);
      }
      for (int64_t j0 = 0; j0 < N; j0 += kNBlock) {
        const int64_t nw = std::min(kNBlock, N - j0);
        for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
          const int64_t kw = std::min(kKBlock, K - k0);
          // Rows of B's block must be unit-stride for the vector loop: pack otherwise.
          const T* bp;
          int64_t ldb;
          if (bc == 1) {
            bp = pb + k0 * br + j0;
            ldb = br;
          } else {
            for (int64_t kk = 0; kk < kw; ++kk) {
              const T* src = pb + (k0 + kk) * br + j0 * bc;
              for (int64_t j = 0; j < nw; ++j) panel[kk * nw + j] = src[j * bc];
            }
            bp = panel.data();
            ldb = nw;
          }
          for (int64_t i = i0; i < i1; ++i) {
            T* c = pc + i * orow + j0;
            const T* arow = pa + i * ar + k0 * ac;
            for (int64_t kk = 0; kk < kw; ++kk) {
              const T aik = arow[kk * ac];
              const T* brow = bp + kk * ldb;
#pragma omp simd
              for (int64_t j = 0; j < nw; ++j) c[j] += aik * brow[j];
            }
          }
        }
      }
    }
  }
}

}  // namespace

void CpuBackend::matmul(const MatmulArgs& args) {
  const Tensor &a0 = args.a, &b0 = args.b, &bias0 = args.bias, &out = args.out;
  check_matmul_operands(args);
  check(out.dtype() != DType::Bool, kOp, "bool tensors are not supported");
  const MatmulDims dims = check_matmul_shapes(args);
  const int64_t M = dims.M, N = dims.N, K = dims.K;
  if (out.numel() == 0) return;
  if (K == 0) {  // an empty sum: bias or zeros
    fill(out, 0.0);
    if (bias0.defined()) copy(bias0.reshape({N}), out);
    return;
  }

  const auto dense = [this](const Tensor& t, DType dt) {
    Tensor c = Tensor::empty(t.shape(), {.dtype = dt});
    copy(t, c);
    return c;
  };
  // 16-bit types oneDNN cannot multiply here (f16 always; bf16 without AVX-512)
  // compute in f32 and round once at the end.
  const auto via_f32 = [&] {
    Tensor o = Tensor::empty(out.shape(), {.dtype = DType::F32});
    matmul({.a = dense(a0, DType::F32),
            .b = dense(b0, DType::F32),
            .bias = bias0.defined() ? dense(bias0, DType::F32) : Tensor(),
            .out = o});
    copy(o, out);
  };
  const DType dt = out.dtype();
  if (dt == DType::F16) return via_f32();

  Tensor a = a0, b = b0;
  Tensor bias = bias0.defined() ? bias0.reshape({N}) : Tensor();
  if (bias.defined() && bias.strides()[0] != 1) bias = dense(bias, dt);
  if (!usable_strides(M, K, a.stride(-2), a.stride(-1))) a = dense(a, dt);
  if (!usable_strides(K, N, b.stride(-2), b.stride(-1))) b = dense(b, dt);
  const Tensor o = out.is_contiguous() ? out : Tensor::empty(out.shape(), {.dtype = dt});

  Geometry g = make_geometry(a, b, o);
  if (!usable_strides(g.m, g.k, g.sa[g.nb], g.sa[g.nb + 1])) {
    a = dense(a, dt);  // folding M made a's rows irregular
    g = make_geometry(a, b, o);
  }
  if (dt == DType::F32 || dt == DType::BF16) {
    std::string why;
    if (!dnnl_matmul(g, a, b, bias, o, &why)) {
      if (dt == DType::BF16) return via_f32();
      // Unusual batch strides: retry once on dense operands.
      const bool retry = !a.is_contiguous() || !b.is_contiguous();
      if (retry) {
        a = dense(a, dt);
        b = dense(b, dt);
        g = make_geometry(a, b, o);
      }
      check(retry && dnnl_matmul(g, a, b, bias, o, &why), kOp,
            "oneDNN has no matmul for a {} (strides {}) · b {} (strides {}) in {}: {}", a0.shape(),
            a0.strides(), b0.shape(), b0.strides(), dt, why);
    }
  } else {
    visit_dtype(dt, [&]<class T>() {
      if constexpr (std::is_same_v<T, double> || std::is_same_v<T, int32_t> ||
                    std::is_same_v<T, int64_t>) {
        blocked_matmul<T>(g, a, b, bias, o);
      } else {
        fail(kOp, fmt::format("dtype {} is not supported", dt));
      }
    });
  }
  if (!o.is_same(out)) copy(o, out);
}

}  // namespace descent::cpu
