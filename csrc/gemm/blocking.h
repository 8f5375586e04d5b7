// Register and cache blocking of the packed GEMM for this ISA level, chosen from the compiler's
// target macros (each level's copy is compiled with its own flags). Included by per-ISA sources.
#pragma once
#include <algorithm>
#include <cstdint>

#include "common/types.h"
#include "common/vector_width.h"
#include "memory/caches.h"

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

// The MR x NR micro-tile, held in MR * NV accumulator registers (NR = NV lanes-wide vectors),
// plus NV for a row of B and one broadcast of A. gemm.cpp is compiled once per tile a level offers
// (CMakeLists.txt sets NNFAST_GEMM_MR): SSE2, AVX2 and NEON have 16 registers and take 6 x 2 (12
// accumulators); AVX-512 has 32 and is built with 8 x 2 and 12 x 2 (gemm_tiles.cpp chooses).
#ifndef NNFAST_GEMM_MR
#error "NNFAST_GEMM_MR (the tile's rows) is set per copy of gemm.cpp by CMakeLists.txt"
#endif
template <class T>
struct Blocking {
    static constexpr int kLanes = NNFAST_VEC_BYTES / sizeof(T);
    static constexpr int NV = 2;
    static constexpr int NR = NV * kLanes;
    static constexpr int MR = NNFAST_GEMM_MR;
    static_assert(MR * NV + NV + 1 <= (NNFAST_VEC_BYTES == 64 ? 32 : 16), "the tile fits the register file");
};

inline int64_t round_down(int64_t v, int64_t unit) { return v / unit * unit > unit ? v / unit * unit : unit; }
inline int64_t round_up(int64_t v, int64_t unit) { return (v + unit - 1) / unit * unit; }

// The cache blocks, from BLIS's analytical model (Low et al., "Analytical modeling is enough for
// high-performance BLIS", 2016) and the caches detected (memory/caches.h):
// - KC: the model's L1 bound keeps the KC x NR micro-panel of B in L1 while MR x KC micro-panels of
//   A stream through: of the L1's W ways one is left for C, A gets CA = floor((W - 1) / (1 + NR/MR))
//   ways and KC = CA * sets * line / (MR * sizeof(T)). Where the L2 can feed the micro-kernel (as
//   BLIS's "_l2" kernels for Skylake-X and Zen 4 assume), B's micro-panel may stream from L2 and
//   only the A micro-panel need stay in L1: KC = L1 / 2 / (MR * sizeof(T)). KC is the larger of the
//   two (fewer passes over C: on Zen 4 KC 512 measured 5-15% faster than the L1 bound's 128);
// - MC: the MC x KC block of A fills about half of L2, but at most kMaxABlockBytes. Between two
//   uses of an A micro-panel the whole block streams through L2 with a B micro-panel (KC x NR) and
//   an MC x NR strip of C, and L2 replacement is not LRU: on the Xeon (2 MiB L2) a 512 KiB block
//   (MC 252) instead of half of L2 (504) measured 5-8% faster at 1024^3 and 2048^3 on one thread,
//   10% in float64. Machines with up to 1 MiB of L2 (Zen 3 and 4) keep half, as before;
// - NC: the KC x NC panel of B fills about half of the L3 per core.
// NNFAST_BLOCKING's non-zero values replace the derived ones (MC and NC are then derived from the
// new KC) and are rounded up to whole MR and NR panels. The blocking never changes a result's
// bits: each element's sum over k runs in the same order whatever the blocks.

// The largest packed block of A that derive_blocking chooses (MC x KC elements), in bytes.
constexpr int64_t kMaxABlockBytes = int64_t(512) << 10;

template <class T>
GemmBlocking derive_blocking() {
    using B = Blocking<T>;
    const CacheSizes& c = cache_sizes();
    const int64_t size = sizeof(T), ways = c.l1d.ways > 1 ? c.l1d.ways : 8, line = c.l1d.line > 0 ? c.l1d.line : 64;
    const int64_t sets = c.l1d.bytes / (ways * line) > 0 ? c.l1d.bytes / (ways * line) : 1;
    const int64_t a_ways = (ways - 1) * B::MR / (B::MR + B::NR) > 0 ? (ways - 1) * B::MR / (B::MR + B::NR) : 1;
    const int64_t kc_l1 = a_ways * sets * line / (B::MR * size), kc_l2 = c.l1d.bytes / 2 / (B::MR * size);
    const BlockingOverride& o = blocking_override();
    const int64_t kc = o.kc ? o.kc : kc_l1 > kc_l2 ? kc_l1 : kc_l2;
    const int64_t kc_bytes = kc * size;
    const int64_t a_block = std::min(c.l2.bytes / 2, kMaxABlockBytes);
    const int64_t mc = o.mc ? round_up(o.mc, B::MR) : round_down(a_block / kc_bytes, B::MR);
    const int64_t nc = o.nc ? round_up(o.nc, B::NR) : round_down(c.l3_per_core / 2 / kc_bytes, B::NR);
    return GemmBlocking{B::MR, B::NR, kc, mc, nc};
}

// This level's blocking for T, derived once (NNFAST_BLOCKING is read at import, before any GEMM).
template <class T>
const GemmBlocking& gemm_blocks() {
    static const GemmBlocking b = derive_blocking<T>();
    return b;
}

}  // namespace
}  // namespace nnfast
