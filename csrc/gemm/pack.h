// Packing of A and B blocks into the contiguous, zero-padded panels the micro-kernel reads.
// A matrix is given by strides, so a transpose is only a different (rs, cs). Included by per-ISA
// sources: internal linkage.
#pragma once
#include <cstdint>

#include "gemm/blocking.h"

namespace nnfast {
namespace {

template <class T> constexpr int kLanes = Blocking<T>::kLanes;

// dst[0 : cols] = src[0 : cols] and dst[cols : NR] = 0, for kLanes <= cols <= NR, in whole
// vectors: zeros, then the first and the last kLanes values (the two may overlap). Reads only
// src[0 : cols].
template <class T, int NR>
void copy_row_padded(T* dst, const T* src, int cols) {
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;
    constexpr int L = kLanes<T>;
    for (int j = L; j < NR; j += L) *reinterpret_cast<U*>(dst + j) = V{};
    const V head = *reinterpret_cast<const U*>(src), tail = *reinterpret_cast<const U*>(src + cols - L);
    *reinterpret_cast<U*>(dst) = head;
    *reinterpret_cast<U*>(dst + cols - L) = tail;
}

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

// dst[0 : cols] = src[0 : cols] for kLanes <= cols <= 2 * kLanes (the valid part of a tile row).
template <class T>
void copy_row_part(T* dst, const T* src, int cols) {
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;
    constexpr int L = kLanes<T>;
    const V head = *reinterpret_cast<const U*>(src), tail = *reinterpret_cast<const U*>(src + cols - L);
    *reinterpret_cast<U*>(dst) = head;
    *reinterpret_cast<U*>(dst + cols - L) = tail;
}

// dst (ceil(mc/MR) panels of kc x MR) = A[i0 : i0+mc, p0 : p0+kc] with A(i, p) = a[i*rs + p*cs];
// rows past mc are zero. Panels [panel_begin, panel_end) only (threads split the panels).
template <class T, int MR>
void pack_a(T* dst, const T* a, int64_t rs, int64_t cs, int64_t i0, int64_t p0, int64_t mc, int64_t kc,
            int64_t panel_begin, int64_t panel_end) {
    for (int64_t ip = panel_begin; ip < panel_end; ++ip) {
        T* out = dst + ip * MR * kc;
        const int64_t r0 = ip * MR, rows = mc - r0 < MR ? mc - r0 : MR;
        const T* src = a + (i0 + r0) * rs + p0 * cs;
        if (rows == MR && cs == 1) {  // row-major A: rows are contiguous along k
            for (int64_t p = 0; p < kc; ++p)
                for (int r = 0; r < MR; ++r) out[p * MR + r] = src[r * rs + p];
        } else if (rows == MR && rs == 1) {  // a transposed row-major matrix: MR contiguous values per k
            for (int64_t p = 0; p < kc; ++p) __builtin_memcpy(out + p * MR, src + p * cs, sizeof(T) * MR);
        } else {
            for (int64_t p = 0; p < kc; ++p)
                for (int r = 0; r < MR; ++r) out[p * MR + r] = r < rows ? src[r * rs + p * cs] : T(0);
        }
    }
}

// dst (ceil(nc/NR) panels of kc x NR) = B[p0 : p0+kc, j0 : j0+nc] with B(p, j) = b[p*rs + j*cs];
// columns past nc are zero. Panels [panel_begin, panel_end) only.
template <class T, int NR>
void pack_b(T* dst, const T* b, int64_t rs, int64_t cs, int64_t p0, int64_t j0, int64_t nc, int64_t kc,
            int64_t panel_begin, int64_t panel_end) {
    for (int64_t jp = panel_begin; jp < panel_end; ++jp) {
        T* out = dst + jp * NR * kc;
        const int64_t c0 = jp * NR, cols = nc - c0 < NR ? nc - c0 : NR;
        const T* src = b + p0 * rs + (j0 + c0) * cs;
        if (cols == NR && cs == 1) {  // row-major B: a panel row is NR contiguous values
            for (int64_t p = 0; p < kc; ++p)
                for (int j = 0; j < NR; ++j) out[p * NR + j] = src[p * rs + j];
        } else if (cs == 1 && cols >= kLanes<T>) {  // a partial panel of a row-major B, vector by vector
            for (int64_t p = 0; p < kc; ++p) copy_row_padded<T, NR>(out + p * NR, src + p * rs, cols);
        } else if (rs == 1) {  // a transposed row-major matrix: read each column contiguously
            int j = 0;
            if constexpr (sizeof(T) == 4)  // 4 x 4 blocks transposed in registers
                for (; j + 4 <= cols; j += 4) {
                    int64_t p = 0;
                    for (; p + 4 <= kc; p += 4) transpose4x4_store(out + p * NR + j, NR, src + p + j * cs, cs);
                    for (; p < kc; ++p)
                        for (int q = 0; q < 4; ++q) out[p * NR + j + q] = src[p + (j + q) * cs];
                }
            for (; j < cols; ++j)
                for (int64_t p = 0; p < kc; ++p) out[p * NR + j] = src[p + j * cs];
            for (int j = cols; j < NR; ++j)
                for (int64_t p = 0; p < kc; ++p) out[p * NR + j] = T(0);
        } else {
            for (int64_t p = 0; p < kc; ++p)
                for (int j = 0; j < NR; ++j) out[p * NR + j] = j < cols ? src[p * rs + j * cs] : T(0);
        }
    }
}

}  // namespace
}  // namespace nnfast
