// The vector operations the zero-skipping products (gemm/sparse_a.cpp) are written with, for the
// levels that have them: AVX-512 (compress instructions) and AVX2 (a table of lane permutations).
// NNFAST_SPARSE_SIMD is defined where one exists. Included by per-ISA sources: internal linkage.
#pragma once
#include <cstdint>

#include "common/types.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#define NNFAST_SPARSE_SIMD 1
#endif

namespace nnfast {
namespace {

// The kLanes x kLanes block r[q] lane i = (q, i) transposed in registers: r[i] lane q = (q, i).
// Within each 128-bit lane, 4 x 4 blocks are transposed by two rounds of shuffles (Ops gives
// them); Ops::across_lanes then moves the 128-bit pieces to their rows.
template <class Ops>
void transpose_registers(typename Ops::V* r) {
    constexpr int n = Ops::kLanes;
    typename Ops::V t[n];
#pragma GCC unroll 16
    for (int q = 0; q < n; q += 2) {
        t[q] = Ops::unpacklo(r[q], r[q + 1]);
        t[q + 1] = Ops::unpackhi(r[q], r[q + 1]);
    }
#pragma GCC unroll 16
    for (int q = 0; q < n; q += 4) {
        r[q] = Ops::pairs_lo(t[q], t[q + 2]);
        r[q + 1] = Ops::pairs_hi(t[q], t[q + 2]);
        r[q + 2] = Ops::pairs_lo(t[q + 1], t[q + 3]);
        r[q + 3] = Ops::pairs_hi(t[q + 1], t[q + 3]);
    }
    Ops::across_lanes(r, t);
}

#if defined(__AVX512F__)

struct SparseSimd {
    using V = __m512;
    static constexpr int kLanes = 16;
    static constexpr int kVectors = 2;  // a panel row of 32 floats: a 32 KiB panel (k = 256) stays in L1
    static constexpr int kGroup = 6;    // rows in step: 12 accumulator chains of the 32 registers
    static constexpr double kMaxDensity = 0.4;  // break-even with the GEMM at 256^3: about 0.45
    // where AVX-512 runs as two halves (cpu_halves_avx512): break-even about 0.75 at 256^3 (Zen 4)
    static constexpr double kMaxDensityOnHalves = 0.6;
    // a transposed C's cost per element, in terms, on one thread and on more (gemm/sparse_a.cpp)
    static constexpr int64_t kTransposedStoreTerms = 16, kTransposedStoreTermsThreaded = 32;

