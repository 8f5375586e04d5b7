// The packed GEMM of one ISA level, with a fused bias + activation epilogue.
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// C (m, n) = act(A (m, k) B (k, n) + bias (n)), where C(i, j) = c[i*c_rs + j*c_cs],
// A(i, p) = a[i*a_rs + p*a_cs] and B(p, j) = b[p*b_rs + j*b_cs] (a transpose is a swap of
// strides). bias and act (element-wise; softmax is row-wise, left to the caller) need a row-major
// C (c_cs == 1); bias may be null. c must not overlap a or b. Each element's sum over k runs in a
// fixed order, so results do not depend on the thread count.
template <class T>
void gemm(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
          int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act);

// This level's blocking for T (gemm/blocking.h): the register tile and the cache blocks in use.
template <class T>
GemmBlocking gemm_blocking();

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
