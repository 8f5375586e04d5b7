// The Embedding gradient's scatter-add (kernels/embedding.h).
#include "kernels/embedding.h"

#include <algorithm>
#include <cstdint>

#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// dw (rows, cols), dy (n, cols), indices (n): threads own whole cache lines of columns, and every
// thread walks all n rows in order, so no two threads add into one element.
template <class T>
void embedding_backward(T* dw, const T* dy, const int64_t* indices, int64_t n, int64_t rows, int64_t cols) {
    const int64_t line = 64 / int64_t(sizeof(T));
    parallel_for(cols, line, rows + 2 * n, [&](int64_t c0, int64_t c1) {
        const int64_t width = c1 - c0;
        for (int64_t r = 0; r < rows; ++r) std::fill(dw + r * cols + c0, dw + r * cols + c1, T(0));
        for (int64_t i = 0; i < n; ++i) {
            T* out = dw + indices[i] * cols + c0;
            const T* in = dy + i * cols + c0;
#pragma omp simd
            for (int64_t j = 0; j < width; ++j) out[j] += in[j];
        }
    });
}

template void embedding_backward<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t);
template void embedding_backward<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