    static __mmask16 first(int64_t count) {  // lanes [0, count), count clamped to [0, 16]
        return count >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << (count > 0 ? count : 0)) - 1u);
    }
    static V zero() { return _mm512_setzero_ps(); }
    static V load(const float* p) { return _mm512_loadu_ps(p); }
    static V load_first(const float* p, int64_t count) { return _mm512_maskz_loadu_ps(first(count), p); }
    static void store(float* p, V x) { _mm512_storeu_ps(p, x); }
    static void store_first(float* p, V x, int64_t count) { _mm512_mask_storeu_ps(p, first(count), x); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V broadcast_bits(uint32_t bits) { return _mm512_castsi512_ps(_mm512_set1_epi32(int32_t(bits))); }
    // Two ways to take a row's terms, kTermsPerLoad at a time: the entries loaded a step ahead
    // (load_entries), then their rows of `panel` and their values broadcast (take_terms). The
    // kernel's loop is bound by loads on AMD and by the shuffle port on Intel, where shuffles
    // and 512-bit multiply-adds share port 5 (docs/design.md, "Mostly-zero inputs").
    // Registers: two entries in one 16-byte load, taken apart in registers: 5 loads for 4
    // multiply-adds instead of 6 (Zen 5, 256^3 at 35% nonzeros: forward 87 us instead of 95).
    struct EntryRegisters {
        static constexpr int kTermsPerLoad = 2;
        using Entries = __m128i;
        static Entries load_entries(const uint64_t* entry) {
            return _mm_loadu_si128(reinterpret_cast<const __m128i*>(entry));
        }
        static void take_terms(Entries e, const float* panel, const float** row, V* value) {
            row[0] = panel + uint32_t(_mm_extract_epi32(e, 1));
            row[1] = panel + uint32_t(_mm_extract_epi32(e, 3));
            value[0] = _mm512_broadcastss_ps(_mm_castsi128_ps(e));
            // lane 2's value in every lane: one permutation instead of an unpack and a broadcast
            value[1] = _mm512_permutexvar_ps(_mm512_set1_epi32(2), _mm512_castps128_ps512(_mm_castsi128_ps(e)));
        }
    };
    // Loads: each field by a load of its own, the offset as a scalar and the value broadcast
    // from memory, which take no shuffle (Xeon, 256^3 at 35% nonzeros: forward 0.73x the time of
    // EntryRegisters; on Zen 5 1.3x).
    struct EntryLoads {
        static constexpr int kTermsPerLoad = 2;
        using Entries = const uint64_t*;
        static Entries load_entries(const uint64_t* entry) { return entry; }
        static void take_terms(Entries e, const float* panel, const float** row, V* value) {
            const uint32_t* field = reinterpret_cast<const uint32_t*>(e);  // value bits, offset, ...
#pragma GCC unroll 2
            for (int u = 0; u < kTermsPerLoad; ++u) {
                row[u] = panel + field[2 * u + 1];
                value[u] = _mm512_broadcastss_ps(_mm_load_ss(reinterpret_cast<const float*>(e + u)));
            }
        }
    };
    // lanes that are not zero (a NaN is not; under DAZ a subnormal is)
    static unsigned nonzero(V x) { return _mm512_cmp_ps_mask(x, zero(), _CMP_NEQ_UQ); }
    static unsigned not_finite(V x) { return _mm512_cmp_ps_mask(_mm512_sub_ps(x, x), zero(), _CMP_NEQ_UQ); }
    // relu (+0 below zero, NaN kept) or leaky_relu as the GEMM's tiles finish them; else x
    static V finish(V x, Activation act) {
        const __mmask16 below = _mm512_cmp_ps_mask(x, zero(), _CMP_LT_OQ);
        if (act == Activation::relu) return _mm512_mask_mov_ps(x, below, zero());
        if (act == Activation::leaky_relu) return _mm512_mask_mul_ps(x, below, _mm512_set1_ps(float(kLeakyReluSlope)), x);
        return x;
    }
    // The (value bits, offset0 + lane * step) pairs of the `lanes` (bit mask) of x, in lane order,
    // as 64-bit entries (value low) at out; writes 16 entries whatever their number, returned.
    static int store_terms(uint64_t* out, V x, unsigned lanes, int32_t offset0, int32_t step) {
        const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m512i offsets = _mm512_maskz_compress_epi32(
            __mmask16(lanes), _mm512_add_epi32(_mm512_set1_epi32(offset0), _mm512_mullo_epi32(iota, _mm512_set1_epi32(step))));
        const __m512i values = _mm512_castps_si512(_mm512_maskz_compress_ps(__mmask16(lanes), x));
        const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        _mm512_storeu_si512(out, _mm512_permutex2var_epi32(values, low, offsets));
        _mm512_storeu_si512(out + 8, _mm512_permutex2var_epi32(values, high, offsets));
        return __builtin_popcount(lanes);
    }
    static V unpacklo(V a, V b) { return _mm512_unpacklo_ps(a, b); }
    static V unpackhi(V a, V b) { return _mm512_unpackhi_ps(a, b); }
    static V pairs_lo(V a, V b) { return _mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)); }
    static V pairs_hi(V a, V b) { return _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)); }
    // transpose_registers' last rounds: r[q] holds 4 x 4 blocks of column q % 4 (t is scratch)
    static void across_lanes(V* r, V* t) {
#pragma GCC unroll 16
        for (int h = 0; h < 16; h += 8)
#pragma GCC unroll 4
            for (int q = 0; q < 4; ++q) {
                t[h + q] = _mm512_shuffle_f32x4(r[h + q], r[h + q + 4], 0x88);
                t[h + q + 4] = _mm512_shuffle_f32x4(r[h + q], r[h + q + 4], 0xdd);
            }
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q) {
            r[q] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0x88);
            r[q + 8] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0xdd);
        }
    }
};

#elif defined(__AVX2__)

// For each 8-bit mask, the indices of its set bits in order, one byte each (the lane permutation
// that compresses them to the front).
struct CompressTable {
    uint64_t index[256];
    constexpr CompressTable() : index() {
        for (int mask = 0; mask < 256; ++mask) {
            uint64_t packed = 0;
            int n = 0;
            for (int lane = 0; lane < 8; ++lane)
                if (mask & (1 << lane)) packed |= uint64_t(lane) << (8 * n++);
            index[mask] = packed;
        }
    }
};
constexpr CompressTable kCompressTable{};

