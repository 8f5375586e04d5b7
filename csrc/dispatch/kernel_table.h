// The kernel table: one instance per ISA level, each compiled from the same sources with that
// level's flags. dispatch.cpp picks one at import. No Python types here.
#pragma once
#include <cstdint>

#include "kernels/optim_types.h"

namespace nnfast {

enum class Activation : int { linear = 0, relu, leaky_relu, sigmoid, tanh, softmax };

// Negative-side slope of leaky_relu: Keras' default for the "leaky_relu" activation string.
constexpr double kLeakyReluSlope = 0.2;

template <class T>
struct KernelSet {
    // y (rows, cols) = act(z (rows, cols)); softmax normalises each row. y may be z (in place).
    void (*activation_forward)(T* y, const T* z, int64_t rows, int64_t cols, Activation act);
    // dz (rows, cols) = dL/dz from the activated output y (rows, cols) and dy (rows, cols).
    // dz may be y or dy (in place).
    void (*activation_backward)(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols,
                                Activation act);
    // Fused optimizer steps over `count` tensors (DESIGN.md's update rules; one pass per element:
    // param, grad and state read once, param and state written once).
    // sgd state: {momentum buffer}; adagrad: {accumulator}; rmsprop: {sq_avg, grad_avg, momentum
    // buffer}; adam: {exp_avg, exp_avg_sq, max_exp_avg_sq}. Unused slots are null.
    void (*sgd_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*adagrad_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*rmsprop_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*adam_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
};

struct KernelTable {
    const char* isa;                // level name: generic, avx2, avx512, neon
    const char* compiled_features;  // SIMD features the compiler targeted for this copy
    KernelSet<float> f32;
    KernelSet<double> f64;
    // Limit probes (float only): rw[k] (n) += c * ro (n) for k < nrw <= 4, one pass; and `iters` rounds of
    // 128 independent float multiply-adds on each of `threads` threads.
    void (*stream_inplace)(float* const* rw, int64_t nrw, const float* ro, int64_t n, float c);
    float (*fma_loop)(int64_t iters, int threads);
};

template <class T> const KernelSet<T>& kernels_of(const KernelTable& t);
template <> inline const KernelSet<float>& kernels_of<float>(const KernelTable& t) { return t.f32; }
template <> inline const KernelSet<double>& kernels_of<double>(const KernelTable& t) { return t.f64; }

}  // namespace nnfast
