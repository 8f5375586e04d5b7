// The packed GEMM (BLIS-style), in BLIS's parts: a plan (plan_gemm: blocking, what is packed,
// threads), the macro-kernel (macro_kernel: a block's MR x NR micro-tiles) and the drivers
// (run_packed: loops jc (NC) -> pc (KC) -> ic (MC) over packed panels, the tiles of a block shared
// among threads; run_owned_panels: A read in place, each thread owning whole column panels of B;
// run_owned_columns: A packed by every thread for itself, each owning column panels of B).
// The last KC pass stores through the epilogue (bias, activation), so Y is written once more at
// most, never re-read in a separate pass. Every thread count computes every tile the same way:
// bit-identical results. Products of one to three columns (narrow_product) or of one to three
// terms per element (short_k_product) skip the tiles, with the tiles' bits. Compiled once per
// register tile (NNFAST_GEMM_MR rows; gemm.h).
#include "gemm/gemm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "dispatch/dispatch.h"
#include "gemm/blocking.h"
#include "gemm/epilogue.h"
#include "gemm/microkernel.h"
#include "gemm/pack.h"
#include "gemm/vector_rows.h"
#include "kernels/activation_math.h"
#include "memory/workspace.h"
#include "parallel/parallel_for.h"
#include "parallel/spin_wait.h"
#include "parallel/threads.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace NNFAST_TILE_NS(NNFAST_GEMM_MR) {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Up to this many rows of A (a small batch), B is read in place rather than packed.
constexpr int64_t kDirectBRows = 64;

// A (row-major) is read in place rather than packed while at most this many column panels of NR
// reuse each of its rows: packing costs a pass over A that only enough panels' reuse repays.
constexpr int64_t kDirectAPanels = 8;

// The K block when both A and B are read in place (unless NNFAST_BLOCKING sets KC): nothing
// packed must stay in L1, and fewer passes over the small C tile save its reloads (measured: 784
// as 2 x 392 beats 4 x 196 by 4-8%).
constexpr int64_t kDirectKC = 400;

// When A is read in place and B is one column block, each thread can own whole column panels of B
// and pack them itself, with no barrier; but every thread then reads all of A's KC block, so that
// block must stay in L2: up to this many bytes (a 256 x 256 float layer's batch).
constexpr int64_t kOwnedPanelsMaxA = 256 * 1024;

// How a tile's rows of A are laid out: k-major, a[p*lda + r] (a packed panel, lda = MR, or a
// transposed row-major matrix read in place), or row-major, a[r*lda + p] (read in place).
struct ALayout {
    int64_t lda;
    bool k_major;
};

// The micro-kernel for `rows` (1..MR) rows of A laid out as `al`, NV vectors wide.
template <class T, int NV = Blocking<T>::NV, int ROWS = Blocking<T>::MR>
NNFAST_ALWAYS_INLINE void run_microkernel(int rows, T* c, int64_t ldc, bool accumulate, const T* a, ALayout al,
                                          const T* b, int64_t ldb, int64_t kc,
                                          TileFinish<T> finish = {nullptr, Activation::linear}) {
    if constexpr (ROWS > 1) {
        if (rows < ROWS)
            return run_microkernel<T, NV, ROWS - 1>(rows, c, ldc, accumulate, a, al, b, ldb, kc, finish);
    }
    if (al.k_major) microkernel<T, true, ROWS, NV>(c, ldc, accumulate, a, al.lda, b, ldb, kc, finish);
    else microkernel<T, false, ROWS, NV>(c, ldc, accumulate, a, al.lda, b, ldb, kc, finish);
}

// The tile buffer (rows x cols, row stride NR) stored transposed into a C^T read row-major:
// element (r, j) goes to c[r + j*ldc].
template <class T, int NR>
void store_transposed(T* c, int64_t ldc, const T* tile, int rows, int cols) {
    if constexpr (sizeof(T) == 4) {
        if (rows >= 4 && cols >= 4) return transpose_store(c, ldc, tile, NR, rows, cols);
    }
    for (int j = 0; j < cols; ++j)
        for (int r = 0; r < rows; ++r) c[r + j * ldc] = tile[r * NR + j];
}

// One tile of C (rows <= MR, cols <= NR), element (r, j) at c[r*c_rs + j*c_cs]: row-major tiles of
// full width go straight to c; narrow or transposed ones through a buffer (so the micro-kernel
// never writes outside c), then the valid part is copied. Only the existing rows are computed.
// With `bias` or an activation (the last pass over k, row-major C only) a full tile gets them in
// the micro-kernel's registers when they are piecewise linear, else the epilogue follows; a narrow
// tile gets them in the buffer, in whole vectors, before the copy.
template <class T>
NNFAST_ALWAYS_INLINE void compute_tile(T* c, int64_t c_rs, int64_t c_cs, int rows, int cols, bool accumulate,
                                       const T* a, ALayout al, const T* b, int64_t ldb, int64_t kc, const T* bias,
                                       Activation act) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    const bool finish = bias || act != Activation::linear;
    if (cols == NR && c_cs == 1) {
        if (finishes_in_registers(act)) return run_microkernel<T>(rows, c, c_rs, accumulate, a, al, b, ldb, kc, {bias, act});
        run_microkernel<T>(rows, c, c_rs, accumulate, a, al, b, ldb, kc);
        if (finish) epilogue(c, c_rs, rows, NR, bias, act);
        return;
    }
    alignas(64) T tile[MR * NR];
    if (accumulate)
        for (int r = 0; r < rows; ++r)
            for (int j = 0; j < cols; ++j) tile[r * NR + j] = c[r * c_rs + j * c_cs];
    // A tile of at most one vector's columns (a layer of 10 outputs) runs one vector wide: half the
    // multiply-adds of a full tile, each element's chain the same.
    const bool one_vector = cols <= Blocking<T>::kLanes;
    if (one_vector) run_microkernel<T, 1>(rows, tile, NR, accumulate, a, al, b, ldb, kc);
    else run_microkernel<T>(rows, tile, NR, accumulate, a, al, b, ldb, kc);
    if (finish) {
        alignas(64) T bias_row[NR] = {};  // zero past cols: the padding columns are never stored
        if (bias)
            for (int j = 0; j < cols; ++j) bias_row[j] = bias[j];
        epilogue(tile, NR, rows, one_vector ? Blocking<T>::kLanes : NR, bias ? bias_row : nullptr, act);
    }
    if (c_cs == 1 && cols >= Blocking<T>::kLanes) {  // a narrow row-major tile: whole vectors
        for (int r = 0; r < rows; ++r) copy_row_part(c + r * c_rs, tile + r * NR, cols);
        return;
    }
    if (c_rs == 1) return store_transposed<T, NR>(c, c_cs, tile, rows, cols);  // C^T row-major
    for (int r = 0; r < rows; ++r)
        for (int j = 0; j < cols; ++j) c[r * c_rs + j * c_cs] = tile[r * NR + j];
}

