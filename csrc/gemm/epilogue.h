// The finish of a product's last pass over k: + bias, then the activation. Shared by the packed GEMM
// and the zero-skipping products (gemm/sparse_a.cpp), whose bits must be the GEMM's. Included by
// per-ISA sources: internal linkage.
#pragma once
#include <cstdint>

#include "common/types.h"
#include "kernels/activation_math.h"

namespace nnfast {
namespace {

// c (rows, cols; row stride ldc) = act(c + bias (cols)), in place, after the last pass over k.
// Bias and a piecewise-linear activation go in one pass over each row.
template <class T>
void epilogue(T* c, int64_t ldc, int rows, int cols, const T* bias, Activation act) {
    for (int r = 0; r < rows; ++r) {
        T* cr = c + r * ldc;
        switch (act) {
        case Activation::linear:
            if (bias) {
#pragma omp simd
                for (int j = 0; j < cols; ++j) cr[j] += bias[j];
            }
            break;
        case Activation::relu:
#pragma omp simd
            for (int j = 0; j < cols; ++j) {
                const T v = bias ? cr[j] + bias[j] : cr[j];
                cr[j] = v < T(0) ? T(0) : v;
            }
            break;
        case Activation::leaky_relu:
#pragma omp simd
            for (int j = 0; j < cols; ++j) {
                const T v = bias ? cr[j] + bias[j] : cr[j];
                cr[j] = v < T(0) ? T(kLeakyReluSlope) * v : v;
            }
            break;
        default:
            for (int j = 0; j < cols; ++j) cr[j] = activate(bias ? cr[j] + bias[j] : cr[j], act);
        }
    }
}

// Whether a tile applies `act` in its registers before the one store (TileFinish in
// gemm/microkernel.h; sparse_a.cpp the same): the piecewise-linear ones. Others take epilogue().
bool finishes_in_registers(Activation act) {
    return act == Activation::linear || act == Activation::relu || act == Activation::leaky_relu;
}

}  // namespace
}  // namespace nnfast
