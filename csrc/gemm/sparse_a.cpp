// Products with a mostly-zero A, skipping its zeros (gemm/sparse_a.h), written once over the vector
// operations of gemm/sparse_simd.h. The AVX-512 and AVX2 levels have a kernel: there a row of A
// compresses into its nonzero terms with a compare and a lane permutation per vector, where the
// other levels would need a scalar loop costing about what the skipped terms save.
#include "gemm/sparse_a.h"

#include <atomic>
#include <numeric>
#include <type_traits>

#include "dispatch/cpu_features.h"
#include "dispatch/dispatch.h"
#include "gemm/epilogue.h"
#include "gemm/gemm.h"
#include "gemm/sparse_simd.h"
#include "memory/workspace.h"
#include "parallel/parallel_for.h"
#include "parallel/threads.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

#if defined(NNFAST_SPARSE_SIMD)
namespace {

using S = SparseSimd;
using V = S::V;
constexpr int kLanes = S::kLanes, kVectors = S::kVectors, kGroup = S::kGroup;
constexpr int kPanel = kVectors * kLanes;  // columns of B per packed panel, of C per block
constexpr int64_t kRun = 64;               // groups whose lists are padded before their products
constexpr int64_t kMinSide = 16;           // fewer rows or terms: the dense GEMM
constexpr int64_t kMinColumns = 64;        // fewer columns: compressing A costs more than the skipped terms save
constexpr int64_t kSampleRows = 8;         // stored rows of A counted to estimate its density
// A group of rows whose longest list has at least this share of the k terms runs with all k terms
// (pad_group, full_row): B's row for each step is then loaded once for the group's rows, as the
// GEMM's tile does, not once for each row (full_group_block).
constexpr double kFullShare = 0.875;
// What storing C transposed and packing B cost per element of C, in terms of a row's list
// (S::kTransposedStoreTerms): a product with k terms a row then pays only below the density limit
// times (1 - terms * share / k), share being that of C's blocks transposed in registers
// (transposed_share; those of dead relu units are not). dw = (dz^T x)^T on one thread at
// AVX-512, Zen 4 (k the batch): break-even near 0.33 nonzeros at k = 32, above 0.5 at 64, 0.65 at
// 128 (16 terms). On more threads the 784-128-10 MLP's batch-32 step took 1.03-1.07x the time with it,
// even at 6% nonzeros, though its backward alone took the same 62 us (the scratch block crowds
// the step's later parts out of the caches); at batch 64 0.89x: so there a batch of 32 keeps the
// GEMM (32 terms). AVX2's kernel pays less per term and more per element (64 terms). These were
// measured with C stored from a whole row-major scratch C; a panel at a time (run_panels) costs
// less, but the limits measured no better lower (16 terms on two threads, 8, 0 on one: the MLP's
// epochs within the host's noise; at AVX2 32 terms kept the GEMM and 16 took 1.34x its time).
// entries past a list's last step that group_block may load, whichever way it takes them
constexpr int kSpareEntries = S::EntryRegisters::kTermsPerLoad > S::EntryLoads::kTermsPerLoad
                                  ? S::EntryRegisters::kTermsPerLoad
                                  : S::EntryLoads::kTermsPerLoad;

// The largest share of nonzeros at which skipping them beats the GEMM: higher where AVX-512 runs
// as two halves, whose GEMM multiply-adds no faster than AVX2's (1024 x 256 x 784 at half
// nonzeros, Zen 4: 0.68x the GEMM's time on one thread, 0.73x on two).
double max_density() {
    static const double limit = cpu_halves_avx512() ? S::kMaxDensityOnHalves : S::kMaxDensity;
    return limit;
}

// r[q] = the q-th kLanes-float line of the block at src (lines ld apart), transposed in registers:
// r[q] lane u = src[u*ld + q]. Only `lines` lines and their first `lanes` floats are read; the rest
// load as zeros.
inline void load_transposed(V* r, const float* src, int64_t ld, int64_t lines, int64_t lanes) {
#pragma GCC unroll 16
    for (int u = 0; u < kLanes; ++u) r[u] = u < lines ? S::load_first(src + u * ld, lanes) : S::zero();
    transpose_registers<S>(r);
}

// B (k, n; B(p, j) = b[p*b_rs + j*b_cs], b_cs == 1 or b_rs == 1) as panels of kPanel columns, each
// k rows of kPanel floats, the last padded with zeros: the terms of a row of A then read whole
// lines of one 32 KiB panel (for k = 256) that stays in L1, where B's own rows, n floats apart,
// share a few cache sets. B's rows [p0, p1) of every panel. Returns whether every value packed is
// finite (x - x is 0, not NaN).
bool pack_panels(float* panels, const float* b, int64_t b_rs, int64_t b_cs, int64_t k, int64_t n, int64_t p0,
                 int64_t p1) {
    const int64_t panel_count = (n + kPanel - 1) / kPanel;
    unsigned not_finite = 0;
    if (b_cs == 1) {
        for (int64_t p = p0; p < p1; ++p)  // B's rows in order: sequential reads the prefetchers follow
            for (int64_t q = 0; q < panel_count; ++q) {
                const int64_t j0 = q * kPanel;
                float* dst = panels + (q * k + p) * kPanel;
#pragma GCC unroll 4
                for (int v = 0; v < kVectors; ++v) {
                    const V x = S::load_first(b + p * b_rs + j0 + v * kLanes, n - j0 - v * kLanes);
                    not_finite |= S::not_finite(x);
                    S::store(dst + v * kLanes, x);
                }
            }
        return not_finite == 0;
    }
    // B's columns are contiguous (w read as w^T, in dx = dz w^T): kLanes x kLanes blocks are
    // transposed in registers, columns past n and rows past p1 loading as zeros
    for (int64_t q = 0; q < panel_count; ++q)
        for (int v = 0; v < kVectors; ++v) {
            const int64_t j = q * kPanel + v * kLanes, cols = n - j;  // cols <= 0: a padding vector
            for (int64_t p = p0; p < p1; p += kLanes) {
                const int64_t rows = p1 - p < kLanes ? p1 - p : kLanes;
                V r[kLanes];
                load_transposed(r, b + p + j * b_cs, b_cs, cols, rows);
#pragma GCC unroll 16
                for (int u = 0; u < kLanes; ++u)
                    if (u < rows) {
                        not_finite |= S::not_finite(r[u]);
                        S::store(panels + (q * k + p + u) * kPanel + v * kLanes, r[u]);
                    }
            }
        }
    return not_finite == 0;
}

// Whether every value of the block of `rows` rows of `cols` floats, rows ld apart, is finite.
bool all_finite_block(const float* b, int64_t ld, int64_t rows, int64_t cols) {
    unsigned not_finite = 0;
    for (int64_t p = 0; p < rows; ++p)
        for (int64_t j = 0; j < cols; j += kLanes) not_finite |= S::not_finite(S::load_first(b + p * ld + j, cols - j));
    return not_finite == 0;
}

// The share of nonzeros in up to kSampleRows rows (of `cols` floats, `ld` apart) spread over `rows`.
double sampled_density(const float* s, int64_t rows, int64_t cols, int64_t ld) {
    const int64_t step = rows > kSampleRows ? rows / kSampleRows : 1;
    int64_t nonzero = 0, seen = 0;
    for (int64_t r = 0; r < rows && seen < kSampleRows * cols; r += step, seen += cols)
        for (int64_t p = 0; p < cols; p += kLanes) nonzero += __builtin_popcount(S::nonzero(S::load_first(s + r * ld + p, cols - p)));
    return double(nonzero) / double(seen);
}

// The nonzero terms of each row of A: row i's t-th, term[i*stride + t] for t < count[i], holds the
// term's value in its low 32 bits and the element offset of its row in a panel of B in the high 32:
// one load per term (the loop's limit is loads: two of B's row per term besides). stride =
// k + kLanes leaves room for whole-vector stores and for pad_group's zeros past the last step.
struct TermLists {
    uint64_t* term;
    int64_t* count;
    int64_t stride;
    int64_t b_step;  // floats between B's rows in a panel: kPanel when packed, B's row stride in place
};

// Row i's terms from the row-major row (k): the elements that are not zero (a NaN is not), in
// increasing p, with the offsets p * kPanel of their rows in a panel of B. A subnormal compares as
// zero exactly when the floating-point mode treats it as zero in the multiply-add too.
void compress_row(const TermLists& l, int64_t i, const float* row, int64_t k) {
    uint64_t* out = l.term + i * l.stride;
    int64_t count = 0;
    for (int64_t p = 0; p < k; p += kLanes) {
        const V x = S::load_first(row + p, k - p);  // lanes past k load as zeros: no terms
        count += S::store_terms(out + count, x, S::nonzero(x), int32_t(p * l.b_step), int32_t(l.b_step));
    }
    l.count[i] = count;
}

// Row i's list made full: its k entries in order, B's row p at p * kPanel, the zeros it skipped as
// terms +0 * B's row p, which add +-0, as a skipped one would. In place, from the last entry back
// (entry t moves to its p >= t).
void full_row(const TermLists& l, int64_t i, int64_t k) {
    uint64_t* term = l.term + i * l.stride;
    int64_t t = l.count[i] - 1;
    for (int64_t p = k - 1; p >= 0; --p) {
        const uint64_t offset = uint64_t(p * l.b_step) << 32;
        term[p] = t >= 0 && (term[t] & ~uint64_t(0xFFFFFFFF)) == offset ? term[t--] : offset;
    }
    l.count[i] = k;
}

// Pads the lists of the `rows` rows row[0 .. rows) with terms 0 * B's row 0 to the longest of them,
// so that they run in step: such a term adds +-0, as a skipped one would. Returns that length. The
// kSpareEntries entries after it are zeroed too: group_block loads them a step ahead, unused.
// When the longest has at least kFullShare * k terms, the group's rows are all made full
// (full_row) instead, and run as full_group_block: k steps that take a term for less.
int64_t pad_group(const TermLists& l, const int64_t* row, int rows, int64_t k) {
    int64_t steps = 0;
    for (int r = 0; r < rows; ++r) steps = l.count[row[r]] > steps ? l.count[row[r]] : steps;
    if (double(steps) >= kFullShare * double(k)) steps = k;
    for (int r = 0; r < rows; ++r) {
        if (steps == k && l.count[row[r]] < k) full_row(l, row[r], k);
        for (int64_t t = l.count[row[r]]; t < steps + kSpareEntries; ++t) l.term[row[r] * l.stride + t] = 0;
    }
    return steps;
}

// Where C's rows and columns are stored: C(i, j) at c[(i - row0)*ldc + j - col0], all of C
// (row0 = col0 = 0) or a block of it.
struct RowsOut {
    float* c;
    int64_t ldc, row0, col0;
    float* at(int64_t i, int64_t j) const { return c + (i - row0) * ldc + (j - col0); }
};

// C's rows row[0 .. R), columns [j0, j0 + cols), from their sums acc.
template <int R>
void store_group(const RowsOut& out, const int64_t* row, const V (&acc)[R][kVectors], int64_t j0, int64_t cols,
                 const float* bias, Activation act) {
    // + bias and relu or leaky_relu as the GEMM's tiles finish them in registers; other
    // activations keep the bare sum here, finished by epilogue()
    const bool in_registers = finishes_in_registers(act);
    const float* bias0 = in_registers && bias ? bias + j0 : nullptr;
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) {
        const int64_t lanes = cols - v * kLanes;
        if (lanes <= 0) break;
        const V add = bias0 ? S::load_first(bias0 + v * kLanes, lanes) : S::zero();
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            V x = bias0 ? S::add(acc[r][v], add) : acc[r][v];
            if (in_registers) x = S::finish(x, act);
            S::store_first(out.at(row[r], j0 + v * kLanes), x, lanes);
        }
    }
}

