// Activation forward/backward, written once for every ISA level (compiled per level with that
// level's flags; loops are simple enough for the compiler to vectorize with a scalar tail).
// Backward is computed from the activated output y, never from the pre-activation.
#include <cmath>
#include <cstdint>

#include "dispatch/kernel_table.h"
#include "kernels/activations.h"
#include "kernels/pairwise_sum.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

constexpr int64_t kLine = 16;  // items per partition boundary: a 64-byte cache line of floats

// Overflow-free logistic: exp only ever sees -|z|.
template <class T>
T sigmoid(T z) {
    const T e = std::exp(-std::fabs(z));
    return z >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// y (n) = act(z (n)) for the element-wise activations.
template <class T>
void elementwise_forward(T* y, const T* z, int64_t n, Activation act) {
    const T slope = T(kLeakyReluSlope);
    parallel_for(n, kLine, 1, [&](int64_t b, int64_t e) {
        switch (act) {
        case Activation::linear:
            for (int64_t i = b; i < e; ++i) y[i] = z[i];
            break;
        case Activation::relu:  // NaN propagates, as np.maximum(z, 0)
#pragma omp simd
            for (int64_t i = b; i < e; ++i) y[i] = z[i] < T(0) ? T(0) : z[i];
            break;
        case Activation::leaky_relu:
#pragma omp simd
            for (int64_t i = b; i < e; ++i) y[i] = z[i] < T(0) ? slope * z[i] : z[i];
            break;
        case Activation::sigmoid:
            for (int64_t i = b; i < e; ++i) y[i] = sigmoid(z[i]);
            break;
        case Activation::tanh:
            for (int64_t i = b; i < e; ++i) y[i] = std::tanh(z[i]);
            break;
        case Activation::softmax:
            break;  // row-wise, see softmax_forward
        }
    });
}

// y (rows, cols) = softmax over each row of z (rows, cols): max-subtracted, exact division.
template <class T>
void softmax_forward(T* y, const T* z, int64_t rows, int64_t cols) {
    parallel_for(rows, 1, 8 * cols, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
            const T* zr = z + r * cols;
            T* yr = y + r * cols;
            T mx = zr[0];
            for (int64_t j = 1; j < cols; ++j) mx = zr[j] > mx || std::isnan(zr[j]) ? zr[j] : mx;
            for (int64_t j = 0; j < cols; ++j) yr[j] = std::exp(zr[j] - mx);
            const T sum = pairwise_sum<T>(cols, [&](int64_t j) { return yr[j]; });
            for (int64_t j = 0; j < cols; ++j) yr[j] = yr[j] / sum;
        }
    });
}

// dz (n) from y (n) and dy (n) for the element-wise activations.
template <class T>
void elementwise_backward(T* dz, const T* y, const T* dy, int64_t n, Activation act) {
    const T slope = T(kLeakyReluSlope);
    parallel_for(n, kLine, 1, [&](int64_t b, int64_t e) {
        switch (act) {
        case Activation::linear:
            for (int64_t i = b; i < e; ++i) dz[i] = dy[i];
            break;
        case Activation::relu:
#pragma omp simd
            for (int64_t i = b; i < e; ++i) dz[i] = y[i] > T(0) ? dy[i] : T(0);
            break;
        case Activation::leaky_relu:
#pragma omp simd
            for (int64_t i = b; i < e; ++i) dz[i] = y[i] > T(0) ? dy[i] : slope * dy[i];
            break;
        case Activation::sigmoid:
#pragma omp simd
            for (int64_t i = b; i < e; ++i) dz[i] = dy[i] * y[i] * (T(1) - y[i]);
            break;
        case Activation::tanh:
#pragma omp simd
            for (int64_t i = b; i < e; ++i) dz[i] = dy[i] * (T(1) - y[i] * y[i]);
            break;
        case Activation::softmax:
            break;  // row-wise, see softmax_backward
        }
    });
}

// dz (rows, cols) = y * (dy - sum(dy * y)) per row, from y (rows, cols) and dy (rows, cols).
template <class T>
void softmax_backward(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols) {
    parallel_for(rows, 1, 4 * cols, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
            const T* yr = y + r * cols;
            const T* dyr = dy + r * cols;
            T* dzr = dz + r * cols;
            const T dot = pairwise_sum<T>(cols, [&](int64_t j) { return dyr[j] * yr[j]; });
            for (int64_t j = 0; j < cols; ++j) dzr[j] = yr[j] * (dyr[j] - dot);
        }
    });
}

}  // namespace

template <class T>
void activation_forward(T* y, const T* z, int64_t rows, int64_t cols, Activation act) {
    if (act == Activation::softmax) {
        if (cols > 0) softmax_forward(y, z, rows, cols);
    } else {
        elementwise_forward(y, z, rows * cols, act);
    }
}

template <class T>
void activation_backward(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols,
                         Activation act) {
    if (act == Activation::softmax) {
        if (cols > 0) softmax_backward(dz, y, dy, rows, cols);
    } else {
        elementwise_backward(dz, y, dy, rows * cols, act);
    }
}

template void activation_forward<float>(float*, const float*, int64_t, int64_t, Activation);
template void activation_forward<double>(double*, const double*, int64_t, int64_t, Activation);
template void activation_backward<float>(float*, const float*, const float*, int64_t, int64_t,
                                         Activation);
template void activation_backward<double>(double*, const double*, const double*, int64_t, int64_t,
                                          Activation);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
