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
    for (int64_t p = 0; p < kc; ++p) {
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
