// The Embedding gradient's scatter-add (kernels/embedding.h).
#include "kernels/embedding.h"

#include <algorithm>
#include <cstdint>

#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// dw (rows, cols), dy (n, cols), indices (n): threads own whole rows of dw, which they zero and then
// add into, each walking all n indices in order and taking those in its rows; so no two threads
// write one cache line, and every element's sum runs in its rows' order. (Splitting the columns
// instead had both cores write adjacent lines of every row, which the L2's pair prefetcher made
// them trade: 2 threads took 2-3x as long as 1.)
template <class T>
void embedding_backward(T* dw, const T* dy, const int64_t* indices, int64_t n, int64_t rows, int64_t cols) {
    const int64_t adds_per_row = rows > 0 ? (n * cols + rows - 1) / rows : 0;
    parallel_for(rows, 1, cols + adds_per_row, [&](int64_t r0, int64_t r1) {
        std::fill(dw + r0 * cols, dw + r1 * cols, T(0));
        for (int64_t i = 0; i < n; ++i) {
            const int64_t r = indices[i];
            if (r < r0 || r >= r1) continue;
            T* out = dw + r * cols;
            const T* in = dy + i * cols;
#pragma omp simd
            for (int64_t j = 0; j < cols; ++j) out[j] += in[j];
        }
    });
}

template void embedding_backward<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t);
template void embedding_backward<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
