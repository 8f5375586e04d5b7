// Packing of A and B blocks into the contiguous, zero-padded panels the micro-kernel reads.
// A matrix is given by strides, so a transpose is only a different (rs, cs). Included by per-ISA
// sources: internal linkage.
#pragma once
#include <cstdint>

#include "gemm/blocking.h"
#include "gemm/vector_rows.h"

namespace nnfast {
namespace {

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
            if constexpr (sizeof(T) == 4) {
                // 4 x 4 blocks transposed in registers: element by element, the MR-wide gather of
                // each k cost about a tenth of a 256^3 product's time.
                if (kc >= 4) {
                    transpose_store(out, MR, src, rs, MR, kc);
                    continue;
                }
            }
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
            bool done = false;
            if constexpr (sizeof(T) == 4) {
                done = cols >= 4 && kc >= 4;
                if (done) transpose_store(out, NR, src, cs, cols, kc);
            }
            for (int j = 0; !done && j < cols; ++j)
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
