// Activation formulas shared by the activation kernels, the GEMM epilogue and the dense backward.
// Included by per-ISA sources: internal linkage.
#pragma once
#include <cmath>
#include <cstdint>

#include "common/types.h"
#include "kernels/pairwise_sum.h"

namespace nnfast {
namespace {

// Overflow-free logistic: exp only ever sees -|z|.
template <class T>
T sigmoid(T z) {
    const T e = std::exp(-std::fabs(z));
    return z >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// act(z) for the element-wise activations (softmax is row-wise: identity here).
template <class T>
T activate(T z, Activation act) {
    switch (act) {
    case Activation::relu: return z < T(0) ? T(0) : z;  // NaN propagates, as np.maximum(z, 0)
    case Activation::leaky_relu: return z < T(0) ? T(kLeakyReluSlope) * z : z;
    case Activation::sigmoid: return sigmoid(z);
    case Activation::tanh: return std::tanh(z);
    default: return z;
    }
}

// y[i] (n) = act(z[i]) for the element-wise activations (softmax excluded); y may be z. relu and
// leaky_relu are their own vector loops.
template <class T>
void elementwise_forward_range(T* y, const T* z, int64_t n, Activation act) {
    const T slope = T(kLeakyReluSlope);
    switch (act) {
    case Activation::linear:
        if (y != z)
            for (int64_t i = 0; i < n; ++i) y[i] = z[i];
        break;
    case Activation::relu:  // NaN propagates, as np.maximum(z, 0)
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) y[i] = z[i] < T(0) ? T(0) : z[i];
        break;
    case Activation::leaky_relu:
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) y[i] = z[i] < T(0) ? slope * z[i] : z[i];
        break;
    default:  // sigmoid, tanh
        for (int64_t i = 0; i < n; ++i) y[i] = activate(z[i], act);
    }
}

// dz[i] (n) = dL/dz from the activated output y (n) and dy (n), element-wise activations. relu and
// leaky_relu select, so a non-finite dy where the unit is off gives 0 (as the reference).
template <class T>
void elementwise_backward_range(T* dz, const T* y, const T* dy, int64_t n, Activation act) {
    const T slope = T(kLeakyReluSlope);
    switch (act) {
    case Activation::relu:
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dz[i] = y[i] > T(0) ? dy[i] : T(0);
        break;
    case Activation::leaky_relu:
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dz[i] = y[i] > T(0) ? dy[i] : slope * dy[i];
        break;
    case Activation::sigmoid:
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dz[i] = dy[i] * y[i] * (T(1) - y[i]);
        break;
    case Activation::tanh:
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dz[i] = dy[i] * (T(1) - y[i] * y[i]);
        break;
    default:
        for (int64_t i = 0; i < n; ++i) dz[i] = dy[i];
    }
}

// y (cols) = softmax of z (cols): max-subtracted, pairwise-summed, exact division. y may be z.
template <class T>
void softmax_row(T* y, const T* z, int64_t cols) {
    T mx = z[0];
    for (int64_t j = 1; j < cols; ++j) mx = z[j] > mx || std::isnan(z[j]) ? z[j] : mx;
    for (int64_t j = 0; j < cols; ++j) y[j] = std::exp(z[j] - mx);
    const T sum = pairwise_sum<T>(cols, [&](int64_t j) { return y[j]; });
    for (int64_t j = 0; j < cols; ++j) y[j] = y[j] / sum;
}

// dz (cols) = y * (dy - sum(dy * y)) for one softmax row. dz may be y or dy.
template <class T>
void softmax_backward_row(T* dz, const T* y, const T* dy, int64_t cols) {
    const T dot = pairwise_sum<T>(cols, [&](int64_t j) { return dy[j] * y[j]; });
    for (int64_t j = 0; j < cols; ++j) dz[j] = y[j] * (dy[j] - dot);
}

// dz (rows, cols) from y and dy for any activation (softmax row by row). dz may be y or dy.
template <class T>
void activation_backward_rows(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols, Activation act) {
    if (act != Activation::softmax) return elementwise_backward_range(dz, y, dy, rows * cols, act);
    for (int64_t r = 0; r < rows; ++r) softmax_backward_row(dz + r * cols, y + r * cols, dy + r * cols, cols);
}

}  // namespace
}  // namespace nnfast
