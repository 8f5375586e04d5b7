// The packed GEMM of one ISA level, with a fused bias + activation epilogue. gemm.cpp is compiled
// once per register tile the level offers, each copy in its own namespace (mr<MR>: mr6, mr8,
// mr12); gemm_tiles.cpp gives the level's gemm<T>, which runs the tile chosen at import.
#pragma once
#include <cstdint>

#include "common/types.h"

// The namespace of one tile's copy of gemm.cpp: mr followed by its rows.
#define NNFAST_TILE_NS_PASTE(rows) mr##rows
#define NNFAST_TILE_NS(rows) NNFAST_TILE_NS_PASTE(rows)

namespace nnfast {
namespace NNFAST_ISA_NS {

// threads_for counts a product's work in units of this many multiply-adds (2mnk flops / 64): with
// its kMinWorkPerThread, a thread is worth starting from about a million multiply-adds.
constexpr int64_t kMultiplyAddsPerWorkUnit = 32;

// C (m, n) = act(A (m, k) B (k, n) + bias (n)), where C(i, j) = c[i*c_rs + j*c_cs],
// A(i, p) = a[i*a_rs + p*a_cs] and B(p, j) = b[p*b_rs + j*b_cs] (a transpose is a swap of
// strides). bias and act (element-wise; softmax is row-wise, left to the caller) need a row-major
// C (c_cs == 1); bias may be null. c must not overlap a or b. Each element's sum over k runs in a
// fixed order, so results do not depend on the thread count, the blocking or the tile.
template <class T>
void gemm(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
          int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act);

// This level's blocking for T (gemm/blocking.h): the register tile and the cache blocks in use.
template <class T>
GemmBlocking gemm_blocking();

// The tiles this level is built with (common/types.h).
GemmTiles gemm_tiles();

// Makes every later GEMM of this level use the tile of `rows` rows (0: this CPU's choice, see
// gemm_tiles.cpp). false, changing nothing, when the level has no such tile. Called at import.
bool use_gemm_tile(int rows);

// One tile's entry points (the copy of gemm.cpp compiled with NNFAST_GEMM_MR = its rows).
#define NNFAST_DECLARE_GEMM_TILE(rows)                                                                      \
    namespace NNFAST_TILE_NS(rows) {                                                                        \
    template <class T>                                                                                      \
    void gemm(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b,         \
              int64_t b_rs, int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act); \
    template <class T>                                                                                      \
    GemmBlocking gemm_blocking();                                                                           \
    }
// The explicit instantiations of gemm<T> and gemm_blocking<T> for float and double, in the
// namespace where the macro is used (the level's or a tile's).
#define NNFAST_INSTANTIATE_GEMM                                                                                 \
    template GemmBlocking gemm_blocking<float>();                                                            \
    template GemmBlocking gemm_blocking<double>();                                                           \
    template void gemm<float>(float*, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, \
                              int64_t, const float*, int64_t, int64_t, int64_t, Activation);                  \
    template void gemm<double>(double*, int64_t, int64_t, const double*, int64_t, int64_t, const double*,      \
                               int64_t, int64_t, const double*, int64_t, int64_t, int64_t, Activation);

NNFAST_DECLARE_GEMM_TILE(6)
NNFAST_DECLARE_GEMM_TILE(8)
NNFAST_DECLARE_GEMM_TILE(12)
#undef NNFAST_DECLARE_GEMM_TILE

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
