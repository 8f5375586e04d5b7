// The packed GEMM of one ISA level, with a fused bias + activation epilogue. gemm.cpp is compiled
// once per register tile the level offers, each copy in its own namespace (mr<MR>: mr6, mr8,
// mr12); gemm_tiles.cpp gives the level's gemm<T>, which runs the tile chosen at import.
#pragma once
#include <atomic>
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

// One product's tiles shared by two threads as each comes free (dense_backward's dx beside dw,
// whose zero-skipping product ends first). Both call gemm_shared with the same arguments and the
// same TileShare: the lead packs B and starts on the tiles at once; the other, once its own work
// is done, takes tiles from the same counter. Each tile is computed as gemm computes it, so the
// bits are gemm's. A product whose plan is not a single pass over packed panels of B with A read
// in place (gemm.cpp: shares_tiles) runs whole on the lead, and the other returns at once.
struct TileShare {
    alignas(64) std::atomic<int64_t> next_tile{0};  // the first tile no thread has taken
    alignas(64) std::atomic<int> state{0};          // kPacking, then kTilesReady or kNotShared
    const void* packed_b = nullptr;                 // the lead's packed panels, set before kTilesReady
    // For tests (dispatch.h: hold_shared_lead): the lead, once its panels are published, waits for
    // the other thread's first take (at most 10 s), so that the share runs whichever thread is
    // faster. Set only where the other thread is sure to come, or the lead waits the 10 s.
    bool lead_waits_for_other = false;
    static constexpr int kPacking = 0, kTilesReady = 1, kNotShared = 2;
};

template <class T>
void gemm_shared(TileShare& share, bool lead, T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs,
                 int64_t a_cs, const T* b, int64_t b_rs, int64_t b_cs, int64_t m, int64_t n, int64_t k);

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
    void gemm_shared(TileShare& share, bool lead, T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, \
                     int64_t a_cs, const T* b, int64_t b_rs, int64_t b_cs, int64_t m, int64_t n, int64_t k);  \
    template <class T>                                                                                      \
    GemmBlocking gemm_blocking();                                                                           \
    }
// The explicit instantiations of gemm<T>, gemm_shared<T> and gemm_blocking<T> for float and double, in the
// namespace where the macro is used (the level's or a tile's).
#define NNFAST_INSTANTIATE_GEMM                                                                                 \
    template GemmBlocking gemm_blocking<float>();                                                            \
    template GemmBlocking gemm_blocking<double>();                                                           \
    template void gemm<float>(float*, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, \
                              int64_t, const float*, int64_t, int64_t, int64_t, Activation);                  \
    template void gemm<double>(double*, int64_t, int64_t, const double*, int64_t, int64_t, const double*,      \
                               int64_t, int64_t, const double*, int64_t, int64_t, int64_t, Activation);      \
    template void gemm_shared<float>(TileShare&, bool, float*, int64_t, int64_t, const float*, int64_t, int64_t, \
                                     const float*, int64_t, int64_t, int64_t, int64_t, int64_t);               \
    template void gemm_shared<double>(TileShare&, bool, double*, int64_t, int64_t, const double*, int64_t,     \
                                      int64_t, const double*, int64_t, int64_t, int64_t, int64_t, int64_t);

NNFAST_DECLARE_GEMM_TILE(6)
NNFAST_DECLARE_GEMM_TILE(8)
NNFAST_DECLARE_GEMM_TILE(12)
#undef NNFAST_DECLARE_GEMM_TILE

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
