#include <descent/backends/cpu/dnnl_utils.h>

#include <algorithm>

namespace descent::cpu {

dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_stream() {
  static dnnl::stream stream(dnnl_engine());
  return stream;
}

bool dnnl_supports(DType t) {
  switch (t) {
    case DType::F32:
    case DType::BF16:
    case DType::F16:
    case DType::I32: return true;
    case DType::F64:
    case DType::I64:
    case DType::Bool: return false;
  }
  return false;
}

dnnl::memory::data_type dnnl_dtype(DType t, std::string_view op) {
  using dt = dnnl::memory::data_type;
  switch (t) {
    case DType::F32: return dt::f32;
    case DType::BF16: return dt::bf16;
    case DType::F16: return dt::f16;
    case DType::I32: return dt::s32;
    case DType::F64:
    case DType::I64:
    case DType::Bool: break;
  }
  fail(op, fmt::format("oneDNN has no {} type on the CPU", t));
}

dnnl::memory::desc dnnl_desc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides,
                             DType t, std::string_view op) {
  check(dims.size() == strides.size() && !dims.empty() && dims.size() <= DNNL_MAX_NDIMS, op,
        "bad oneDNN descriptor: {} dims, {} strides", dims.size(), strides.size());
  dnnl::memory::dims st = strides;
  // Walk inner to outer: a size-1 dim gets the extent of everything inside it.
  for (int d = int(dims.size()) - 1; d >= 0; --d) {
    if (dims[d] != 1) continue;
    int64_t extent = 1;
    for (size_t j = d + 1; j < dims.size(); ++j) extent = std::max(extent, st[j] * dims[j]);
    st[d] = extent;
  }
  return dnnl::memory::desc(dims, dnnl_dtype(t, op), st);
}

dnnl::memory::desc dnnl_desc(const Tensor& t, std::string_view op) {
  if (t.dim() == 0) return dnnl_desc({1}, {1}, t.dtype(), op);
  return dnnl_desc(t.shape().vec(), t.strides().vec(), t.dtype(), op);
}

dnnl::memory dnnl_memory(const Tensor& t, std::string_view op) {
  check(t.device().is_cpu(), op, "expected a CPU tensor, got one on {}", t.device());
  return dnnl::memory(dnnl_desc(t, op), dnnl_engine(), t.raw_data());
}

void Relayout::init(const dnnl::memory::desc& user_md, const dnnl::memory::desc& prim_md,
                    bool to_user) {
  user = user_md;
  prim = prim_md;
  same = user_md == prim_md;
  if (same) return;
  dnnl::engine& eng = dnnl_engine();
  prim_mem = dnnl::memory(prim_md, eng);
  reorder = to_user ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, prim_md, eng, user_md))
                    : dnnl::reorder(dnnl::reorder::primitive_desc(eng, user_md, eng, prim_md));
}

dnnl::memory Relayout::in(void* data) {
  dnnl::memory u(user, dnnl_engine(), data);
  if (same) return u;
  reorder.execute(dnnl_stream(), u, prim_mem);
  return prim_mem;
}

dnnl::memory Relayout::out(void* data) {
  return same ? dnnl::memory(user, dnnl_engine(), data) : prim_mem;
}

void Relayout::finish(void* data) {
  if (same) return;
  dnnl::memory u(user, dnnl_engine(), data);
  reorder.execute(dnnl_stream(), prim_mem, u);
}

}  // namespace descent::cpu