// Asks for the C tile at c (rows of NR elements, row stride ldc) in cache before the micro-kernel
// loads it: its rows lie a whole row of C apart (a page apart from 1024 floats, all in the same L1
// set), which the hardware prefetchers do not follow, and each pass over k reloads the tile.
template <class T, int NR>
NNFAST_ALWAYS_INLINE void prefetch_tile(const T* c, int64_t ldc, int rows) {
    for (int r = 0; r < rows; ++r) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + NR - 1, 1, 3);
    }
}

// Even blocks: `count` split into ceil(count / max_block) blocks of nearly equal size, rounded up
// to a multiple of `unit` (fewer, fuller passes than max_block, max_block, ..., remainder). A last
// block of less than one unit joins the others instead: a batch of 128 rows against an MC of 126
// (AVX2's 6-row panels) is one block, not two of 66 and 62 (6% slower on two threads).
int64_t even_block(int64_t count, int64_t max_block, int64_t unit) {
    int64_t blocks = (count + max_block - 1) / max_block;
    if (blocks > 1 && count - (blocks - 1) * max_block < unit) --blocks;
    const int64_t size = (count + blocks - 1) / blocks;
    return (size + unit - 1) / unit * unit;
}

// Row panel `ip` of `mpanels` over `mc` rows: its first row and row count. Panels hold MR rows,
// but when A is read in place (any row count works) and the last would hold fewer than MR - 2
// (too few accumulators to hide the FMA latency), the last two share their rows evenly:
// 32 rows as 6+6+6+6+4+4 rather than 6+6+6+6+6+2.
template <int MR>
void panel_rows(int64_t ip, int64_t mpanels, int64_t mc, bool balance, int64_t* r0, int* rows) {
    const int64_t tail = mc - (mpanels - 1) * MR;
    if (balance && mpanels >= 2 && tail < MR - 2 && ip >= mpanels - 2) {
        const int64_t pair = MR + tail, first = (pair + 1) / 2;
        *r0 = (mpanels - 2) * MR + (ip == mpanels - 2 ? 0 : first);
        *rows = int(ip == mpanels - 2 ? first : pair - first);
        return;
    }
    *r0 = ip * MR;
    *rows = int(mc - *r0 < MR ? mc - *r0 : MR);
}

// The part [begin, end) of `count` items that thread `tid` of `nt` takes (static, contiguous).
void split(int64_t count, int tid, int nt, int64_t* begin, int64_t* end) {
    *begin = count * tid / nt;
    *end = count * (tid + 1) / nt;
}

// Waits for the other threads of the team running the driver: a job's barrier in a training step's
// team (team.h), else an orphaned OpenMP barrier; nothing to wait for on one thread.
NNFAST_ALWAYS_INLINE void team_barrier(int team) {
    if (team < 2) return;
    if (in_team_job()) return team_job_barrier();
#ifdef _OPENMP
#pragma omp barrier
#endif
}

// One product's plan (BLIS's blocking decisions): the operands, which of them is read in place
// rather than packed, the block sizes, the thread count and the packing buffers.
template <class T>
struct GemmPlan {
    T* c;  // C (m, n): C(i, j) = c[i*c_rs + j*c_cs]
    int64_t c_rs, c_cs;
    const T* a;  // A (m, k)
    int64_t a_rs, a_cs;
    const T* b;  // B (k, n)
    int64_t b_rs, b_cs;
    const T* bias;  // (n) or null: added on the last pass over k, as is act
    int64_t m, n, k;
    Activation act;
    bool direct_a, direct_b;         // read in place (A's rows, B's rows), not packed
    bool direct_at;                  // A's columns read in place (a transposed row-major A), not packed
    int64_t nc_max, kc_max, mc_max;  // block sizes (even_block: nearly equal blocks)
    bool split_rows;                 // threads own row ranges (BLIS's IC loop), else share each block's tiles (JR)
    int nt;                          // threads
    int64_t apack_size;              // elements of one packed block of A
    T* bpack;                        // the packed panel of B: kc_max x nc_max rounded up to NR
    T* apack;                        // nt packed blocks of A (one per thread when threads own blocks)
    bool owned_panels;               // A in place, one column block: the barrier-free driver
    bool owned_columns;              // A packed, B at least as wide as A is tall: run_owned_columns
};

