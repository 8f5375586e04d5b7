// Dropout kernels of one ISA level, and the random stream they draw from.
#pragma once
#include <cstdint>

namespace nnfast {

// The stream of a call is keyed once per 2^32 elements (in practice once): SplitMix64 of
// seed + (block + 1) * golden ratio gives an odd multiplier and an offset.
struct DropoutKey {
    uint32_t mul, add;
};

static inline DropoutKey dropout_key(uint64_t seed, uint64_t block) {
    uint64_t z = seed + (block + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return DropoutKey{uint32_t(z >> 32) | 1u, uint32_t(z)};
}

// The 32 random bits of the element whose index has low 32 bits `low`: the keyed affine map of the
// index (a bijection of 32-bit words), then Wellons' lowbias32 finalizer. Element i's uniform in
// [0, 1) is these bits * 2^-32 (nnfast.reference.dropout_bits is the same function in NumPy).
// 32-bit multiplies are one instruction per vector at every level; SplitMix64's 64-bit ones were
// emulated with three at AVX2, and the mask cost a dropout layer ten times its other work.
static inline uint32_t dropout_bits(uint32_t mul, uint32_t add, uint32_t low) {
    uint32_t z = low * mul + add;
    z ^= z >> 16;
    z *= 0x7FEB352Du;
    z ^= z >> 15;
    z *= 0x846CA68Bu;
    z ^= z >> 16;
    return z;
}

// The smallest 32-bit value kept at `rate`: bits * 2^-32 >= rate exactly when bits >= this, so the
// kernel compares integers. A rate above 1 - 2^-32 keeps the value 2^32 - 1 (a chance of 2^-32,
// the stream's resolution) rather than overflow.
static inline uint32_t dropout_keep_threshold(double rate) {
    const double scaled = rate * 4294967296.0;
    const uint64_t whole = uint64_t(scaled);
    const uint64_t t = double(whole) < scaled ? whole + 1 : whole;
    return t > 0xFFFFFFFFull ? 0xFFFFFFFFu : uint32_t(t);
}

namespace NNFAST_ISA_NS {
namespace {

// The factor kept values are scaled by: 1 / (1 - rate), rounded once to T.
template <class T>
T dropout_scale(double rate) {
    return T(1.0 / (1.0 - rate));
}

// The element loops of the dropout kernels (shared with the fused batch-norm tail,
// normalization.h). They take everything by value: the uint8_t mask may alias any memory, so
// values read through a pointer (a lambda's captures) would be reloaded per element and the loop
// would not vectorize.

// The gates a forward stores in the mask, the factor its backward applies to dy * scale: 0 where
// dropped, 1 where kept. A batch-norm tail that ends in a dropout (normalization.h) also folds its
// activation's derivative in, so that its backward needs no activation output: a kept element whose
// activation output is not positive gets the activation's `off` gate (0 after a relu, 2 after a
// leaky_relu: slope * dy * scale).
constexpr uint8_t kGateOff = 0, kGatePass = 1, kGateSlope = 2;

// y[b:e], mask[b:e] of dropout_forward (scale = dropout_scale, threshold = dropout_keep_threshold);
// `off` is the gate of kept elements of x <= 0 (or NaN), kGatePass for the plain layer.
template <class T>
void dropout_forward_range(T* y, uint8_t* mask, const T* x, int64_t b, int64_t e, T scale, uint32_t threshold,
                           uint64_t seed, uint8_t off = kGatePass) {
    // One key per 2^32 elements; pieces of at most 2^30, so that the index runs in 32-bit lanes.
    for (int64_t i0 = b; i0 < e;) {
        const uint64_t block = uint64_t(i0) >> 32;
        int64_t i1 = i0 + (int64_t(1) << 30) < e ? i0 + (int64_t(1) << 30) : e;
        if (i1 > int64_t((block + 1) << 32)) i1 = int64_t((block + 1) << 32);
        const DropoutKey key = dropout_key(seed, block);
        const uint32_t mul = key.mul, add = key.add, low0 = uint32_t(i0);
        const int count = int(i1 - i0);
        const T* xs = x + i0;
        T* ys = y + i0;
        uint8_t* ms = mask + i0;
#pragma omp simd
        for (int k = 0; k < count; ++k) {
            const bool keep = dropout_bits(mul, add, low0 + uint32_t(k)) >= threshold;
            const T v = xs[k];  // y may be x
            ms[k] = keep ? (v > T(0) ? kGatePass : off) : kGateOff;
            ys[k] = keep ? v * scale : T(0);
        }
        i0 = i1;
    }
}

// dx[b:e] of dropout_backward: dy * scale where the gate in mask passes (any non-zero value), times
// `slope` where it is kGateSlope (a fused tail's leaky relu; 1 for the plain layer, whose mask is
// any 0/1 array).
template <class T>
void dropout_backward_range(T* dx, const T* dy, const uint8_t* mask, int64_t b, int64_t e, T scale,
                            T slope = T(1)) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
        const T kept = dy[i] * scale;
        dx[i] = mask[i] == kGateOff ? T(0) : mask[i] == kGateSlope ? slope * kept : kept;
    }
}

}  // namespace

// y (n) = x (n) / (1 - rate) where kept, 0 where dropped; mask (n) = 1 where kept.
template <class T>
void dropout_forward(T* y, uint8_t* mask, const T* x, int64_t n, double rate, uint64_t seed);

// dx (n) = dy (n) / (1 - rate) where mask (n) kept, else 0.
template <class T>
void dropout_backward(T* dx, const T* dy, const uint8_t* mask, int64_t n, double rate);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
