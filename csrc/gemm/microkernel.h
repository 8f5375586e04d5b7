// The register-blocked micro-kernel: one MR x NR tile of C from packed panels of A and B.
// Included by per-ISA sources: internal linkage.
#pragma once
#include <cstdint>

#include "gemm/blocking.h"

namespace nnfast {
namespace {

// What a tile's last pass over k applies in registers before its store: + bias (NR values from
// the tile's first column, or null) and then relu or leaky_relu (or linear: nothing).
template <class T>
struct TileFinish {
    const T* bias;
    Activation act;
};

// How many steps along k ahead an AVX-512 tile (full height, A packed or transposed) hints B's
// rows into L1. With the derived KC the KC x NR micro-panel of B outgrows L1 (512 x 32 floats: 64
// KiB), so every tile streams it from L2, as BLIS's "_l2" kernels do, and those hint it too.
// Without the hints the 1-thread GEMM read 0.86-0.96x the faster peer's GFLOP/s at 512^3-2048^3,
// with them 0.91-0.98x (Xeon, 4 runs of 5-8 alternated processes; the training shapes the same);
// 8, 24 and 32 steps read no better. At AVX2, with half the multiply-adds per byte of B, the
// hardware prefetchers keep up: the hints read the same within the host's noise, so none there.
constexpr int64_t kPrefetchSteps = 16;
constexpr bool kHintB = NNFAST_VEC_BYTES >= 64;
constexpr int kHintLineBytes = 64;  // one hint per cache line of B's row

// c (MR, NR; row stride ldc) = [c +] sum over p < kc of A[:, p] (MR) outer B[p, :] (NR), where B's
// rows are b[p*ldb + j] (a packed NR-column panel has ldb = NR; a row-major B read in place has
// its row stride) and A is either k-major, a[p*lda + r] (kKMajorA: an MR-row panel packed with lda
// = MR, or the transpose of a row-major matrix read in place with its row stride), or MR rows of
// a row-major matrix read in place (a[r*lda + p]). With `accumulate` the tile starts from c (an earlier pass over k), else from
// zero. The order of the sum along k is fixed: results never depend on threads.
// ROWS (<= MR) is how many rows of the tile exist: an edge panel computes only those.
// `finish` (the last pass over k of a full-width tile) adds the bias and applies a piecewise-linear
// activation to the registers before the one store, with the roundings of gemm.cpp's epilogue,
// which would otherwise load and store the tile again.
// NV (vectors per row, at most Blocking<T>::NV) narrows the tile: with NV = 1 only the first
// kLanes columns of B and C exist (a layer of at most kLanes outputs needs no more).
template <class T, bool kKMajorA, int ROWS, bool kAccumulate, int NV = Blocking<T>::NV>
void microkernel_body(T* __restrict c, int64_t ldc, const T* __restrict a, int64_t lda, const T* __restrict b,
                      int64_t ldb, int64_t kc, TileFinish<T> finish) {
    using B = Blocking<T>;
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;  // direct register loads and stores (no copy via the stack)
    constexpr int L = B::kLanes;
    static_assert(NV >= 1 && NV <= B::NV, "a tile is at most NR wide");
    V acc[ROWS][NV];
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[r][j] = kAccumulate ? *reinterpret_cast<const U*>(c + r * ldc + j * L) : V{};
    constexpr int kRowBytes = NV * L * int(sizeof(T));
    const uintptr_t b_at = reinterpret_cast<uintptr_t>(b), b_step = uintptr_t(ldb) * sizeof(T);
    for (int64_t p = 0; p < kc; ++p) {
        if (kHintB && kKMajorA && ROWS == B::MR) {  // a hint past the panel's end never faults
            const uintptr_t ahead = b_at + uintptr_t(p + kPrefetchSteps) * b_step;
#pragma GCC unroll 4
            for (int off = 0; off < kRowBytes; off += kHintLineBytes)
                __builtin_prefetch(reinterpret_cast<const void*>(ahead + off), 0, 3);
        }
        V bv[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) bv[j] = *reinterpret_cast<const U*>(b + p * ldb + j * L);
#pragma GCC unroll 16
        for (int r = 0; r < ROWS; ++r) {
            const T ar = kKMajorA ? a[p * lda + r] : a[r * lda + p];
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) acc[r][j] += ar * bv[j];
        }
    }
    if (finish.bias) {
        V bias[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) bias[j] = *reinterpret_cast<const U*>(finish.bias + j * L);
#pragma GCC unroll 16
        for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) acc[r][j] += bias[j];
    }
    const V zero{};
    if (finish.act == Activation::relu) {  // +0 below zero (not slope 0 * v, which gives -0)
#pragma GCC unroll 16
        for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) acc[r][j] = acc[r][j] < zero ? zero : acc[r][j];
    } else if (finish.act == Activation::leaky_relu) {
        const V slope = zero + T(kLeakyReluSlope);
#pragma GCC unroll 16
        for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j) acc[r][j] = acc[r][j] < zero ? slope * acc[r][j] : acc[r][j];
    }
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) *reinterpret_cast<U*>(c + r * ldc + j * L) = acc[r][j];
}

template <class T, bool kKMajorA, int ROWS, int NV = Blocking<T>::NV>
void microkernel(T* __restrict c, int64_t ldc, bool accumulate, const T* __restrict a, int64_t lda,
                 const T* __restrict b, int64_t ldb, int64_t kc, TileFinish<T> finish) {
    if (accumulate) microkernel_body<T, kKMajorA, ROWS, true, NV>(c, ldc, a, lda, b, ldb, kc, finish);
    else microkernel_body<T, kKMajorA, ROWS, false, NV>(c, ldc, a, lda, b, ldb, kc, finish);
}

}  // namespace
}  // namespace nnfast