template <class T>
GemmPlan<T> plan_gemm(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b,
                      int64_t b_rs, int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    using B = Blocking<T>;
    constexpr int MR = B::MR, NR = B::NR;
    GemmPlan<T> p{c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, bias, m, n, k, act};
    // Reading A in place saves its packing, which pays off only while few column panels reuse it;
    // likewise B (the weights, in a forward pass) for a small batch, where few row panels reuse it
    // and its rows stream from L2 fast enough.
    p.direct_a = a_cs == 1 && n <= kDirectAPanels * NR;
    p.direct_b = b_cs == 1 && m <= kDirectBRows;
    const GemmBlocking& blocks = gemm_blocks<T>();
    p.nc_max = even_block(n, blocks.nc, NR);
    p.kc_max = even_block(k, p.direct_a && p.direct_b && !blocking_override().kc ? kDirectKC : blocks.kc, 1);
    p.nt = threads_for(m * n * k / kMultiplyAddsPerWorkUnit);
    // A transposed A (x^T in dw = x^T dz) is read in place where its block stays in L2 and few
    // column panels reuse it: each thread can then own its panels of B (below).
    const bool a_block_fits = m * p.kc_max * int64_t(sizeof(T)) <= kOwnedPanelsMaxA;
    // Threads that own whole column panels of one column block (run_owned_panels) each reuse A
    // over their own panels only, so A is read in place while each thread's share is few enough
    // (the K block stays the packed one; whole panels per thread, as run_plan requires before it
    // picks run_owned_panels). Alternated in one process on two threads of the Zen 4 at
    // AVX2, this read 1.00-1.13x the GFLOP/s of packing A per thread (run_owned_columns) at 11
    // float32 shapes with B 200-256 wide (128x784x256 1.08x, 128x256x384 1.26x); float64 alike.
    const int64_t npanels = ceil_div(n, NR);
    if (!p.direct_a && a_cs == 1 && p.nt > 1 && m <= n && p.nc_max >= n && a_block_fits && npanels % p.nt == 0 &&
        npanels / p.nt <= kDirectAPanels)
        p.direct_a = true;
    p.direct_at = !p.direct_a && a_rs == 1 && n <= kDirectAPanels * NR && p.nc_max >= n && a_block_fits;
    // The parallel loop (BLIS's choice per shape): a tall A (m > n, two row panels per thread or
    // more) splits its rows, each thread packing its own A blocks against the shared B panel. A B
    // at least as wide as A is tall splits its column panels: with A packed, each thread packs its
    // own B panels and its own copy of every A block (run_owned_columns), reading nothing another
    // thread wrote and waiting at no barrier; with A read in place, the tiles of each block are
    // shared out (JR). Paired on two threads, owning columns against rows over a shared B panel
    // read 1.06-1.10x the GFLOP/s at 384^3-1024^3 and 0.98-1.02x at 1536^3 and 2048^3; for a tall
    // A (the MLP's dw, 784 x 128 by 128 x 128) it made the batch-128 epoch 1.08x slower.
    p.owned_columns = p.nt > 1 && !p.direct_a && !p.direct_at && m <= n;
    p.split_rows = p.nt > 1 && m >= n && ceil_div(m, MR) >= 2 * p.nt && !(p.direct_a && p.direct_b) &&
                   !p.owned_columns;
    p.mc_max = even_block(p.split_rows ? ceil_div(ceil_div(m, MR), p.nt) * MR : m, blocks.mc, MR);
    p.apack_size = p.kc_max * ceil_div(p.mc_max, MR) * MR;
    p.bpack = static_cast<T*>(workspace(kPackB, sizeof(T) * p.kc_max * ceil_div(p.nc_max, NR) * NR));
    p.apack = static_cast<T*>(workspace(kPackA, sizeof(T) * p.apack_size * p.nt));
    p.owned_panels = (p.direct_a || p.direct_at) && p.nc_max >= n && (p.direct_b ? p.mc_max >= m : a_block_fits);
    return p;
}

// The macro-kernel: tiles [t_lo, t_hi) (column panel major) of the MC block at row ic (mc rows) for
// the pass pc .. pc + kc over k, with A's block packed in `ablock` (unless read in place) and the
// column panels of B from column jc packed in p.bpack (unless read in place).
template <class T>
void macro_kernel(const GemmPlan<T>& p, int64_t jc, int64_t pc, int64_t kc, int64_t ic, int64_t mc, const T* ablock,
                  int64_t t_lo, int64_t t_hi) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    const int64_t mpanels = ceil_div(mc, MR);
    const bool accumulate = pc > 0, last = pc + kc == p.k;
    // (jp, ip) of tile t, stepped along rather than divided out per tile (a divide costs
    // as much as a tiny tile's whole product)
    int64_t jp = t_lo / mpanels, ip = t_lo % mpanels;
    for (int64_t t = t_lo; t < t_hi; ++t, ip = ip + 1 == mpanels ? (++jp, 0) : ip + 1) {
        int64_t r0;
        int rows;
        panel_rows<MR>(ip, mpanels, mc, p.direct_a || p.direct_at, &r0, &rows);
        const int64_t i0 = ic + r0, j0 = jc + jp * NR;
        const int cols = int(p.n - j0 < NR ? p.n - j0 : NR);
        T* ct = p.c + i0 * p.c_rs + j0 * p.c_cs;
        const T* at = p.direct_a    ? p.a + i0 * p.a_rs + pc
                      : p.direct_at ? p.a + i0 + pc * p.a_cs
                                    : ablock + ip * MR * kc;  // packed: r0 == ip * MR
        const ALayout al = p.direct_a ? ALayout{p.a_rs, false} : p.direct_at ? ALayout{p.a_cs, true} : ALayout{MR, true};
        const bool b_in_place = p.direct_b && cols == NR;
        const T* bt = b_in_place ? p.b + pc * p.b_rs + j0 : p.bpack + jp * NR * kc;
        if (p.c_cs == 1 && t + 1 < t_hi) {  // the next tile: the next row panel, or the next column panel's first
            const bool down = ip + 1 < mpanels;
            const int64_t next_r0 = down ? r0 + rows : 0;
            prefetch_tile<T, NR>(p.c + (ic + next_r0) * p.c_rs + jc + (down ? jp : jp + 1) * NR, p.c_rs,
                                 int(mc - next_r0 < MR ? mc - next_r0 : MR));
        }
        compute_tile<T>(ct, p.c_rs, p.c_cs, rows, cols, accumulate, at, al, bt,
                        b_in_place ? p.b_rs : NR, kc, last && p.bias ? p.bias + j0 : nullptr,
                        last ? p.act : Activation::linear);
    }
}

