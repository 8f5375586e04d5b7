// Machine-limit probes of one ISA level (used by the benchmark report).
#pragma once
#include <cstdint>

namespace nnfast {
namespace NNFAST_ISA_NS {

void stream_inplace(float* const* rw, int64_t nrw, const float* ro, int64_t n, float c);
float fma_loop(int64_t iters, int threads);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
