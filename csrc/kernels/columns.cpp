// Column bookkeeping of a weight matrix (kernels/columns.h). The comparison works on the bits
// (unsigned integers of the element's width), so that a NaN equals itself and -0 differs from +0.
#include "kernels/columns.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace nnfast {
namespace NNFAST_ISA_NS {

template <class T>
void column_changes(uint8_t* changed, T* snapshot, const T* w, int64_t rows, int64_t cols) {
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    // Columns in blocks whose differences stay in L1 while every row passes: the inner loop is a
    // load, xor, or and store per element, which the compiler vectorizes.
    constexpr int64_t kBlock = 512;
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
        const int64_t n = std::min(kBlock, cols - j0);
        Bits diff[kBlock] = {};
        for (int64_t i = 0; i < rows; ++i) {
            const T* from = w + i * cols + j0;
            T* to = snapshot + i * cols + j0;
            for (int64_t j = 0; j < n; ++j) {
                Bits now, was;
                std::memcpy(&now, from + j, sizeof(Bits));
                std::memcpy(&was, to + j, sizeof(Bits));
                diff[j] |= now ^ was;
                std::memcpy(to + j, &now, sizeof(Bits));
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

template void column_changes<float>(uint8_t*, float*, const float*, int64_t, int64_t);
template void column_changes<double>(uint8_t*, double*, const double*, int64_t, int64_t);
template void gather_columns<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t);
template void gather_columns<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
