// Products whose A is mostly zeros (a Dense layer's input after relu and dropout, or its output
// gradient behind relu), computed by skipping those zeros, with the packed GEMM's bits. Of one ISA
// level.
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

// C (m, n) = act(A (m, k) B (k, n) + bias (n)), each matrix given by strides, X(i, j) =
// x[i*x_rs + j*x_cs], and each either row-major (x_cs == 1; C's rows then n apart) or a row-major
// matrix read transposed (x_rs == 1); bias may be null. Each element's sum runs from zero over the
// nonzero terms of its row of A in increasing p, one multiply-add each, as gemm<T> runs over all terms: a skipped
// term 0 * B(p, j) with a finite B(p, j) adds +-0 to a sum that starts at +0, which changes no bit.
// So the result is gemm<T>'s to the bit. Returns false, having written nothing, when it would not
// be faster (A not sparse enough, small shapes, other strides) or not exact (B not all finite), or
// this level has no such kernel: the caller then runs gemm<T>. Only float at the AVX-512 and AVX2
// levels has one.
template <class T>
bool sparse_a_product(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b,
                      int64_t b_rs, int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
