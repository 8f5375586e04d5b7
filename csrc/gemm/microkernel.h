// The register-blocked micro-kernel: one MR x NR tile of C from packed panels of A and B.
// Included by per-ISA sources: internal linkage.
#pragma once
#include <cstdint>

#include "gemm/blocking.h"

namespace nnfast {
namespace {

// c (MR, NR; row stride ldc) = [c +] sum over p < kc of A[:, p] (MR) outer B[p, :] (NR), where B's
// rows are b[p*ldb + j] (a packed NR-column panel has ldb = NR; a row-major B read in place has
// its row stride) and A is either k-major, a[p*lda + r] (kKMajorA: an MR-row panel packed with lda
// = MR, or the transpose of a row-major matrix read in place with its row stride), or MR rows of
// a row-major matrix read in place (a[r*lda + p]). With `accumulate` the tile starts from c (an earlier pass over k), else from
// zero. The order of the sum along k is fixed: results never depend on threads.
// ROWS (<= MR) is how many rows of the tile exist: an edge panel computes only those.
template <class T, bool kKMajorA, int ROWS, bool kAccumulate>
void microkernel_body(T* __restrict c, int64_t ldc, const T* __restrict a, int64_t lda, const T* __restrict b,
                      int64_t ldb, int64_t kc) {
    using B = Blocking<T>;
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;  // direct register loads and stores (no copy via the stack)
    constexpr int NV = B::NV, L = B::kLanes;
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
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) *reinterpret_cast<U*>(c + r * ldc + j * L) = acc[r][j];
}

template <class T, bool kKMajorA, int ROWS>
void microkernel(T* __restrict c, int64_t ldc, bool accumulate, const T* __restrict a, int64_t lda,
                 const T* __restrict b, int64_t ldb, int64_t kc) {
    if (accumulate) microkernel_body<T, kKMajorA, ROWS, true>(c, ldc, a, lda, b, ldb, kc);
    else microkernel_body<T, kKMajorA, ROWS, false>(c, ldc, a, lda, b, ldb, kc);
}

}  // namespace
}  // namespace nnfast
