// This level's GEMM: the copies of gemm.cpp it was built with, one per register tile
// (CMakeLists.txt defines NNFAST_GEMM_TILE_MR<rows> for each), and the one in use.
//
// Which tile is faster depends on the CPU, not only on the register file. AVX-512 has room for 8 x 32
// and 12 x 32 float accumulator tiles (8 x 16 and 12 x 16 double). On an Intel Xeon (two 512-bit
// FMA ports) 12 rows ran 3-10% faster on every shape measured, on 1 and 2 threads; on a Zen 4 (one
// 512-bit FMA per cycle, as two 256-bit halves) 16 accumulators already hide the latency and 12
// rows ran 2-8% slower (docs/design.md, "GEMM blocking"). So the choice is the widest tile, except
// on AMD's CPUs. NNFAST_GEMM_MR overrides it. Every tile gives the same bits.
#include "gemm/gemm.h"

#include "dispatch/cpu_features.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

struct Tile {
    int rows;
    void (*gemm_f32)(float*, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, int64_t,
                     const float*, int64_t, int64_t, int64_t, Activation);
    void (*gemm_f64)(double*, int64_t, int64_t, const double*, int64_t, int64_t, const double*, int64_t, int64_t,
                     const double*, int64_t, int64_t, int64_t, Activation);
    void (*shared_f32)(TileShare&, bool, float*, int64_t, int64_t, const float*, int64_t, int64_t, const float*,
                       int64_t, int64_t, int64_t, int64_t, int64_t);
    void (*shared_f64)(TileShare&, bool, double*, int64_t, int64_t, const double*, int64_t, int64_t,
                       const double*, int64_t, int64_t, int64_t, int64_t, int64_t);
    GemmBlocking (*blocking_f32)();
    GemmBlocking (*blocking_f64)();
};

#define NNFAST_TILE_ENTRY(rows)                                                                              \
    Tile{rows, &NNFAST_TILE_NS(rows)::gemm<float>, &NNFAST_TILE_NS(rows)::gemm<double>,                      \
         &NNFAST_TILE_NS(rows)::gemm_shared<float>, &NNFAST_TILE_NS(rows)::gemm_shared<double>,              \
         &NNFAST_TILE_NS(rows)::gemm_blocking<float>, &NNFAST_TILE_NS(rows)::gemm_blocking<double>},

// Ascending rows.
constexpr Tile kTiles[] = {
#ifdef NNFAST_GEMM_TILE_MR6
    NNFAST_TILE_ENTRY(6)
#endif
#ifdef NNFAST_GEMM_TILE_MR8
    NNFAST_TILE_ENTRY(8)
#endif
#ifdef NNFAST_GEMM_TILE_MR12
    NNFAST_TILE_ENTRY(12)
#endif
};
#undef NNFAST_TILE_ENTRY
constexpr int kTileCount = int(sizeof(kTiles) / sizeof(kTiles[0]));
static_assert(kTileCount >= 1 && kTileCount <= 4, "CMakeLists.txt builds one to four tiles per level");

// The tile in use: the first until use_gemm_tile runs at import.
const Tile* g_tile = &kTiles[0];

template <class T> struct TileEntry;
template <> struct TileEntry<float> {
    static auto gemm() { return g_tile->gemm_f32; }
    static auto shared() { return g_tile->shared_f32; }
    static auto blocking() { return g_tile->blocking_f32; }
};
template <> struct TileEntry<double> {
    static auto gemm() { return g_tile->gemm_f64; }
    static auto shared() { return g_tile->shared_f64; }
    static auto blocking() { return g_tile->blocking_f64; }
};

}  // namespace

template <class T>
void gemm(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
          int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    TileEntry<T>::gemm()(c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, bias, m, n, k, act);
}

template <class T>
void gemm_shared(TileShare& share, bool lead, T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs,
                 int64_t a_cs, const T* b, int64_t b_rs, int64_t b_cs, int64_t m, int64_t n, int64_t k) {
    TileEntry<T>::shared()(share, lead, c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, m, n, k);
}

template <class T>
GemmBlocking gemm_blocking() {
    return TileEntry<T>::blocking()();
}

GemmTiles gemm_tiles() {
    GemmTiles t{{}, kTileCount};
    for (int i = 0; i < kTileCount; ++i) t.rows[i] = kTiles[i].rows;
    return t;
}

bool use_gemm_tile(int rows) {
    if (rows == 0) {
        g_tile = &kTiles[cpu_is_amd() ? 0 : kTileCount - 1];
        return true;
    }
    for (const Tile& t : kTiles)
        if (t.rows == rows) {
            g_tile = &t;
            return true;
        }
    return false;
}

NNFAST_INSTANTIATE_GEMM

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