// C's rows row[0 .. R) and columns [j0, j0 + cols), cols <= kPanel, from `steps` terms of each
// row's list, all R rows in step, on B's panel of those columns, taking the entries as Fetch does
// (SparseSimd::EntryRegisters or EntryLoads).
template <class Fetch, int R>
void group_block(const RowsOut& out, const TermLists& l, const int64_t* row, int64_t steps, const float* panel,
                 int64_t j0, int64_t cols, const float* bias, Activation act) {
    constexpr int P = Fetch::kTermsPerLoad;
    const uint64_t* term[R];
    typename Fetch::Entries next[R];  // each row's next P entries, loaded a step ahead
    V acc[R][kVectors];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        term[r] = l.term + row[r] * l.stride;
        next[r] = Fetch::load_entries(term[r]);
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) acc[r][v] = S::zero();
    }
    // kTermsPerLoad terms of each row at a time (their entries in one load), then the rest one by
    // one. The entries of step t + P are loaded during step t, so that a term's B row address does
    // not wait on its entry's load: 0.92x the loop's time (256^3, 35% nonzeros, Zen 5). The load
    // past a row's last step reads the zeros pad_group left in the list's spare room.
    int64_t t = 0;
    for (; t + P <= steps; t += P) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const float* b_row[P];
            V value[P];
            const typename Fetch::Entries entries = next[r];
            next[r] = Fetch::load_entries(term[r] + t + P);
            Fetch::take_terms(entries, panel, b_row, value);
