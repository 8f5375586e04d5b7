// Kernels that measure the machine's limits for the benchmark report: an in-place memory stream
// (what an optimizer step cannot beat) and an FMA loop (what a GEMM cannot beat).
#include <algorithm>
#include <cstdint>

#include "common/alignment.h"
#include "kernels/limits.h"
#include "parallel/float_env.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

namespace {

// rw[0..NRW) (n) += c * ro (n): one read of every array, one write of each rw array.
template <int NRW>
void stream(float* const* rw, const float* ro, int64_t n, float c) {
    parallel_for(n, 16, 1, [&](int64_t b, int64_t e) {
        // from where rw[0] is 64-byte aligned, as the optimizer steps run (common/alignment.h)
        const int64_t body = aligned_from(rw[0], b, e);
        for (int64_t i = b; i < body; ++i) {
            for (int k = 0; k < NRW; ++k) rw[k][i] += c * ro[i];
        }
        b = body;
        float* w0 = rw[0];
        float* w1 = rw[NRW > 1 ? 1 : 0];
        float* w2 = rw[NRW > 2 ? 2 : 0];
        float* w3 = rw[NRW > 3 ? 3 : 0];
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
            const float s = c * ro[i];
            w0[i] += s;
            if (NRW > 1) w1[i] += s;
            if (NRW > 2) w2[i] += s;
            if (NRW > 3) w3[i] += s;
        }
    });
}

}  // namespace

// rw[k] (n) += c * ro (n) for k < nrw (1 to 4): the memory traffic of an optimizer step that
// updates nrw arrays in place from one gradient, with next to no arithmetic, over the same
// partition an optimizer step uses.
void stream_inplace(float* const* rw, int64_t nrw, const float* ro, int64_t n, float c) {
    switch (nrw) {
    case 1: stream<1>(rw, ro, n, c); break;
    case 2: stream<2>(rw, ro, n, c); break;
    case 3: stream<3>(rw, ro, n, c); break;
    default: stream<4>(rw, ro, n, c); break;
    }
}

// Each of `threads` threads runs `iters` rounds of kAcc independent multiply-adds on registers;
// returns a value that depends on all of them so nothing is optimised away. FLOPs = 2*kAcc*iters
// per thread. The chains run kChunk at a time: 8 vectors, enough to hide the FMA latency on two
// pipes and few enough for AVX2's 16 registers (all 128 at once spill there: 66 instead of 117
// GFLOP/s on Zen 4).
float fma_loop(int64_t iters, int threads) {
    constexpr int kAcc = 128;
#if defined(__AVX2__) && !defined(__AVX512F__)
    constexpr int kChunk = 64;  // 8 ymm
#else
    constexpr int kChunk = 128;  // 8 zmm; SSE2 without FMA wants more than 8 chains
#endif
    float total = 0.0f;
    const FpMode mode = read_fp_mode();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : total)
#endif
    {
        FpModeScope fp(mode);
        float acc[kAcc];
        for (int j = 0; j < kAcc; ++j) acc[j] = float(j) * 1e-3f;
        const float a = 0.999999f, b = 1e-7f;
        for (int c0 = 0; c0 < kAcc; c0 += kChunk)
            for (int64_t it = 0; it < iters; ++it)
#pragma GCC unroll 128
                for (int j = c0; j < c0 + kChunk; ++j) acc[j] = acc[j] * a + b;
        float s = 0.0f;
        for (int j = 0; j < kAcc; ++j) s += acc[j];
        total += s;
    }
    (void)threads;
    return total;
}

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
