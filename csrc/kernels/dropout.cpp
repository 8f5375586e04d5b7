// Inverted dropout with a counter-based random stream: element i of a call keeps its value when
// uniform(seed, i) >= rate. The stream depends only on (seed, i), so the mask is the same for any
// thread count and nnfast.reference draws the very same mask in NumPy.
#include <cstdint>

#include "kernels/dropout.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

template <class T>
void dropout_forward(T* y, uint8_t* mask, const T* x, int64_t n, double rate, uint64_t seed) {
    const T scale = dropout_scale<T>(rate);
    const uint32_t threshold = dropout_keep_threshold(rate);
    parallel_for(n, 64, 4, [&](int64_t b, int64_t e) { dropout_forward_range(y, mask, x, b, e, scale, threshold, seed); });
}

template <class T>
void dropout_backward(T* dx, const T* dy, const uint8_t* mask, int64_t n, double rate) {
    const T scale = dropout_scale<T>(rate);
    parallel_for(n, 64, 1, [&](int64_t b, int64_t e) { dropout_backward_range(dx, dy, mask, b, e, scale); });
}

template void dropout_forward<float>(float*, uint8_t*, const float*, int64_t, double, uint64_t);
template void dropout_forward<double>(double*, uint8_t*, const double*, int64_t, double, uint64_t);
template void dropout_backward<float>(float*, const float*, const uint8_t*, int64_t, double);
template void dropout_backward<double>(double*, const double*, const uint8_t*, int64_t, double);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