#pragma GCC unroll 4
            for (int u = 0; u < P; ++u)
#pragma GCC unroll 4
                for (int v = 0; v < kVectors; ++v) acc[r][v] = S::fma(value[u], S::load(b_row[u] + v * kLanes), acc[r][v]);
        }
    }
    for (; t < steps; ++t) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const uint64_t e = term[r][t];
            const float* b_row = panel + (e >> 32);
            const V value = S::broadcast_bits(uint32_t(e));
#pragma GCC unroll 4
            for (int v = 0; v < kVectors; ++v) acc[r][v] = S::fma(value, S::load(b_row + v * kLanes), acc[r][v]);
        }
    }
    store_group<R>(out, row, acc, j0, cols, bias, act);
}

// group_block for rows whose lists are full (full_row): step t of every row takes B's row t, loaded
// once for all R rows, where group_block loads a B row for each row's term. The 784-128-10 MLP's dw
// at batch 128 on learnable labels (about a third of the units alive, each with 97-100% of its
// samples' terms): the product's share of the epoch's samples 21% before, 18% with it (Zen 4).
template <int R>
void full_group_block(const RowsOut& out, const TermLists& l, const int64_t* row, int64_t k, const float* panel,
                      int64_t j0, int64_t cols, const float* bias, Activation act) {
    const uint64_t* term[R];
    V acc[R][kVectors];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
        term[r] = l.term + row[r] * l.stride;
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) acc[r][v] = S::zero();
    }
    for (int64_t t = 0; t < k; ++t) {
        V b[kVectors];
#pragma GCC unroll 4
        for (int v = 0; v < kVectors; ++v) b[v] = S::load(panel + t * l.b_step + v * kLanes);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const V value = S::broadcast_bits(uint32_t(term[r][t]));
#pragma GCC unroll 4
            for (int v = 0; v < kVectors; ++v) acc[r][v] = S::fma(value, b[v], acc[r][v]);
        }
    }
    store_group<R>(out, row, acc, j0, cols, bias, act);
}