// A thread's own column panels [lo, hi) of the column block at jc (nc columns, npanels panels)
// for the pass pc .. pc + kc over k, packed into bpack unless B is read in place (then only the
// owner of a partial last panel packs it). Returns the plan whose bpack reads them: the panels
// start at lo * NR * kc_max whatever this pass's kc, so packing a shorter pass never overwrites
// panels another thread sharing bpack is still reading.
template <class T>
GemmPlan<T> pack_own_panels(const GemmPlan<T>& p, T* bpack, int64_t jc, int64_t nc, int64_t npanels, int64_t pc,
                            int64_t kc, int64_t lo, int64_t hi) {
    constexpr int NR = Blocking<T>::NR;
    GemmPlan<T> mine = p;
    mine.bpack = bpack + lo * NR * (p.kc_max - kc);
    if (!p.direct_b) pack_b<T, NR>(mine.bpack, p.b, p.b_rs, p.b_cs, pc, jc, nc, kc, lo, hi);
    else if (nc % NR && hi == npanels)
        pack_b<T, NR>(mine.bpack, p.b, p.b_rs, p.b_cs, pc, jc, nc, kc, npanels - 1, npanels);
    return mine;
}

// The driver when A is read in place and B is one column block (p.owned_panels): each thread owns
// whole column panels of B and packs them itself (pack_own_panels), so no thread reads what
// another packs and the passes over k need no barrier at all.
template <class T>
void run_owned_panels(const GemmPlan<T>& p, int tid, int team) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    const int64_t n = p.n, k = p.k, kc_max = p.kc_max;
    const int64_t npanels = ceil_div(n, NR), mpanels = ceil_div(p.m, MR);
    int64_t lo, hi;
    split(npanels, tid, team, &lo, &hi);
    for (int64_t pc = 0; pc < k; pc += kc_max) {
        const int64_t kc = k - pc < kc_max ? k - pc : kc_max;
        const GemmPlan<T> mine = pack_own_panels(p, p.bpack, 0, n, npanels, pc, kc, lo, hi);
        macro_kernel(mine, 0, pc, kc, 0, p.m, static_cast<const T*>(nullptr), lo * mpanels, hi * mpanels);
    }
}

// The driver when A is packed and B is at least as wide as A is tall (p.owned_columns): each
// thread owns whole column panels of every column block of B and packs them, and packs every
// block of A into its own buffer (the same A block once per thread), so no thread reads what
// another wrote and no pass waits at a barrier. Each thread packs B into its own workspace: the
// threads run through the column blocks unsynchronized, and a thread's panels in one block may
// lie where another thread's were in the block before (a last block of fewer panels).
template <class T>
void run_owned_columns(const GemmPlan<T>& p, int tid, int team) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    const int64_t n = p.n, k = p.k, nc_max = p.nc_max, kc_max = p.kc_max, mc_max = p.mc_max;
    T* my_apack = p.apack + tid * p.apack_size;
    T* my_bpack = static_cast<T*>(workspace(kPackB, sizeof(T) * kc_max * ceil_div(nc_max, NR) * NR));
    for (int64_t jc = 0; jc < n; jc += nc_max) {
        const int64_t nc = n - jc < nc_max ? n - jc : nc_max;
        const int64_t npanels = ceil_div(nc, NR);
        int64_t lo, hi;
        split(npanels, tid, team, &lo, &hi);
        if (lo == hi) continue;
        for (int64_t pc = 0; pc < k; pc += kc_max) {
            const int64_t kc = k - pc < kc_max ? k - pc : kc_max;
            const GemmPlan<T> mine = pack_own_panels(p, my_bpack, jc, nc, npanels, pc, kc, lo, hi);
            for (int64_t ic = 0; ic < p.m; ic += mc_max) {
                const int64_t mc = p.m - ic < mc_max ? p.m - ic : mc_max;
                const int64_t mpanels = ceil_div(mc, MR);
                pack_a<T, MR>(my_apack, p.a, p.a_rs, p.a_cs, ic, pc, mc, kc, 0, mpanels);
                macro_kernel(mine, jc, pc, kc, ic, mc, my_apack, lo * mpanels, hi * mpanels);
            }
        }
    }
}

