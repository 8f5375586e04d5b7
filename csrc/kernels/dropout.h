// Dropout kernels of one ISA level, and the random stream they draw from.
#pragma once
#include <cstdint>

namespace nnfast {

// The 53 random bits of element i of the stream `seed`: SplitMix64 of seed + (i + 1) * golden
// ratio, top 53 bits. Element i's uniform in [0, 1) is dropout_bits * 2^-53
// (nnfast.reference.dropout_uniform is the same function in NumPy).
static inline uint64_t dropout_bits(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z >> 11;
}

// The smallest 53-bit value kept at `rate`: bits * 2^-53 >= rate exactly when bits >= this
// (rate * 2^53 is exact, and bits are whole numbers), so the kernel compares integers and the
// loop vectorizes (no int-to-double conversion per element).
static inline uint64_t dropout_keep_threshold(double rate) {
    const double scaled = rate * 9007199254740992.0;
    const uint64_t whole = uint64_t(scaled);
    return double(whole) < scaled ? whole + 1 : whole;
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
void dropout_forward_range(T* y, uint8_t* mask, const T* x, int64_t b, int64_t e, T scale, uint64_t threshold,
                           uint64_t seed, uint8_t off = kGatePass) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
        const bool keep = dropout_bits(seed, uint64_t(i)) >= threshold;
        const T v = x[i];  // y may be x
        mask[i] = keep ? (v > T(0) ? kGatePass : off) : kGateOff;
        y[i] = keep ? v * scale : T(0);
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