// Rows in group g of m rows cut into groups of kGroup.
int group_rows(int64_t g, int64_t m) { return int((g + 1) * kGroup < m ? kGroup : m - g * kGroup); }

// group_block, or full_group_block for full lists (steps == k: pad_group made them full), for a
// group of `rows` (1 to kGroup) rows.
template <class Fetch, int R = kGroup>
void run_group(int rows, const RowsOut& out, const TermLists& l, const int64_t* row, int64_t steps, int64_t k,
               const float* panel, int64_t j0, int64_t cols, const float* bias, Activation act) {
    if constexpr (R > 1)
        if (rows < R) return run_group<Fetch, R - 1>(rows, out, l, row, steps, k, panel, j0, cols, bias, act);
    if (steps == k) full_group_block<R>(out, l, row, k, panel, j0, cols, bias, act);
    else group_block<Fetch, R>(out, l, row, steps, panel, j0, cols, bias, act);
}

// At most this many rows of kLanes with terms: their kLanes x kLanes blocks are stored as zeros and
// those rows' values one by one, instead of transposed in registers. A dead relu unit has no terms
// in dw = (dz^T x)^T, and units die or live for every sample alike: the 784-128-10 MLP at batch
// 32 keeps 8 of 128 on learnable labels and none on random ones, where the transposes of zeros
// took 9% of the epoch.
constexpr int kScatteredRows = kLanes / 4;

// The share of the kLanes-row blocks of C (m rows) that store_transposed transposes in registers,
// for A given transposed (A(i, p) = a[p*lda + i]): row i of C has terms when A's row i, stored as
// a column, holds a value that is not zero.
double transposed_share(const float* a, int64_t lda, int64_t m, int64_t k) {
    int64_t blocks = 0, transposed = 0;
    for (int64_t i = 0; i < m; i += kLanes, ++blocks) {
        unsigned with_terms = 0;
        for (int64_t p = 0; p < k; ++p) with_terms |= S::nonzero(S::load_first(a + p * lda + i, m - i));
        transposed += __builtin_popcount(with_terms) > kScatteredRows;
    }
    return blocks ? double(transposed) / double(blocks) : 0.0;
}

// Rows [i, i + count) of C stored as zeros, each of `terms` set bits one of them (bit q: row i + q)
// stored value by value: C(i, j) = c[j*ldc + i], row i at rows + (i - i0)*ld.
void store_scattered(float* c, int64_t ldc, const float* rows, int64_t ld, int64_t i0, int64_t i, int64_t count,
                     unsigned terms, int64_t n) {
    for (int64_t j = 0; j < n; ++j) S::store_first(c + j * ldc + i, S::zero(), count);
    for (; terms; terms &= terms - 1) {
        const int q = __builtin_ctz(terms);
        const float* row = rows + (i + q - i0) * ld;
        for (int64_t j = 0; j < n; ++j) c[j * ldc + i + q] = row[j];
    }
}

