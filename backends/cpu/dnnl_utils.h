#pragma once
// Shared oneDNN plumbing for the CPU backend (matmul here; batch norm, LSTM and
// softmax elsewhere): the one CPU engine and stream, dtype mapping, and memory
// descriptors built from a Tensor's shape and strides. Internal to backends/cpu:
// oneDNN is a private dependency of the library.
#include <descent/core/tensor.h>

#include <dnnl.hpp>

namespace descent::cpu {

// The process-wide CPU engine and stream. oneDNN's CPU stream executes synchronously
// with the OpenMP runtime, so no wait() is needed after execute().
dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

// True for the dtypes oneDNN 2.6 has on the CPU (f32, bf16, f16, i32).
bool dnnl_supports(DType t);
// The oneDNN data type of `t`; throws naming `op` for dtypes oneDNN lacks (f64, i64, bool).
dnnl::memory::data_type dnnl_dtype(DType t, std::string_view op);

// A plain descriptor with t's shape and strides (a 0-dim tensor becomes {1}). Dims of
// size 1 get the stride a dense layout would give them, so that descriptors of
// equivalent views compare equal and match oneDNN's plain format tags.
dnnl::memory::desc dnnl_desc(const Tensor& t, std::string_view op);
// Same for explicit dims and element strides.
dnnl::memory::desc dnnl_desc(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides,
                             DType t, std::string_view op);

// A memory object over t's data (no copy). The tensor must outlive its use.
dnnl::memory dnnl_memory(const Tensor& t, std::string_view op);

}  // namespace descent::cpu
