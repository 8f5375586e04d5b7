// Whether every element is finite: the check fit() makes on a whole data set before any step,
// vectorized and split over threads (NumPy's isfinite(x).all() makes a temporary of x's size).
#include <cstdint>

#include "kernels/finite.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

template <class T>
bool all_finite(const T* v, int64_t n) {
    constexpr int64_t kBlock = 4096;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    volatile bool any_bad = false;  // set by any thread that finds one; others stop early
    // A block's work counted in vector operations (a few per cache line): a region for the 1437 x 64
    // digits set (counted per element: two threads) cost more than it saved, and libgomp's idle
    // thread then spun for milliseconds beside the training steps that follow (2 threads 1.5-2%
    // slower than 1 over whole digits runs). Two threads from about 2^20 elements.
    constexpr int64_t kBlockCost = kBlock * int64_t(sizeof(T)) / 64;
    parallel_for(blocks, 1, kBlockCost, [&](int64_t b0, int64_t b1) {
        for (int64_t blk = b0; blk < b1 && !any_bad; ++blk) {
            const int64_t first = blk * kBlock, last = n - first < kBlock ? n : first + kBlock;
            // x * 0 is 0 for finite x and NaN for NaN or +-Inf; NaN survives the sum. kLanes
            // independent sums (several SIMD registers) hide the add latency: one sum is a
            // dependency chain that runs at a quarter of the memory's speed.
            constexpr int kLanes = 64 / sizeof(T) * 4;
            T acc[kLanes] = {};
            int64_t i = first;
            for (; i + kLanes <= last; i += kLanes)
                for (int j = 0; j < kLanes; ++j) acc[j] += v[i + j] * T(0);
            for (; i < last; ++i) acc[0] += v[i] * T(0);
            T sum = T(0);
            for (int j = 0; j < kLanes; ++j) sum += acc[j];
            if (sum != sum) any_bad = true;
        }
    });
    return !any_bad;
}

template bool all_finite<float>(const float*, int64_t);
template bool all_finite<double>(const double*, int64_t);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