// C's rows [i0, i1), columns [0, n) (row i at rows + (i - i0)*ld) into c, where C(i, j) =
// c[j*ldc + i]: kLanes x kLanes blocks transposed in registers, ragged edges loaded and stored in part.
// With `terms` (row i's count at terms[i]; its row then all +0 when that is 0), rows of kLanes
// with few terms are stored by store_scattered.
void store_transposed(float* c, int64_t ldc, const float* rows, int64_t ld, int64_t i0, int64_t i1, int64_t n,
                      const int64_t* terms) {
    for (int64_t i = i0; i < i1; i += kLanes) {
        const int64_t count = i1 - i < kLanes ? i1 - i : kLanes;
        if (terms) {
            unsigned with_terms = 0;
            for (int q = 0; q < count; ++q) with_terms |= unsigned(terms[i + q] != 0) << q;
            if (__builtin_popcount(with_terms) <= kScatteredRows) {
                store_scattered(c, ldc, rows, ld, i0, i, count, with_terms, n);
                continue;
            }
        }
        for (int64_t j = 0; j < n; j += kLanes) {
            const int64_t cols = n - j < kLanes ? n - j : kLanes;
            V r[kLanes];
            load_transposed(r, rows + (i - i0) * ld + j, ld, count, cols);
#pragma GCC unroll 16
            for (int u = 0; u < kLanes; ++u)
                if (u < cols) S::store_first(c + (j + u) * ldc + i, r[u], count);
        }
    }
}

// B's panels, their rows TermLists::b_step apart: packed (pack_panels), the panel of column j0 at
// base + j0 / kPanel * k * kPanel, or B itself, row-major (in_place), at base + j0.
struct BPanels {
    const float* base;
    int64_t k;
    bool in_place;
    const float* at(int64_t j0) const { return in_place ? base + j0 : base + j0 / kPanel * k * kPanel; }
};

// Whether a transposed C's product reads B (k, n) where it lies instead of packing it: B row-major,
// a panel's k rows at most half of L1 (16 KiB: k <= 128), their starts spread over at least 16 of
// a 4 KiB page's 64 lines (L1's sets), so that they share no few sets (784 floats: all 64; 256
// floats: 4, packed), and B's offsets within the 32 bits of a term's entry. The packing's copy was
// 3-4% of the 784-128-10 MLP's epoch on one thread (Zen 4); a scan for non-finite values, which
// the packing made, replaces it. A longer panel in place is slower than packed, its rows spread
// over pages the prefetchers do not follow: the Dense pass at 1024x784x256 took 1.1x the time.
bool reads_b_in_place(int64_t b_rs, int64_t b_cs, int64_t k, int64_t n) {
    constexpr int64_t kPage = 4096, kMostBytesInStep = 256, kMostPanelBytes = 16384;
    return b_cs == 1 && n >= kPanel && k * kPanel * int64_t(sizeof(float)) <= kMostPanelBytes &&
           k * b_rs + n < (int64_t(1) << 31) && std::gcd(b_rs * int64_t(sizeof(float)), kPage) <= kMostBytesInStep;
}

// A transposed C stored a panel at a time: C(i, j) at c[j*ldc + i], rows [i0, i1) computed into
// `block` (i1 - i0 rows of kPanel floats, which stays in L1) and stored from there. c == nullptr:
// C is stored row-major instead. terms: as store_transposed takes it.
struct PanelStore {
    float* c = nullptr;
    int64_t ldc = 0;
    float* block = nullptr;
    int64_t i0 = 0, i1 = 0;
    const int64_t* terms = nullptr;
};

