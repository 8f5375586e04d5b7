// Register and cache blocking of the packed GEMM for this ISA level, chosen from the compiler's
// target macros (each level's copy is compiled with its own flags). Included by per-ISA sources.
#pragma once
#include <cstdint>

#if defined(__AVX512F__)
#define NNFAST_VEC_BYTES 64
#elif defined(__AVX2__) || defined(__AVX__)
#define NNFAST_VEC_BYTES 32
#else
#define NNFAST_VEC_BYTES 16  // SSE2 (x86-64 baseline) and NEON
#endif

// For the per-tile helpers of the GEMM driver: a call per tiny tile costs more than inlining.
#if defined(__GNUC__) || defined(__clang__)
#define NNFAST_ALWAYS_INLINE __attribute__((always_inline)) inline
#elif defined(_MSC_VER)
#define NNFAST_ALWAYS_INLINE __forceinline
#else
#define NNFAST_ALWAYS_INLINE inline
#endif

namespace nnfast {
namespace {

// One SIMD register of T (GCC/Clang vector extension: the compiler emits the level's instructions).
// `unaligned` is the same register loaded from or stored to any element address.
template <class T> struct Vec;
template <> struct Vec<float> {
    typedef float type __attribute__((vector_size(NNFAST_VEC_BYTES)));
    typedef float unaligned __attribute__((vector_size(NNFAST_VEC_BYTES), aligned(alignof(float))));
};
template <> struct Vec<double> {
    typedef double type __attribute__((vector_size(NNFAST_VEC_BYTES)));
    typedef double unaligned __attribute__((vector_size(NNFAST_VEC_BYTES), aligned(alignof(double))));
};

// MR x NR micro-tile held in MR * NV registers (NR = NV lanes-wide vectors), plus NV for a row of
// B and one broadcast: 6 x 2 = 12 accumulators fit the 16 registers of SSE2/AVX2; AVX-512 has 32
// and takes 8 x 2. KC keeps a KC x NR panel of B in L1, MC an MC x KC block of A in L2, NC a
// KC x NC panel of B in L3.
template <class T>
struct Blocking {
    static constexpr int kLanes = NNFAST_VEC_BYTES / sizeof(T);
    static constexpr int NV = 2;
    static constexpr int NR = NV * kLanes;
    static constexpr int MR = NNFAST_VEC_BYTES == 64 ? 8 : 6;
    static constexpr int64_t KC = 256;
    static constexpr int64_t MC = (sizeof(T) == 4 ? 144 : 72) / MR * MR;
    static constexpr int64_t NC = 4096;
};

}  // namespace
}  // namespace nnfast