// The packed driver, thread `tid` of `team` (BLIS's loops jc -> pc -> ic around the macro-kernel).
// The team packs each KC x NC panel of B once, shared; a barrier separates packing from the tiles
// that read it. With split_rows each thread then runs the MC blocks of its own rows with its own
// packed A (no barrier per block); otherwise the team packs each block of A together and splits its
// tiles, column panel by column panel.
template <class T>
void run_packed(const GemmPlan<T>& p, int tid, int team) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    const int64_t n = p.n, k = p.k, nc_max = p.nc_max, kc_max = p.kc_max, mc_max = p.mc_max;
    int64_t row_lo = 0, row_hi = p.m;  // this thread's rows when split
    if (p.split_rows && team > 1) {
        if (p.direct_a || p.direct_at) {
            // A read in place takes any row count (panel_rows evens out the last two panels), so
            // the threads get equal rows: 128 as 64 + 64, not 60 + 68 in 12-row panels
            split(p.m, tid, team, &row_lo, &row_hi);
        } else {  // whole MR panels, which pack_a fills
            split(ceil_div(p.m, MR), tid, team, &row_lo, &row_hi);
            row_lo *= MR;
            row_hi = row_hi * MR < p.m ? row_hi * MR : p.m;
        }
    }
    const bool own = p.split_rows || team == 1;
    T* my_apack = p.apack + (p.split_rows ? tid * p.apack_size : 0);
    for (int64_t jc = 0; jc < n; jc += nc_max) {
        const int64_t nc = n - jc < nc_max ? n - jc : nc_max;
        const int64_t npanels = ceil_div(nc, NR);
        for (int64_t pc = 0; pc < k; pc += kc_max) {
            const int64_t kc = k - pc < kc_max ? k - pc : kc_max;
            int64_t lo, hi;
            if (p.direct_b) {  // only a partial last panel is packed, zero-padded
                if (tid == 0 && nc % NR)
                    pack_b<T, NR>(p.bpack, p.b, p.b_rs, p.b_cs, pc, jc, nc, kc, npanels - 1, npanels);
            } else {
                split(npanels, tid, team, &lo, &hi);
                pack_b<T, NR>(p.bpack, p.b, p.b_rs, p.b_cs, pc, jc, nc, kc, lo, hi);
            }
            team_barrier(team);
            for (int64_t ic = row_lo; ic < row_hi; ic += mc_max) {
                const int64_t mc = row_hi - ic < mc_max ? row_hi - ic : mc_max;
                const int64_t mpanels = ceil_div(mc, MR);
                if (own) {
                    if (!p.direct_a && !p.direct_at)
                        pack_a<T, MR>(my_apack, p.a, p.a_rs, p.a_cs, ic, pc, mc, kc, 0, mpanels);
                    macro_kernel(p, jc, pc, kc, ic, mc, my_apack, 0, npanels * mpanels);
                    continue;
                }
                if (!p.direct_a && !p.direct_at) {  // unless A is read in place, the team packs it
                    split(mpanels, tid, team, &lo, &hi);
                    pack_a<T, MR>(my_apack, p.a, p.a_rs, p.a_cs, ic, pc, mc, kc, lo, hi);
                }
                team_barrier(team);
                split(npanels * mpanels, tid, team, &lo, &hi);
                macro_kernel(p, jc, pc, kc, ic, mc, my_apack, lo, hi);
                team_barrier(team);
            }
            team_barrier(team);  // every tile of this pass is done before B is packed again
        }
    }
}

// Up to this many columns of C (a Dense layer's few outputs), C is computed element by element:
// an MR x NR tile would spend NR multiply-adds per row and k for these few.
constexpr int64_t kNarrowColumns = 3;
// Rows of C whose sums run together (independent chains hide the multiply-add's latency).
constexpr int kNarrowRows = 8;

#ifndef NNFAST_TRANSPOSE_VECTORS
// Up to this many bytes of A, a narrow product runs transposed through the tiles (gemm): the
// packed copy of a larger A leaves L2 and loses to the scalar chains (1024 x 256 by 256 x 1: 44 ->
// 52 us on 1 thread).
constexpr int64_t kNarrowTransposedMaxA = 256 * 1024;
#endif

// acc + x * y, rounded as the micro-kernel's vector multiply-add rounds it: fused where the level has FMA.
template <class T>
NNFAST_ALWAYS_INLINE T multiply_add(T acc, T x, T y) {
#ifdef __FMA__
    return std::fma(x, y, acc);
#else
    return acc + x * y;
#endif
}

// C (m, n), n <= kNarrowColumns, of a row-major A (element (i, j) at c[i*c_rs + j*c_cs]), then
// the epilogue (which needs c_cs == 1: the caller transposes C only without bias and activation).
// Each element is the tiles' own chain - from zero, one multiply-add per k in increasing k - so
// the bits are the tiles'; row groups are split over threads. Its scalar multiply-adds each cost a work unit of
// threads_for, as an element-wise operation: 16 to 32 times the tiles' cost per multiply-add.
template <class T>
void narrow_product(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, const T* b, int64_t b_rs,
                    int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    const int64_t groups = ceil_div(m, kNarrowRows);
    parallel_for(groups, 1, kNarrowRows * n * k, [&](int64_t g0, int64_t g1) {
        for (int64_t g = g0; g < g1; ++g) {
            const int64_t i0 = g * kNarrowRows;
            const int rows = int(m - i0 < kNarrowRows ? m - i0 : kNarrowRows);
            for (int64_t j = 0; j < n; ++j) {
                T acc[kNarrowRows] = {};
                if (rows == kNarrowRows) {  // a whole group: a fixed count, unrolled into 8 register chains
                    for (int64_t p = 0; p < k; ++p) {
                        const T bp = b[p * b_rs + j * b_cs];
#pragma GCC unroll 8
                        for (int r = 0; r < kNarrowRows; ++r) acc[r] = multiply_add(acc[r], a[(i0 + r) * a_rs + p], bp);
                    }
                } else {
                    for (int64_t p = 0; p < k; ++p) {
                        const T bp = b[p * b_rs + j * b_cs];
                        for (int r = 0; r < rows; ++r) acc[r] = multiply_add(acc[r], a[(i0 + r) * a_rs + p], bp);
                    }
                }
                for (int r = 0; r < rows; ++r) c[(i0 + r) * c_rs + j * c_cs] = acc[r];
            }
            if (bias || act != Activation::linear)  // else C may be stored transposed: nothing to finish
                epilogue(c + i0 * c_rs, c_rs, rows, int(n), bias, act);
        }
    });
}