// C (m, n) rows of groups [h0, h1) (of kGroup rows of `order`, each padded to steps[g - h0]),
// on B's panels [q0, q1), panel by panel: each panel stays in L1 while the groups read it.
// Row-major into `rows`, or with `store` (and then [h0, h1) all the groups of its rows) transposed
// through its block: computing all of C row-major first wrote and read back 400 KB for the
// 784-128-10 MLP's dw, more than L2 holds beside the step's other data.
template <class Fetch>
void run_panels(float* rows, const TermLists& l, const int64_t* order, const int64_t* steps, int64_t h0, int64_t h1,
                int64_t q0, int64_t q1, const BPanels& b, int64_t m, int64_t n, int64_t k, const float* bias,
                Activation act, const PanelStore& store) {
    // Where a row with no terms is all +0 (store.terms), a group of such rows (the dead units of
    // dw^T) has its rows of the block zeroed once instead of computed for every panel.
    const bool skip_empty = store.c && store.terms;
    for (int64_t g = h0; skip_empty && g < h1; ++g)
        for (int r = 0; steps[g - h0] == 0 && r < group_rows(g, m); ++r) {
            float* block_row = store.block + (order[g * kGroup + r] - store.i0) * kPanel;
            for (int v = 0; v < kVectors; ++v) S::store(block_row + v * kLanes, S::zero());
        }
    const int64_t j_end = q1 * kPanel < n ? q1 * kPanel : n;
    for (int64_t j0 = q0 * kPanel; j0 < j_end; j0 += kPanel) {
        const int64_t cols = n - j0 < kPanel ? n - j0 : kPanel;
        // B in place (always stored through the block): a ragged last panel runs as the whole panel
        // that ends at B's last column, whose loads stay inside B's rows, and only its last `cols`
        // columns are stored. Each column's sums are the same wherever it runs.
        const int64_t jb = b.in_place && cols < kPanel ? n - kPanel : j0;
        const RowsOut out = store.c ? RowsOut{store.block, kPanel, store.i0, jb} : RowsOut{rows, n, 0, 0};
        for (int64_t g = h0; g < h1; ++g)
            if (!skip_empty || steps[g - h0] != 0)
                run_group<Fetch>(group_rows(g, m), out, l, order + g * kGroup, steps[g - h0], k, b.at(jb), jb,
                                 jb == j0 ? cols : kPanel, bias, act);
        if (store.c)
            store_transposed(store.c + j0 * store.ldc, store.ldc, store.block + (j0 - jb), kPanel, store.i0,
                             store.i1, cols, store.terms);
    }
}

// compress_row for A's rows [i0, i1) when A is stored transposed, row-major with rows lda apart
// (A(i, p) = a[p*lda + i]): kLanes x kLanes blocks are transposed in registers and each of their
// rows compressed from there, so that no transposed copy of A is written and read back (the
// 256 x 256 weight gradient at 35% nonzeros: 88-92 us instead of 94-98, Zen 5). The last block of a
// ragged range loads only its rows; the columns past the last whole block go a lane at a time.
void compress_transposed(const TermLists& l, const float* a, int64_t lda, int64_t i0, int64_t i1, int64_t k) {
    const int64_t p_end = k / kLanes * kLanes;
    for (int64_t i = i0; i < i1; i += kLanes) {
        const int rows = i1 - i < kLanes ? int(i1 - i) : kLanes;
        uint64_t* out[kLanes];
        int64_t count[kLanes] = {};
        for (int q = 0; q < rows; ++q) out[q] = l.term + (i + q) * l.stride;
        for (int64_t p = 0; p < p_end; p += kLanes) {
            V r[kLanes];
            load_transposed(r, a + p * lda + i, lda, kLanes, rows);
#pragma GCC unroll 16
            for (int q = 0; q < kLanes; ++q)
                if (q < rows)
                    count[q] += S::store_terms(out[q] + count[q], r[q], S::nonzero(r[q]), int32_t(p * l.b_step),
                                                 int32_t(l.b_step));
        }
        for (int q = 0; q < rows; ++q) {
            for (int64_t p = p_end; p < k; ++p) {  // one lane at a time; count + kLanes stays in the stride
                const V x = S::load_first(a + p * lda + i + q, 1);
                count[q] += S::store_terms(out[q] + count[q], x, S::nonzero(x), int32_t(p * l.b_step), int32_t(l.b_step));
            }
            l.count[i + q] = count[q];
        }
    }
}

// order[0 .. i1 - i0) = rows [i0, i1) by increasing count (a counting sort: counts are at most k).
void sort_by_count(int64_t* order, const TermLists& l, int64_t i0, int64_t i1, int64_t k) {
    int64_t* start = static_cast<int64_t*>(workspace(kSparseHistogram, sizeof(int64_t) * (k + 2)));  // this thread's
    for (int64_t c = 0; c <= k + 1; ++c) start[c] = 0;
    for (int64_t i = i0; i < i1; ++i) ++start[l.count[i] + 1];
    for (int64_t c = 1; c <= k + 1; ++c) start[c] += start[c - 1];
    for (int64_t i = i0; i < i1; ++i) order[start[l.count[i]]++] = i;
}

// A's rows [i0, i1) as term lists in l (A row-major, or transposed: A(i, p) = a[p*a_cs + i]), and
// order[i0 .. i1) those rows by increasing count. Rows of like length then run together, so that
// little padding is needed: any grouping gives the same bits, each row's sum being its own.
void compress_and_sort(const TermLists& l, int64_t* order, const float* a, int64_t a_rs, int64_t a_cs,
                       bool transposed, int64_t i0, int64_t i1, int64_t k) {
    if (transposed) compress_transposed(l, a, a_cs, i0, i1, k);
    else for (int64_t i = i0; i < i1; ++i) compress_row(l, i, a + i * a_rs, k);
    sort_by_count(order + i0, l, i0, i1, k);
}

