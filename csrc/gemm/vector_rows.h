// Whole-vector moves of short rows for the GEMM's packing and tile stores: rows of one or two
// SIMD registers with a ragged end, and 4 x 4 float transposes. Included by per-ISA sources:
// internal linkage.
#pragma once
#include <cstdint>
#include <utility>

#include "gemm/blocking.h"

namespace nnfast {
namespace {

template <class T> constexpr int kLanes = Blocking<T>::kLanes;

// Lanes i, j, k, l of the 8 lanes of two 4-float vectors (GCC before 12 lacks shufflevector).
#if defined(__clang__) || __GNUC__ >= 12
#define NNFAST_SHUFFLE4(x, y, i, j, k, l) __builtin_shufflevector(x, y, i, j, k, l)
#else
#define NNFAST_SHUFFLE4(x, y, i, j, k, l) __builtin_shuffle(x, y, (__attribute__((vector_size(16))) int){i, j, k, l})
#endif

// The 4 x 4 block src[q*ld_src + i] (q, i < 4) stored transposed: dst[i*ld_dst + q].
inline void transpose4x4_store(float* dst, int64_t ld_dst, const float* src, int64_t ld_src) {
    typedef float V4 __attribute__((vector_size(16), aligned(4)));
    const V4 a = *reinterpret_cast<const V4*>(src), b = *reinterpret_cast<const V4*>(src + ld_src);
    const V4 c = *reinterpret_cast<const V4*>(src + 2 * ld_src), d = *reinterpret_cast<const V4*>(src + 3 * ld_src);
    const V4 ab_lo = NNFAST_SHUFFLE4(a, b, 0, 4, 1, 5), ab_hi = NNFAST_SHUFFLE4(a, b, 2, 6, 3, 7);
    const V4 cd_lo = NNFAST_SHUFFLE4(c, d, 0, 4, 1, 5), cd_hi = NNFAST_SHUFFLE4(c, d, 2, 6, 3, 7);
    *reinterpret_cast<V4*>(dst) = NNFAST_SHUFFLE4(ab_lo, cd_lo, 0, 1, 4, 5);
    *reinterpret_cast<V4*>(dst + ld_dst) = NNFAST_SHUFFLE4(ab_lo, cd_lo, 2, 3, 6, 7);
    *reinterpret_cast<V4*>(dst + 2 * ld_dst) = NNFAST_SHUFFLE4(ab_hi, cd_hi, 0, 1, 4, 5);
    *reinterpret_cast<V4*>(dst + 3 * ld_dst) = NNFAST_SHUFFLE4(ab_hi, cd_hi, 2, 3, 6, 7);
}

// dst[i*ld_dst + q] = src[q*ld_src + i] for q < rows and i < cols, both at least 4: 4 x 4 blocks
// transposed in registers, a ragged edge taking the last 4 again (rewriting values with themselves).
// Four dst rows are finished before the next four: a packed panel (32 KiB for a KC 256 x NR 32 one)
// would otherwise be swept once per four source rows, each sweep writing a quarter of every line.
inline void transpose_store(float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows,
                            int64_t cols) {
    for (int64_t i0 = 0; i0 < cols; i0 += 4) {
        const int64_t i = i0 + 4 <= cols ? i0 : cols - 4;
        for (int64_t q0 = 0; q0 < rows; q0 += 4) {
            const int64_t q = q0 + 4 <= rows ? q0 : rows - 4;
            transpose4x4_store(dst + i * ld_dst + q, ld_dst, src + q * ld_src + i, ld_src);
        }
    }
}

#if defined(__clang__) || __GNUC__ >= 12
#define NNFAST_TRANSPOSE_VECTORS 1

// One round of transpose_vectors for the pair (x, y) = (v[i], v[i | M]), bit M clear in i: x keeps
// its lanes whose index has bit M clear and takes y's lanes (l & ~M) for the others (HIGH false);
// y's counterpart takes x's lanes (l | M) and keeps its own (HIGH true).
template <class V, int L, int M, bool HIGH, size_t... I>
NNFAST_ALWAYS_INLINE V transpose_pair(V x, V y, std::index_sequence<I...>) {
    return __builtin_shufflevector(x, y, (HIGH ? ((int(I) & M) ? L + int(I) : (int(I) | M))
                                               : ((int(I) & M) ? L + (int(I) & ~M) : int(I)))...);
}

// The kLanes x kLanes block held as v[r] lane q = (r, q), transposed in registers: v[q] lane r =
// (r, q). Each round swaps one bit of the vector index with the same bit of the lane index, two
// shuffles per pair of vectors; log2(kLanes) rounds (64 shuffles for AVX-512's 16 floats).
template <class T, int M = 1>
NNFAST_ALWAYS_INLINE void transpose_vectors(typename Vec<T>::type* v) {
    using V = typename Vec<T>::type;
    constexpr int L = kLanes<T>;
    if constexpr (M < L) {
#pragma GCC unroll 16
        for (int i = 0; i < L; ++i)
            if (!(i & M)) {
                const V lo = transpose_pair<V, L, M, false>(v[i], v[i | M], std::make_index_sequence<L>());
                const V hi = transpose_pair<V, L, M, true>(v[i], v[i | M], std::make_index_sequence<L>());
                v[i] = lo;
                v[i | M] = hi;
            }
        transpose_vectors<T, 2 * M>(v);
    }
}
#endif

// dst[0 : cols] = src[0 : cols] for kLanes <= cols <= 2 * kLanes, in two whole vectors: the first
// and the last kLanes values (they may overlap). Reads and writes nothing past cols.
template <class T>
void copy_row_part(T* dst, const T* src, int cols) {
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;
    constexpr int L = kLanes<T>;
    const V head = *reinterpret_cast<const U*>(src), tail = *reinterpret_cast<const U*>(src + cols - L);
    *reinterpret_cast<U*>(dst) = head;
    *reinterpret_cast<U*>(dst + cols - L) = tail;
}

// dst[0 : cols] = src[0 : cols] and dst[cols : NR] = 0 (NR = 2 * kLanes, a panel row), for
// kLanes <= cols <= NR: the zeros first, then the values over them.
template <class T, int NR>
void copy_row_padded(T* dst, const T* src, int cols) {
    static_assert(NR == 2 * kLanes<T>, "a panel row is two vectors");
    *reinterpret_cast<typename Vec<T>::unaligned*>(dst + kLanes<T>) = typename Vec<T>::type{};
    copy_row_part(dst, src, cols);
}

}  // namespace
}  // namespace nnfast