#ifdef NNFAST_TRANSPOSE_VECTORS
// narrow_rows_product's rows [0, kLanes) of C's N columns, from A's rows at a and all of B: one
// vector of sums per column, A's kLanes x kLanes blocks transposed in registers so that each lane
// runs its row's chain. The out-of-order core overlaps a block's chains with the next block's
// shuffles: two blocks' chains interleaved by hand measured slower.
template <class T, int N>
void narrow_rows_block(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, const T* b, int64_t b_rs,
                       int64_t b_cs, int64_t k) {
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;
    constexpr int L = Blocking<T>::kLanes;
    V acc[N] = {};
    int64_t p = 0;
    for (; p + L <= k; p += L) {
        V col[L];
#pragma GCC unroll 16
        for (int r = 0; r < L; ++r) col[r] = *reinterpret_cast<const U*>(a + r * a_rs + p);
        transpose_vectors<T>(col);
#pragma GCC unroll 16
        for (int q = 0; q < L; ++q)
#pragma GCC unroll 3
            for (int j = 0; j < N; ++j) acc[j] += col[q] * b[(p + q) * b_rs + j * b_cs];  // as the micro-kernel
    }
    for (; p < k; ++p) {
        V col;
        for (int r = 0; r < L; ++r) col[r] = a[r * a_rs + p];
        for (int j = 0; j < N; ++j) acc[j] += col * b[p * b_rs + j * b_cs];
    }
    for (int j = 0; j < N; ++j)
        for (int r = 0; r < L; ++r) c[r * c_rs + j * c_cs] = acc[j][r];
}

// C (m, n), n <= kNarrowColumns, of a row-major A, then the epilogue: kLanes rows of C at a time
// (narrow_rows_block), each element the tiles' own chain - from zero, one multiply-add per k in
// increasing k, written as the micro-kernel writes it - so the bits are the tiles'. The tiles
// would first pack A^T through memory (256 x 256 by 256 x 1: 7.1 us -> 4.9 us; 4096 x 784 by
// 784 x 1, past L2, where narrow_product's scalar chains ran: 505 -> 227 us; Zen 5, 1 thread).
// Rows past the last whole block take narrow_product's chains. C as narrow_product takes it.
template <class T>
void narrow_rows_product(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, const T* b, int64_t b_rs,
                         int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    constexpr int L = Blocking<T>::kLanes;
    const int64_t blocks = m / L;
    parallel_for(blocks, 1, L * n * k, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            T* ci = c + i * L * c_rs;
            const T* ai = a + i * L * a_rs;
            if (n == 1) narrow_rows_block<T, 1>(ci, c_rs, c_cs, ai, a_rs, b, b_rs, b_cs, k);
            else if (n == 2) narrow_rows_block<T, 2>(ci, c_rs, c_cs, ai, a_rs, b, b_rs, b_cs, k);
            else narrow_rows_block<T, 3>(ci, c_rs, c_cs, ai, a_rs, b, b_rs, b_cs, k);
        }
    });
    if (blocks > 0 && (bias || act != Activation::linear)) epilogue(c, c_rs, int(blocks * L), int(n), bias, act);
    if (blocks * L < m)
        narrow_product<T>(c + blocks * L * c_rs, c_rs, c_cs, a + blocks * L * a_rs, a_rs, b, b_rs, b_cs, bias,
                          m - blocks * L, n, k, act);
}
#endif

// Up to this many terms per element (k), C is computed a row at a time in whole vectors: dx = dz
// w^T of a layer with one output is an outer product, where packing and tiles cost many times
// its one multiply-add per element (256 x 256, 1 thread: 13 us through the tiles, 7 us this way,
// the time of storing C).
constexpr int64_t kShortK = 3;

// C (m, n) of a product with k <= kShortK and row-major B and C, then the epilogue. Each element
// is the tiles' own chain - from zero, one multiply-add per k in increasing k - so the bits are
// the tiles'; rows are split over threads.
template <class T>
void short_k_product(T* c, int64_t c_rs, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
                     const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    parallel_for(m, 1, n * (k + 1), [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            T* ci = c + i * c_rs;
            const T* ai = a + i * a_rs;
            const T a0 = ai[0];
#pragma omp simd
            for (int64_t j = 0; j < n; ++j) ci[j] = multiply_add(T(0), a0, b[j]);
            for (int64_t p = 1; p < k; ++p) {
                const T ap = ai[p * a_cs];
                const T* bp = b + p * b_rs;
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) ci[j] = multiply_add(ci[j], ap, bp[j]);
            }
            epilogue(ci, c_rs, 1, int(n), bias, act);
        }
    });
}

// Up to this many rows of C (one sample's forward; dw^T = dz^T x of a layer with one to three
// outputs, as gemm turns it), C is computed kShortMVectors whole vectors along n at a time, the
// k terms added in order into sums held in registers, each row of B read once for every row of C:
// a tile keeps only NR columns' sums in flight, one chain of k multiply-adds per vector (256 x 256
// by 256 x 1 as dz^T x: 3.8 us through the tiles on the Zen 5, 1 thread).
constexpr int64_t kShortM = 3;
constexpr int kShortMVectors = Blocking<float>::kLanes == 16 ? 8 : 4;  // 24 of AVX-512's 32 registers, 12 of 16