// C's groups [g0, g1) of `order` on B's panels [q0, q1), kRun groups at a time: their lists padded
// (pad_group), then their products panel by panel (run_panels; store: as it takes it).
void run_groups(float* rows, const TermLists& l, const int64_t* order, int64_t g0, int64_t g1, int64_t q0,
                int64_t q1, const BPanels& b, int64_t m, int64_t n, int64_t k, const float* bias, Activation act,
                const PanelStore& store) {
    const bool by_loads = sparse_terms_by_loads();  // at AVX2 both ways are one (gemm/sparse_simd.h)
    int64_t steps[kRun];                            // per group of a run
    for (int64_t h0 = g0; h0 < g1; h0 += kRun) {
        const int64_t h1 = h0 + kRun < g1 ? h0 + kRun : g1;
        int64_t full = 0;
        for (int64_t g = h0; g < h1; ++g) {
            steps[g - h0] = pad_group(l, order + g * kGroup, group_rows(g, m), k);
            full += steps[g - h0] == k;
        }
        if (full) note_full_groups(full);
        if (by_loads) run_panels<S::EntryLoads>(rows, l, order, steps, h0, h1, q0, q1, b, m, n, k, bias, act, store);
        else run_panels<S::EntryRegisters>(rows, l, order, steps, h0, h1, q0, q1, b, m, n, k, bias, act, store);
    }
}