struct SparseSimd {
    using V = __m256;
    static constexpr int kLanes = 8;
    static constexpr int kVectors = 4;  // a panel row of 32 floats, as at AVX-512
    static constexpr int kGroup = 3;    // rows in step: 12 accumulator chains of the 16 registers
    static constexpr double kMaxDensity = 0.65;  // break-even at 256^3: about 0.75
    static constexpr double kMaxDensityOnHalves = kMaxDensity;  // AVX2 runs whole everywhere
    // the 784-128-10 MLP's epoch on one thread (Zen 4) with dw = (dz^T x)^T skipping dz's zeros:
    // 1.31x the time at batch 32, 1.08x at 64, 0.98x at 128; so a batch of 64 keeps the GEMM
    static constexpr int64_t kTransposedStoreTerms = 64, kTransposedStoreTermsThreaded = 64;

    static __m256i first(int64_t count) {  // lanes [0, count) all ones
        const int32_t c = count > kLanes ? kLanes : count < 0 ? 0 : int32_t(count);
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static V zero() { return _mm256_setzero_ps(); }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static V load_first(const float* p, int64_t count) { return _mm256_maskload_ps(p, first(count)); }
    static void store(float* p, V x) { _mm256_storeu_ps(p, x); }
    // a whole vector by a plain store: AMD runs a masked store as microcode (Zen 4: the MLP's
    // batch-32 epoch, its dw's blocks of dead units stored as zeros, took 1.4x the time with it)
    static void store_first(float* p, V x, int64_t count) {
        if (count >= kLanes) _mm256_storeu_ps(p, x);
        else _mm256_maskstore_ps(p, first(count), x);
    }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V broadcast_bits(uint32_t bits) { return _mm256_castsi256_ps(_mm256_set1_epi32(int32_t(bits))); }
    // One term's entry at a time: the loop is bound by its multiply-adds here, not its loads or
    // shuffles, so one way serves every CPU.
    struct EntryRegisters {
        static constexpr int kTermsPerLoad = 1;
        using Entries = uint64_t;
        static Entries load_entries(const uint64_t* entry) { return *entry; }
        static void take_terms(Entries e, const float* panel, const float** row, V* value) {
            row[0] = panel + (e >> 32);
            value[0] = broadcast_bits(uint32_t(e));
        }
    };
    using EntryLoads = EntryRegisters;
    static unsigned nonzero(V x) { return unsigned(_mm256_movemask_ps(_mm256_cmp_ps(x, zero(), _CMP_NEQ_UQ))); }
    static unsigned not_finite(V x) {
        return unsigned(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_sub_ps(x, x), zero(), _CMP_NEQ_UQ)));
    }
    static V finish(V x, Activation act) {
        const V below = _mm256_cmp_ps(x, zero(), _CMP_LT_OQ);
        if (act == Activation::relu) return _mm256_blendv_ps(x, zero(), below);
        if (act == Activation::leaky_relu)
            return _mm256_blendv_ps(x, _mm256_mul_ps(_mm256_set1_ps(float(kLeakyReluSlope)), x), below);
        return x;
    }
    // As the AVX-512 one; writes 8 entries.
    static int store_terms(uint64_t* out, V x, unsigned lanes, int32_t offset0, int32_t step) {
        const __m256i order = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(
            &kCompressTable.index[lanes])));
        const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i offsets = _mm256_permutevar8x32_epi32(
            _mm256_add_epi32(_mm256_set1_epi32(offset0), _mm256_mullo_epi32(iota, _mm256_set1_epi32(step))), order);
        const __m256i values = _mm256_castps_si256(_mm256_permutevar8x32_ps(x, order));
        const __m256i low = _mm256_unpacklo_epi32(values, offsets);   // pairs 0, 1 | 4, 5
        const __m256i high = _mm256_unpackhi_epi32(values, offsets);  // pairs 2, 3 | 6, 7
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(low, high, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4), _mm256_permute2x128_si256(low, high, 0x31));
        return __builtin_popcount(lanes);
    }
    static V unpacklo(V a, V b) { return _mm256_unpacklo_ps(a, b); }
    static V unpackhi(V a, V b) { return _mm256_unpackhi_ps(a, b); }
    static V pairs_lo(V a, V b) { return _mm256_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)); }
    static V pairs_hi(V a, V b) { return _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)); }
    // transpose_registers' last round: 128-bit halves to their rows (t is scratch)
    static void across_lanes(V* r, V* t) {
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) {
            t[q] = _mm256_permute2f128_ps(r[q], r[q + 4], 0x20);
            t[q + 4] = _mm256_permute2f128_ps(r[q], r[q + 4], 0x31);
        }
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q) r[q] = t[q];
    }
};

#endif

}  // namespace
}  // namespace nnfast