// Rows [0, ROWS) of C's columns [j0, j0 + cols), cols <= kShortMVectors * kLanes.
template <class T, int ROWS>
void short_m_block(T* c, int64_t c_rs, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
                   int64_t k, int64_t j0, int cols) {
    using V = typename Vec<T>::type;
    using U = typename Vec<T>::unaligned;
    constexpr int L = Blocking<T>::kLanes;
    const int whole = cols / L;
    V acc[ROWS][kShortMVectors] = {};
    T rest[ROWS][L] = {};  // the last cols % L columns
    for (int64_t p = 0; p < k; ++p) {
        const T* bp = b + p * b_rs + j0;
        T ap[ROWS];
        for (int r = 0; r < ROWS; ++r) ap[r] = a[r * a_rs + p * a_cs];
#pragma GCC unroll 8
        for (int v = 0; v < kShortMVectors; ++v) {
            if (v >= whole) break;
            const V bv = *reinterpret_cast<const U*>(bp + v * L);
            for (int r = 0; r < ROWS; ++r) acc[r][v] += ap[r] * bv;  // as the micro-kernel writes it
        }
        for (int j = whole * L; j < cols; ++j)
            for (int r = 0; r < ROWS; ++r) rest[r][j - whole * L] = multiply_add(rest[r][j - whole * L], ap[r], bp[j]);
    }
    for (int r = 0; r < ROWS; ++r) {
        T* cr = c + r * c_rs + j0;
        for (int v = 0; v < whole; ++v) *reinterpret_cast<U*>(cr + v * L) = acc[r][v];
        for (int j = whole * L; j < cols; ++j) cr[j] = rest[r][j - whole * L];
    }
}

// C (m, n) of a product with m <= kShortM and row-major B and C, then the epilogue. Each element
// is the tiles' own chain - from zero, one multiply-add per k in increasing k - so the bits are
// the tiles'; column blocks are split over threads.
template <class T>
void short_m_product(T* c, int64_t c_rs, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
                     const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    constexpr int W = kShortMVectors * Blocking<T>::kLanes;
    parallel_for(ceil_div(n, W), 1, m * W * k, [&](int64_t q0, int64_t q1) {
        for (int64_t q = q0; q < q1; ++q) {
            const int64_t j0 = q * W;
            const int cols = int(n - j0 < W ? n - j0 : W);
            if (m == 1) short_m_block<T, 1>(c, c_rs, a, a_rs, a_cs, b, b_rs, k, j0, cols);
            else if (m == 2) short_m_block<T, 2>(c, c_rs, a, a_rs, a_cs, b, b_rs, k, j0, cols);
            else short_m_block<T, 3>(c, c_rs, a, a_rs, a_cs, b, b_rs, k, j0, cols);
        }
    });
    epilogue(c, c_rs, int(m), int(n), bias, act);  // whole rows: softmax needs them
}

// The products the tiles' plan does not fit (empty, narrow, few terms or rows): runs one and returns
// true, or returns false for the plan to run.
template <class T>
bool run_edge_product(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b,
                      int64_t b_rs, int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    constexpr int NR = Blocking<T>::NR;
    const bool plain = !bias && act == Activation::linear;  // nothing to finish: C may be stored transposed
    // C^T (n, m) = B^T A^T, stored through C's strides swapped, with nothing to finish. Each
    // element's sum runs over the same terms in the same order as C's: the same bits.
    const auto as_transpose = [&] {
        gemm<T>(c, c_cs, c_rs, b, b_cs, b_rs, a, a_cs, a_rs, nullptr, n, m, k, Activation::linear);
        return true;
    };
    if (m == 0 || n == 0) return true;
    if (k == 0) {  // an empty sum: act(bias) or act(0)
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) c[i * c_rs + j * c_cs] = activate(bias ? bias[j] : T(0), act);
        return true;
    }
    // A product narrower than a panel with a transposed A (dw = x^T dz of a narrow layer): C^T =
    // B^T A^T has full panels, reads A^T's rows in place and packs only the small B^T.
    if (n < NR && m >= 2 * NR && a_rs == 1 && a_cs != 1 && plain) return as_transpose();
#ifdef NNFAST_TRANSPOSE_VECTORS
    // One to three columns of a row-major A (the output layer of a binary classifier or regressor,
    // x w): whole vectors down kLanes rows at a time, A transposed in registers block by block.
    if (n <= kNarrowColumns && a_cs == 1 && (c_cs == 1 || plain) && m >= Blocking<T>::kLanes && k > kShortK) {
        narrow_rows_product<T>(c, c_rs, c_cs, a, a_rs, b, b_rs, b_cs, bias, m, n, k, act);
        return true;
    }
#else
    // Without vector shuffles (older compilers): if A fills panels and fits L2, C^T = B^T A^T,
    // whose packing transposes A in 4 x 4 register blocks, runs whole vectors along A's rows,
    // 1.3-3.7x faster than narrow_product's scalar chains. The bias and activation follow in one
    // pass.
    if (n <= kNarrowColumns && a_cs == 1 && c_cs == 1 && m >= 2 * NR && k > kShortK &&
        m * k * int64_t(sizeof(T)) <= kNarrowTransposedMaxA) {
        as_transpose();
        if (bias || act != Activation::linear) epilogue(c, c_rs, int(m), int(n), bias, act);
        return true;
    }
