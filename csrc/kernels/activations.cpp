// Activation forward/backward kernels, written once for every ISA level (compiled per level with
// that level's flags; the loops are simple enough for the compiler to vectorize with a scalar
// tail). Backward is computed from the activated output y, never from the pre-activation.
#include <cstdint>

#include "kernels/activation_math.h"
#include "kernels/activations.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

constexpr int64_t kLine = 16;  // items per partition boundary: a 64-byte cache line of floats

// y (n) = act(z (n)) for the element-wise activations.
template <class T>
void elementwise_forward(T* y, const T* z, int64_t n, Activation act) {
    parallel_for(n, kLine, 1, [&](int64_t b, int64_t e) { elementwise_forward_range(y + b, z + b, e - b, act); });
}

}  // namespace

template <class T>
void activation_forward(T* y, const T* z, int64_t rows, int64_t cols, Activation act) {
    if (act != Activation::softmax) return elementwise_forward(y, z, rows * cols, act);
    if (cols == 0) return;
    parallel_for(rows, 1, 8 * cols, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) softmax_row(y + r * cols, z + r * cols, cols);
    });
}

template <class T>
void activation_backward(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols, Activation act) {
    if (act != Activation::softmax) {
        parallel_for(rows * cols, kLine, 1, [&](int64_t b, int64_t e) {
            elementwise_backward_range(dz + b, y + b, dy + b, e - b, act);
        });
        return;
    }
    if (cols == 0) return;
    parallel_for(rows, 1, 4 * cols, [&](int64_t b, int64_t e) {
        activation_backward_rows(dz + b * cols, y + b * cols, dy + b * cols, e - b, cols, act);
    });
}

template void activation_forward<float>(float*, const float*, int64_t, int64_t, Activation);
template void activation_forward<double>(double*, const double*, int64_t, int64_t, Activation);
template void activation_backward<float>(float*, const float*, const float*, int64_t, int64_t,
                                         Activation);
template void activation_backward<double>(double*, const double*, const double*, int64_t, int64_t,
                                          Activation);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
