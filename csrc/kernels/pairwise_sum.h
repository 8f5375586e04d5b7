// Pairwise summation (as NumPy's np.sum): error grows like log(n), not n, and the order is fixed
// by n alone, so results never depend on threads. Included by per-ISA sources: internal linkage.
#pragma once
#include <cstdint>

namespace nnfast {
namespace {

// sum of term(i) for i in [begin, begin + n). Leaves of up to 128 terms use 8 interleaved
// accumulators (vectorizable); larger ranges split in two halves at a multiple of 8.
template <class T, class Term>
T pairwise_sum_range(int64_t begin, int64_t n, const Term& term) {
    if (n <= 128) {
        T acc[8] = {T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0)};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (int k = 0; k < 8; ++k) acc[k] += term(begin + i + k);
        T s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; ++i) s += term(begin + i);
        return s;
    }
    const int64_t half = (n / 2) / 8 * 8;
    return pairwise_sum_range<T>(begin, half, term) + pairwise_sum_range<T>(begin + half, n - half, term);
}

// sum of term(i) for i in [0, n).
template <class T, class Term>
T pairwise_sum(int64_t n, const Term& term) {
    return pairwise_sum_range<T>(0, n, term);
}

}  // namespace
}  // namespace nnfast