#endif
    if (n <= kNarrowColumns && a_cs == 1 && (c_cs == 1 || plain)) {
        narrow_product<T>(c, c_rs, c_cs, a, a_rs, b, b_rs, b_cs, bias, m, n, k, act);
        return true;
    }
    if (k <= kShortK && b_cs == 1 && c_cs == 1) {
        short_k_product<T>(c, c_rs, a, a_rs, a_cs, b, b_rs, bias, m, n, k, act);
        return true;
    }
    if (m <= kShortM && b_cs == 1 && c_cs == 1) {
        short_m_product<T>(c, c_rs, a, a_rs, a_cs, b, b_rs, bias, m, n, k, act);
        return true;
    }
    // The same few rows of C with a transposed B (dx = dz w^T of one sample): C^T = B^T A^T is a
    // narrow product of the row-major B^T.
    if (m <= kShortM && b_rs == 1 && b_cs != 1 && n >= Blocking<T>::kLanes && plain) return as_transpose();
    return false;
}

// Plan p's driver: over a team of p.nt threads, or, for one thread, with no parallel region at all
// (its entry costs microseconds).
template <class T>
void run_plan(const GemmPlan<T>& p) {
    constexpr int NR = Blocking<T>::NR;
    if (p.nt > 1) {  // on p.nt threads (or fewer, if the runtime gives fewer)
        if (p.owned_panels && ceil_div(p.n, NR) % p.nt == 0)
            return run_on_threads(p.nt, [&](int tid, int team) { run_owned_panels(p, tid, team); });
        if (p.owned_columns)
            return run_on_threads(p.nt, [&](int tid, int team) { run_owned_columns(p, tid, team); });
        return run_on_threads(p.nt, [&](int tid, int team) { run_packed(p, tid, team); });
    }
    if (p.owned_panels) return run_owned_panels(p, 0, 1);
    run_packed(p, 0, 1);
}

// Whether plan p is one pass over k of panels of B with A read in place, the lead's packing then
// every tile independent of the others: gemm_shared's shape (dense_backward's dx of a hidden layer).
template <class T>
bool shares_tiles(const GemmPlan<T>& p) {
    return p.nt == 1 && p.owned_panels && p.k <= p.kc_max;
}

// Tiles of plan p taken from share's counter a few at a time, until none is left; returns how many
// this thread took.
template <class T>
int64_t take_shared_tiles(const GemmPlan<T>& p, TileShare& share) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    // a few microseconds of work per take: the other thread's last take is what it may wait for
    constexpr int64_t kTilesPerTake = 4;
    const int64_t tiles = ceil_div(p.n, NR) * ceil_div(p.m, MR);
    for (int64_t taken = 0;;) {
        const int64_t t = share.next_tile.fetch_add(kTilesPerTake, std::memory_order_relaxed);
        if (t >= tiles) return taken;
        const int64_t end = std::min(t + kTilesPerTake, tiles);
        macro_kernel(p, 0, 0, p.k, 0, p.m, static_cast<const T*>(nullptr), t, end);
        taken += end - t;
    }
}

}  // namespace

// The edge cases, then the plan and its driver.
template <class T>
void gemm(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
          int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
    if (run_edge_product<T>(c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, bias, m, n, k, act)) return;
    run_plan(plan_gemm<T>(c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, bias, m, n, k, act));
}

template <class T>
void gemm_shared(TileShare& share, bool lead, T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs,
                 int64_t a_cs, const T* b, int64_t b_rs, int64_t b_cs, int64_t m, int64_t n, int64_t k) {
    // a wait for the other thread is short (the lead's packing, which dw's product has usually
    // outlasted; in tests, the other's first take): spun, then yielding
    constexpr int kSpins = 4096;
    if (!lead) {
        spin_wait([&] { return share.state.load(std::memory_order_acquire) != TileShare::kPacking; }, kSpins);
        if (share.state.load(std::memory_order_acquire) == TileShare::kNotShared) return;
        // the lead's plan, made again here (the same arguments give the same plan), reading its panels
        GemmPlan<T> p = plan_gemm<T>(c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, nullptr, m, n, k, Activation::linear);
        p.bpack = static_cast<T*>(const_cast<void*>(share.packed_b));
        note_shared_tiles(take_shared_tiles(p, share));
        return;
    }
    constexpr int NR = Blocking<T>::NR;
    const Activation linear = Activation::linear;
    if (run_edge_product<T>(c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, nullptr, m, n, k, linear)) {
        share.state.store(TileShare::kNotShared, std::memory_order_release);
        return;
    }
    const GemmPlan<T> p = plan_gemm<T>(c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, nullptr, m, n, k, linear);
    if (!shares_tiles(p)) {
        share.state.store(TileShare::kNotShared, std::memory_order_release);
        return run_plan(p);
    }
    const int64_t npanels = ceil_div(n, NR);
    const GemmPlan<T> packed = pack_own_panels(p, p.bpack, 0, n, npanels, 0, k, 0, npanels);
    share.packed_b = packed.bpack;
    share.state.store(TileShare::kTilesReady, std::memory_order_release);
    if (share.lead_waits_for_other) {
        // bounded, so that a second thread that never comes fails a test instead of hanging it
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        spin_wait([&] { return share.next_tile.load(std::memory_order_relaxed) > 0 ||
                               std::chrono::steady_clock::now() > give_up; }, kSpins);
    }
    take_shared_tiles(packed, share);
}

template <class T>
GemmBlocking gemm_blocking() {
    return gemm_blocks<T>();
}

NNFAST_INSTANTIATE_GEMM

}  // namespace NNFAST_TILE_NS(NNFAST_GEMM_MR)
}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
