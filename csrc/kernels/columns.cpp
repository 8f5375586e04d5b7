// Column bookkeeping of a weight matrix (kernels/columns.h). The comparison works on the bits
// (unsigned integers of the element's width), so that a NaN equals itself and -0 differs from +0.
#include "kernels/columns.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace nnfast {
namespace NNFAST_ISA_NS {

template <class T>
void column_changes(uint8_t* changed, T* snapshot, const T* w, const uint8_t* watch, const uint8_t* capture,
                    int64_t rows, int64_t cols) {
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    // Columns in blocks whose masks and differences stay in L1 while every row passes: the inner
    // loops are loads, xor, and, or (and a blend and store where a column is captured), which the
    // compiler vectorizes. The snapshot is written only in a block that captures a column, so that
    // a step whose columns all stand still only reads.
    constexpr int64_t kBlock = 512;
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
        const int64_t n = std::min(kBlock, cols - j0);
        Bits watched[kBlock], captured[kBlock], diff[kBlock] = {};
        bool any_watched = false, any_captured = false;
        for (int64_t j = 0; j < n; ++j) {
            watched[j] = watch[j0 + j] ? ~Bits(0) : Bits(0);
            captured[j] = capture[j0 + j] ? ~Bits(0) : Bits(0);
            any_watched = any_watched || watch[j0 + j];
            any_captured = any_captured || capture[j0 + j];
        }
        for (int64_t i = 0; any_watched && i < rows; ++i) {
            const T* from = w + i * cols + j0;
            const T* was_row = snapshot + i * cols + j0;
            for (int64_t j = 0; j < n; ++j) {
                Bits now, was;
                std::memcpy(&now, from + j, sizeof(Bits));
                std::memcpy(&was, was_row + j, sizeof(Bits));
                diff[j] |= (now ^ was) & watched[j];
            }
        }
        for (int64_t i = 0; any_captured && i < rows; ++i) {
            const T* from = w + i * cols + j0;
            T* to = snapshot + i * cols + j0;
            for (int64_t j = 0; j < n; ++j) {
                Bits now, was;
                std::memcpy(&now, from + j, sizeof(Bits));
                std::memcpy(&was, to + j, sizeof(Bits));
                const Bits kept = (now & captured[j]) | (was & ~captured[j]);
                std::memcpy(to + j, &kept, sizeof(Bits));
            }
        }
        for (int64_t j = 0; j < n; ++j) changed[j0 + j] = diff[j] != 0;
    }
}

template <class T>
void gather_columns(T* out, const T* w, const int64_t* picked, int64_t rows, int64_t n, int64_t m) {
    for (int64_t i = 0; i < rows; ++i) {
        const T* from = w + i * n;
        T* to = out + i * m;
        for (int64_t j = 0; j < m; ++j) to[j] = from[picked[j]];
    }
}

template void column_changes<float>(uint8_t*, float*, const float*, const uint8_t*, const uint8_t*, int64_t, int64_t);
template void column_changes<double>(uint8_t*, double*, const double*, const uint8_t*, const uint8_t*, int64_t,
                                     int64_t);
template void gather_columns<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t);
template void gather_columns<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