bool sparse_float_product(float* c, int64_t c_rs, int64_t c_cs, const float* a, int64_t a_rs, int64_t a_cs,
                          const float* b, int64_t b_rs, int64_t b_cs, const float* bias, int64_t m, int64_t n,
                          int64_t k, Activation act) {
    const bool row_major = a_cs == 1, transposed = a_rs == 1 && !row_major;
    if (!sparse_inputs_enabled() || !(row_major || transposed) || (b_cs != 1 && b_rs != 1) ||
        (c_cs != 1 && c_rs != 1) || (c_cs == 1 && c_rs != n) || m < kMinSide || n < kMinColumns || k < kMinSide ||
        act == Activation::softmax || (k + kLanes) * kPanel >= (int64_t(1) << 31))
        return false;
    const double density = row_major ? sampled_density(a, m, k, a_rs) : sampled_density(a, k, m, a_cs);
    if (density > max_density()) return false;
    // A row with no terms is all +0 when nothing is added to its sum or done to it after: then a
    // transposed C's blocks of such rows cost little to store (store_scattered)
    const bool zero_rows = bias == nullptr && act == Activation::linear;
    double store_share = 0.0;  // of a transposed C's blocks, those transposed in registers
    if (c_cs != 1) store_share = zero_rows && transposed ? transposed_share(a, a_cs, m, k) : 1.0;
    const int64_t store_terms = num_threads() > 1 ? S::kTransposedStoreTermsThreaded : S::kTransposedStoreTerms;
    const double limit = max_density() * (1.0 - double(store_terms) * store_share / double(k));
    if (density > limit) return false;

    const int64_t stride = k + kLanes, panels = (n + kPanel - 1) / kPanel;
    const int64_t groups = (m + kGroup - 1) / kGroup;
    std::atomic<bool> finite{true};
    auto packed_panels = [&] {  // the packed copy of B, only where B is not read in place
        return static_cast<float*>(workspace(kSparsePanels, sizeof(float) * panels * k * kPanel));
    };
    // A transposed C (dw = (dz^T x)^T) whose groups all run at once is computed a panel at a time
    // into a block and stored transposed from there (see run_panels), split over threads by B's
    // panels: each thread packs its own panels (or scans them for non-finite values, B read in
    // place: reads_b_in_place), makes lists of all of A's rows (a small share: k entries a row
    // against density * k * n multiply-adds) and stores whole rows of c, where a split by A's rows
    // had threads share each row of c (dw's units). A stored element is counted as a work unit: the
    // 784-128-10 MLP's dw at batch 32 (a tenth of the units alive) is mostly its 400 KB of stores.
    if (c_cs != 1 && groups <= kRun && finishes_in_registers(act)) {
        const int64_t panel_cost =
            int64_t(density * double(m * k * kPanel)) / kMultiplyAddsPerWorkUnit + m * kPanel + 1;
        const bool in_place = reads_b_in_place(b_rs, b_cs, k, n);
        float* packed = in_place ? nullptr : packed_panels();
        const BPanels panels_of_b{in_place ? b : packed, k, in_place};
        parallel_for(panels, 1, panel_cost, [&](int64_t q0, int64_t q1) {
            const int64_t j0 = q0 * kPanel, cols = (q1 * kPanel < n ? q1 * kPanel : n) - j0;
            const bool ok = in_place ? all_finite_block(b + j0, b_rs, k, cols)
                                     : pack_panels(packed + j0 * k, b + j0 * b_cs, b_rs, b_cs, k, cols, 0, k);
            if (!ok) {
                finite.store(false, std::memory_order_relaxed);
                return;
            }
            const TermLists l{static_cast<uint64_t*>(workspace(kSparseTerms, sizeof(uint64_t) * m * stride)),
                              static_cast<int64_t*>(workspace(kSparseCounts, sizeof(int64_t) * m)), stride,
                              in_place ? b_rs : kPanel};
            int64_t* order = static_cast<int64_t*>(workspace(kSparseOrder, sizeof(int64_t) * m));
            compress_and_sort(l, order, a, a_rs, a_cs, transposed, 0, m, k);
            const PanelStore store{c, c_cs, static_cast<float*>(workspace(kSparseRows, sizeof(float) * m * kPanel)),
                                   0, m, zero_rows ? l.count : nullptr};
            run_groups(c, l, order, 0, groups, q0, q1, panels_of_b, m, n, k, bias, act, store);
        });
        if (!finite.load()) return false;  // the GEMM the caller runs then writes all of C
        note_sparse_product();
        return true;
    }
    const TermLists l{static_cast<uint64_t*>(workspace(kSparseTerms, sizeof(uint64_t) * m * stride)),
                      static_cast<int64_t*>(workspace(kSparseCounts, sizeof(int64_t) * m)), stride, kPanel};
    int64_t* order = static_cast<int64_t*>(workspace(kSparseOrder, sizeof(int64_t) * m));
    // Otherwise C is computed row-major, into a scratch C first when it is stored transposed.
    float* packed = packed_panels();
    float* rows = c_cs == 1 ? c : static_cast<float*>(workspace(kSparseRows, sizeof(float) * m * n));
    const int64_t* terms = zero_rows ? l.count : nullptr;
    // Split by B's rows, a copy's cost an element, on two threads from 256 x 256 up. In a training
    // step the weights come from the other core's cache in part (the optimizer's update splits
    // the tensors' concatenation): one thread packing them all pulled those lines across alone
    // (31.9 us at 256 x 256 against 7.8 on one thread, session 37) while the other waited.
    // Tabular Keras model, 2 threads, Zen 4: 0.976x the epoch's time (median of 16 alternated
    // processes).
    parallel_for(k, 1, n, [&](int64_t p0, int64_t p1) {
        if (!pack_panels(packed, b, b_rs, b_cs, k, n, p0, p1)) finite.store(false, std::memory_order_relaxed);
    });
    if (!finite.load()) return false;  // 0 * inf or 0 * NaN would be NaN, not a skippable +-0
    const int64_t cost = int64_t(density * double(kGroup * k * n)) / kMultiplyAddsPerWorkUnit + 1;
    parallel_for(groups, 1, cost, [&](int64_t g0, int64_t g1) {
        const int64_t i0 = g0 * kGroup, i1 = g1 * kGroup < m ? g1 * kGroup : m;
        compress_and_sort(l, order, a, a_rs, a_cs, transposed, i0, i1, k);
        run_groups(rows, l, order, g0, g1, 0, panels, BPanels{packed, k, false}, m, n, k, bias, act, PanelStore{});
        if (!finishes_in_registers(act)) epilogue(rows + i0 * n, n, int(i1 - i0), int(n), bias, act);
        if (rows != c) store_transposed(c, c_cs, rows + i0 * n, n, i0, i1, n, terms);
    });
    note_sparse_product();
    return true;
}

}  // namespace
#endif

template <class T>
bool sparse_a_product(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b,
                      int64_t b_rs, int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act) {
#if defined(NNFAST_SPARSE_SIMD)
    if constexpr (std::is_same<T, float>::value)
        return sparse_float_product(c, c_rs, c_cs, a, a_rs, a_cs, b, b_rs, b_cs, bias, m, n, k, act);
#endif
    (void)c, (void)c_rs, (void)c_cs, (void)a, (void)a_rs, (void)a_cs, (void)b, (void)b_rs, (void)b_cs, (void)bias,
        (void)m, (void)n, (void)k, (void)act;
    return false;
}

template bool sparse_a_product<float>(float*, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t,
                                      int64_t, const float*, int64_t, int64_t, int64_t, Activation);
template bool sparse_a_product<double>(double*, int64_t, int64_t, const double*, int64_t, int64_t, const double*,
                                       int64_t, int64_t, const double*, int64_t, int64_t, int64_t, Activation);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
