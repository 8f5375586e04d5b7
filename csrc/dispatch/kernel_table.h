// The kernel table: one instance per ISA level, each compiled from the same sources with that
// level's flags (kernel_table.cpp beside this file fills it); dispatch.cpp picks one at import.
// No Python types here.
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {

template <class T>
struct KernelSet {
    // y (rows, cols) = act(z (rows, cols)); softmax normalises each row. y may be z (in place).
    void (*activation_forward)(T* y, const T* z, int64_t rows, int64_t cols, Activation act);
    // dz (rows, cols) = dL/dz from the activated output y (rows, cols) and dy (rows, cols).
    // dz may be y or dy (in place).
    void (*activation_backward)(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols,
                                Activation act);
    // C (m, n) = act(A (m, k) B (k, n) + bias (n)) with C(i, j) = c[i*c_rs + j*c_cs],
    // A(i, p) = a[i*a_rs + p*a_cs], B(p, j) = b[p*b_rs + j*b_cs] (transposes are stride swaps);
    // bias (or null) and act (element-wise) need c_cs == 1. c must not overlap a or b.
    void (*gemm)(T* c, int64_t c_rs, int64_t c_cs, const T* a, int64_t a_rs, int64_t a_cs, const T* b,
                 int64_t b_rs, int64_t b_cs, const T* bias, int64_t m, int64_t n, int64_t k, Activation act);
    // The blocking gemm uses for T at this level (tile and cache blocks).
    GemmBlocking (*gemm_blocking)();
    // y (m, n) = act(x (m, k) @ w (k, n) + b (n)); b may be null.
    void (*dense_forward)(T* y, const T* x, const T* w, const T* b, int64_t m, int64_t k, int64_t n,
                          Activation act);
    // dw (k, n), db (n) (or null), dx (m, k) (or null) from x, w, the output y (m, n) and dy (m, n).
    void (*dense_backward)(T* dx, T* dw, T* db, const T* x, const T* w, const T* y, const T* dy,
                           int64_t m, int64_t k, int64_t n, Activation act);
    // Mean loss of pred (n) against target (n); grad (n) = dloss/dpred. kind is a point-wise loss;
    // param its delta or label smoothing (kernels/losses.h).
    double (*pointwise_loss)(T* grad, const T* pred, const T* target, int64_t n, Loss kind, double param);
    // Mean over rows of a row-wise loss (is_row_loss, softmax_cross_entropy included) of pred (rows,
    // cols) against labels (rows) in [0, cols) or, when labels is null, target (rows, cols);
    // grad (rows, cols) = its gradient.
    double (*row_loss)(T* grad, const T* pred, const int64_t* labels, const T* target, int64_t rows, int64_t cols,
                       Loss kind, double param);
    // sum_i weights[i] * loss_i / rows over the rows of pred (rows, cols) against labels (rows) or, when
    // labels is null, target (rows, cols) (kernels/losses.h): Keras's sample-weighted loss value.
    double (*weighted_loss)(const T* pred, const int64_t* labels, const T* target, const T* weights, int64_t rows,
                            int64_t cols, Loss kind, double param);
    // y (n) = x (n) / (1 - rate) where uniform(seed, i) >= rate, else 0; mask (n) = kept.
    void (*dropout_forward)(T* y, uint8_t* mask, const T* x, int64_t n, double rate, uint64_t seed);
    // dx (n) = dy (n) / (1 - rate) where mask (n), else 0.
    void (*dropout_backward)(T* dx, const T* dy, const uint8_t* mask, int64_t n, double rate);
    // dw (rows, cols) = the rows of dy (n, cols) summed into the rows indices (n) name, in order
    // (kernels/embedding.h): the Embedding layer's gradient.
    void (*embedding_backward)(T* dw, const T* dy, const int64_t* indices, int64_t n, int64_t rows, int64_t cols);
    // Batch normalization of x (rows, cols) per column (kernels/normalization.h): y (rows, cols);
    // mean, inv_std (cols) the statistics used; in training the batch's, with moving_mean and
    // moving_var (cols) updated in place. gamma, beta (cols) may be null.
    void (*batch_norm_forward)(T* y, T* mean, T* inv_std, T* moving_mean, T* moving_var, const T* x,
                               const T* gamma, const T* beta, int64_t rows, int64_t cols, bool training,
                               double momentum, double epsilon);
    // dx (rows, cols), dgamma and dbeta (cols, or null) from x, gamma (or null), mean, inv_std (cols), dy.
    void (*batch_norm_backward)(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean,
                                const T* inv_std, const T* dy, int64_t rows, int64_t cols, bool training);
    // Batch normalization, then an activation (linear, relu, leaky_relu) and, with a mask, dropout,
    // in one pass over the rows (kernels/normalization.h): the tail's output y and, with dropout,
    // the gates in mask (rows, cols). Same bits as the three kernels.
    void (*batch_norm_tail_forward)(T* y, uint8_t* mask, T* mean, T* inv_std, T* moving_mean, T* moving_var,
                                    const T* x, const T* gamma, const T* beta, int64_t rows, int64_t cols,
                                    bool training, double momentum, double epsilon, Activation act, double rate,
                                    uint64_t seed);
    // Its backward from dy (rows, cols): dz (rows, cols) = dL/d(normalized x) from the gates or, without
    // dropout, the activation's output act_y; dx, dgamma, dbeta.
    void (*batch_norm_tail_backward)(T* dx, T* dgamma, T* dbeta, T* dz, const T* x, const T* gamma, const T* mean,
                                     const T* inv_std, const T* act_y, const uint8_t* mask, const T* dy,
                                     int64_t rows, int64_t cols, bool training, Activation act, double rate);
    // Layer normalization of each row of x (rows, cols): y (rows, cols), mean and inv_std (rows).
    void (*layer_norm_forward)(T* y, T* mean, T* inv_std, const T* x, const T* gamma, const T* beta,
                               int64_t rows, int64_t cols, double epsilon);
    // dx (rows, cols), dgamma and dbeta (cols, or null) from x, gamma (or null), mean, inv_std (rows), dy.
    void (*layer_norm_backward)(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean,
                                const T* inv_std, const T* dy, int64_t rows, int64_t cols);
    // Keras's Normalization of x (rows, cols) with mean, variance (cols) (kernels/normalization.h):
    // y (rows, cols); backward dx (rows, cols) from dy (rows, cols). invert: Keras's invert=True.
    void (*normalization_forward)(T* y, const T* x, const T* mean, const T* variance, int64_t rows, int64_t cols,
                                  bool invert);
    void (*normalization_backward)(T* dx, const T* dy, const T* variance, int64_t rows, int64_t cols, bool invert);
    // true when no element of v (n) is NaN or +-Inf.
    bool (*all_finite)(const T* v, int64_t n);
    // Fused optimizer steps over `count` tensors (docs/design.md's update rules; one pass per element:
    // param, grad and state read once, param and state written once).
    // sgd state: {momentum buffer}; adagrad: {accumulator}; rmsprop: {sq_avg, grad_avg, momentum
    // buffer}; adam: {exp_avg, exp_avg_sq, max_exp_avg_sq}; adamax: {exp_avg, exp_inf}; nadam and
    // radam: {exp_avg, exp_avg_sq}; adadelta: {square_avg, acc_delta}; lion: {exp_avg}; ftrl:
    // {accumulator, linear}. Unused slots are null.
    void (*sgd_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*adagrad_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*rmsprop_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*adam_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*adamax_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*nadam_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*radam_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*adadelta_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*lion_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    void (*ftrl_update)(const OptimTensor<T>* tensors, int64_t count, const OptimStep& s);
    // changed (cols) = 1 where watch[j] and column j of w (rows, cols) differs bit for bit from that of
    // snapshot (rows, cols); then snapshot's column j = w's where capture[j]; gathered (rows, m) = the
    // columns picked (m) of w, in the same pass (kernels/columns.h).
    void (*column_changes)(uint8_t* changed, T* snapshot, T* gathered, const T* w, const uint8_t* watch,
                           const uint8_t* capture, const int64_t* picked, int64_t rows, int64_t cols, int64_t m);
    // out (rows, m) = the columns picked (m) of w (rows, n).
    void (*gather_columns)(T* out, const T* w, const int64_t* picked, int64_t rows, int64_t n, int64_t m);
};

struct KernelTable {
    const char* isa;                // level name: generic, avx2, avx512, neon
    const char* compiled_features;  // SIMD features the compiler targeted for this copy
    KernelSet<float> f32;
    KernelSet<double> f64;
    // The GEMM's register tiles built for this level, and the choice among them (gemm/gemm.h): the
    // tile of `rows` rows, or 0 for this CPU's; false when the level has no such tile.
    GemmTiles (*gemm_tiles)();
    bool (*use_gemm_tile)(int rows);
    // Limit probes (float only): rw[k] (n) += c * ro (n) for k < nrw <= 4, one pass; and `iters` rounds of
    // 128 independent float multiply-adds on each of `threads` threads.
    void (*stream_inplace)(float* const* rw, int64_t nrw, const float* ro, int64_t n, float c);
    float (*fma_loop)(int64_t iters, int threads);
};

template <class T> const KernelSet<T>& kernels_of(const KernelTable& t);
template <> inline const KernelSet<float>& kernels_of<float>(const KernelTable& t) { return t.f32; }
template <> inline const KernelSet<double>& kernels_of<double>(const KernelTable& t) { return t.f64; }

// The update kernel of an optimizer kind (every kind has one: no fallback).
template <class T>
auto update_kernel(const KernelSet<T>& k, OptimizerKind kind) -> decltype(k.sgd_update) {
    switch (kind) {
    case OptimizerKind::sgd: return k.sgd_update;
    case OptimizerKind::adagrad: return k.adagrad_update;
    case OptimizerKind::rmsprop: return k.rmsprop_update;
    case OptimizerKind::adam: return k.adam_update;
    case OptimizerKind::adamax: return k.adamax_update;
    case OptimizerKind::nadam: return k.nadam_update;
    case OptimizerKind::radam: return k.radam_update;
    case OptimizerKind::adadelta: return k.adadelta_update;
    case OptimizerKind::lion: return k.lion_update;
    case OptimizerKind::ftrl: return k.ftrl_update;
    }
    return nullptr;  // unreachable: the bindings make only the kinds above
}

}  // namespace nnfast
