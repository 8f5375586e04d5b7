// Dense layer kernels of one ISA level.
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// y (m, n) = act(x (m, k) @ w (k, n) + b (n)); b may be null.
template <class T>
void dense_forward(T* y, const T* x, const T* w, const T* b, int64_t m, int64_t k, int64_t n, Activation act);

// From x (m, k), w (k, n), the activated output y (m, n) and dy (m, n):
// dw (k, n) = x^T dz, db (n) = column sums of dz (skipped when null), dx (m, k) = dz w^T (skipped
// when null), with dz = dy * act'(y). Outputs must not overlap inputs.
template <class T>
void dense_backward(T* dx, T* dw, T* db, const T* x, const T* w, const T* y, const T* dy, int64_t m,
                    int64_t k, int64_t n, Activation act);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
